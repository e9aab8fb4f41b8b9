package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// setSelect picks an option of a select by value.
func setSelect(t *testing.T, b *testenv.Browser, sel, value string) {
	t.Helper()
	if !testenv.Eval[bool](b, `(function(){const s=document.querySelector(`+"`"+sel+"`"+`); s.value=`+"`"+value+"`"+`; return s.value===`+"`"+value+"`"+`})()`) {
		t.Fatalf("select %s has no option %q", sel, value)
	}
}

// managerSignIn signs the demo manager in, answering the two-factor prompt
// with a code computed from secret at the site's clock.
func managerSignIn(t *testing.T, b *testenv.Browser, s *site, secret string) {
	t.Helper()
	s.Clock.Advance(time.Minute) // a new time step: each code works once
	signIn(b, "manager@demo.example", app.DemoPassword)
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/login/2fa"] button`)
}

// rowCell returns the text of column n (1-based) of the dashboard row of
// the named advocate.
func rowCell(b *testenv.Browser, name string, n int) string {
	return testenv.Eval[string](b, `(function(){for (const tr of document.querySelectorAll("#advocates tbody tr")) {
		if (tr.querySelector("th").textContent.includes(`+"`"+name+"`"+`)) return tr.children[`+string(rune('0'+n-1))+`].textContent.trim() }
		return "row not found" })()`)
}

// TestJourneyCompliance: a manager creates an advocate, records a DBS check
// (not cleared: references missing), adds two verified references and sets
// mandatory training; the advocate completes the mandatory course, the CPD
// entry appears, training is met and the dashboard shows them cleared; the
// clock moves on and the DBS recheck is due soon, then overdue.
func TestJourneyCompliance(t *testing.T) {
	mail := testenv.StartSMTP(t) // the invitation's link is sealed in the outbox: read it as delivered
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "SMTP_URL": mail.URL,
		"LMS_COURSES_DIR":       filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	b := testenv.NewBrowser(t, s.URL)

	// The manager's first sign-in sets up two-factor authentication, by
	// scanning the QR code as an authenticator app would.
	signIn(b, "manager@demo.example", app.DemoPassword)
	secret := secretFromQR(t, b)
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)
	b.Open("/manage")
	clearedBefore := b.Text("#count-cleared") // the demo advocates already cleared

	// Create the advocate.
	b.Open("/manage/advocates/new")
	b.Fill("#f-name", "Zainab Okafor")
	b.Fill("#f-email", "zainab@example.org")
	setSelect(t, b, "#f-profession", "other-advocate")
	setSelect(t, b, "#f-status", "active")
	b.Fill("#f-contract_start", "2026-12-01")
	b.Follow(`form[action="/manage/advocates"] button`)
	b.MustContain("main h1", "Zainab Okafor")
	advocatePath := b.Path()

	// A DBS check: still not cleared, because references are missing.
	b.Click("details:has(#save-dbs) summary")
	setSelect(t, b, "#f-level", "enhanced")
	setSelect(t, b, "#f-role_eligible", "eligible")
	b.Fill("#f-eligibility_reason", "Runs the supervised contact sessions: regulated activity with children")
	b.Click("#f-barred_children")
	setSelect(t, b, "#f-workforce", "child")
	b.Fill("#f-certificate_number", "001234567890")
	b.Fill("#f-issue_date", "2026-11-20")
	b.Fill("#f-original_seen_by", "Maya Manager")
	b.Fill("#f-original_seen_at", "2026-11-21")
	setSelect(t, b, "#f-decision", "clear")
	b.Follow("#save-dbs")
	b.MustContain(".notice", "DBS check recorded")
	b.MustContain("#req-dbs", "Met")
	b.MustContain("#cleared", "Not cleared")
	b.MustContain("#req-references", "0 of 2 satisfactory references")

	// Two references, verified directly.
	for _, referee := range []string{"Jo Brown", "Sam Patel"} {
		b.Click("details:has(#reference-form) summary")
		b.Fill("#f-referee", referee)
		b.Fill("#f-relationship", "Former line manager")
		b.Fill("#f-contact", "referee@example.org")
		b.Fill("#f-received_at", "2026-11-15")
		setSelect(t, b, "#f-outcome", "satisfactory")
		b.Click("#f-verified_directly")
		b.Follow(`#reference-form button[type=submit]`)
		b.MustContain(".notice", "Reference recorded")
	}
	b.MustContain("#req-references", "Met")
	b.MustContain("#req-training", "Missing")

	// Mandatory training: the sample course.
	if !testenv.Eval[bool](b, `document.querySelector("#course-sample-course").checked`) {
		b.Click("#course-sample-course")
	}
	b.Follow(`#training-form button`)
	b.MustContain("#req-training", "Not completed")
	b.Follow(`.signout button`)

	// The advocate chooses a password from the emailed link and passes the course.
	var got []testenv.Mail
	for deadline := time.Now().Add(15 * time.Second); len(got) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got = mail.To("zainab@example.org")
	}
	if len(got) == 0 || !strings.Contains(got[0].Text, "/password/reset?token=") {
		t.Fatalf("no email with a link to choose a password reached the new advocate (%d emails)", len(got))
	}
	link := got[0].Text[strings.Index(got[0].Text, "/password/reset?token="):]
	b.Open(strings.Fields(link)[0])
	b.Fill("#f-password", "orchard violin pebble lantern")
	b.Follow(`form[action="/password/reset"] button`)
	signIn(b, "zainab@example.org", "orchard violin pebble lantern")
	passSampleCourse(t, b)
	b.Open("/my/compliance")
	b.MustContain("#cpd", "Sample course for tests")
	b.MustContain("#req-training", "Met")
	b.MustContain("#cleared", "Cleared for allocation")
	b.Follow(`.signout button`)

	// The dashboard shows them cleared.
	managerSignIn(t, b, s, secret)
	b.Open("/manage")
	if got, want := b.Text("#count-cleared"), fmt.Sprint(atoi(t, clearedBefore)+1); got != want { // Zainab as well
		t.Fatalf("cleared count: %q, want %s (%s before Zainab)", got, want, clearedBefore)
	}
	if got := rowCell(b, "Zainab Okafor", 2); got != "Yes" {
		t.Fatalf("cleared cell: %q", got)
	}
	b.Follow(`.signout button`)

	// Three years on, less a few weeks: the DBS recheck is due soon.
	s.Clock.Advance(time.Date(2029, 10, 15, 9, 0, 0, 0, time.UTC).Sub(s.Clock.Now()))
	managerSignIn(t, b, s, secret)
	b.Open("/manage")
	if got := rowCell(b, "Zainab Okafor", 4); !strings.Contains(got, "Due soon") || !strings.Contains(got, "20 Nov 2029") {
		t.Fatalf("DBS cell in October 2029: %q, want due soon by 20 November 2029", got)
	}
	b.Follow(`.signout button`)

	// After the date: overdue.
	s.Clock.Advance(time.Date(2029, 11, 21, 9, 0, 0, 0, time.UTC).Sub(s.Clock.Now()))
	managerSignIn(t, b, s, secret)
	b.Open("/manage")
	if got := rowCell(b, "Zainab Okafor", 4); !strings.Contains(got, "Overdue") {
		t.Fatalf("DBS cell on 21 November 2029: %q, want overdue", got)
	}
	b.Open(advocatePath)
	b.MustContain("#req-dbs", "Recheck was due by 20 November 2029")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
