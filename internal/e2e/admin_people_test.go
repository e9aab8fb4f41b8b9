package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// peopleFile writes a CSV file of 20 people in the demo partner agency,
// rows 7 and 15 (as a spreadsheet numbers them) wrong, and returns its path.
func peopleFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,email,roles,organisation,advocate\r\n")
	for i := 1; i <= 20; i++ {
		email, org, adv := fmt.Sprintf("worker%02d@example.org", i), "Demo Women's Aid Partnership", "no"
		switch i {
		case 6:
			email = "worker06.example.org" // row 7: no @
		case 14:
			org = "Demo Refuge That Does Not Exist" // row 15
		case 10, 20:
			adv = "yes"
		}
		fmt.Fprintf(&b, "Worker %02d Tester,%s,Learner,%s,%s\r\n", i, email, org, adv)
	}
	path := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var invitationLink = regexp.MustCompile(`https?://[^/\s]+(/invitation\?token=[0-9a-f]+\.[A-Za-z0-9_-]+)`)

// invitationPath waits for the invitation emailed to addr and returns its link's path.
func invitationPath(t *testing.T, mail *testenv.SMTPServer, addr string) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range mail.To(addr) {
			if l := invitationLink.FindStringSubmatch(m.Text); l != nil {
				return l[1]
			}
		}
	}
	t.Fatalf("no invitation reached %s", addr)
	return ""
}

// look checks a page's accessibility and takes its screenshot.
func look(b *testenv.Browser, name string) {
	b.CheckAccessibility()
	b.Screenshot(name)
}

// TestJourneyAdminAddsPeople: an admin uploads a CSV file of 20 people;
// the dry run reports the 2 bad rows and writes nothing; confirming
// creates the other 18 and emails their invitations; one of them chooses
// a password from the emailed link and signs in. The admin adds a person
// with the form, looks at a person's page and finds certificates by name.
// Every new page passes the accessibility check at 1280 and 390 pixels
// wide, and is photographed at both.
func TestJourneyAdminAddsPeople(t *testing.T) {
	mail := testenv.StartSMTP(t)
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "SMTP_URL": mail.URL,
		"LMS_COURSES_DIR":       filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	ctx := context.Background()
	b := testenv.NewBrowser(t, s.URL)
	b.Viewport(1280, 900)
	file := peopleFile(t)

	// The admin's first sign-in sets up two-factor authentication.
	signIn(b, "admin@demo.example", app.DemoPassword)
	secret := secretFromQR(t, b)
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)

	// The upload form, with the template to download.
	b.Open("/admin/users")
	look(b, "users")
	b.Follow("#upload-people")
	b.MustContain("main h1", "Add people from a file")
	look(b, "upload-form")
	if tmpl := string(b.Fetch("/admin/users/upload/template.csv")); !strings.HasPrefix(tmpl, "\uFEFFname,email,roles,organisation,advocate\r\n") {
		t.Fatalf("the template: %q", tmpl)
	}

	// The dry run: two rows reported, nothing written.
	before, err := s.Env.DB.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Upload("#f-file", file)
	b.Follow("#check-upload")
	b.MustContain("#upload-summary", "Nothing has been saved yet")
	b.MustContain("#upload-summary", "18 will be created")
	b.MustContain("#row-problems", "Row 7: the email “worker06.example.org” is not a valid address")
	b.MustContain("#row-problems", "Row 15: the organisation “Demo Refuge That Does Not Exist” is not one of yours")
	look(b, "upload-dry-run")
	if n, _ := s.Env.DB.CountUsers(ctx); n != before {
		t.Fatalf("accounts: %d before the dry run, %d after", before, n)
	}
	for _, m := range mail.Mail() {
		if strings.Contains(strings.Join(m.To, ","), "worker") {
			t.Fatalf("the dry run sent an email to %v", m.To)
		}
	}

	// Confirmed: 18 accounts, each invited.
	b.Follow("#confirm-upload")
	b.MustContain("#upload-summary", "18 people were added and invited")
	b.MustContain("#upload-summary", "2 rows were not added")
	look(b, "upload-confirmed")
	if n, _ := s.Env.DB.CountUsers(ctx); n != before+18 {
		t.Fatalf("accounts after confirming: %d, want %d", n, before+18)
	}
	invitation := invitationPath(t, mail, "worker03@example.org")
	other := invitationPath(t, mail, "worker04@example.org")

	// An advocate from the file: their page, with the invitation pending
	// and the compliance record started.
	b.Follow(`#row-11 td a`) // Worker 10, an advocate
	b.MustContain("main h1", "Worker 10 Tester")
	b.MustContain("#invitation-state", "Pending")
	b.MustContain("#compliance-summary", "Not cleared")
	look(b, "person-invited-advocate")

	// Adding one person with the form: problems first, then done.
	b.Open("/admin/users/new")
	look(b, "person-new")
	b.Fill("#f-name", "Nadia Rahman")
	b.Follow("#add-person")
	b.MustContain(".error-summary", "Enter their email address")
	b.MustContain(".error-summary", "Select their organisation")
	if got := testenv.Eval[string](b, `document.querySelector("#f-name").value`); got != "Nadia Rahman" {
		t.Fatalf("the name typed was lost: %q", got)
	}
	look(b, "person-new-errors")
	b.Fill("#f-email", "nadia@example.org")
	setSelect(t, b, "#f-org", testenv.Eval[string](b, `[...document.querySelectorAll("#f-org option")].find(o => o.textContent.includes("Women")).value`))
	b.Follow("#add-person")
	b.MustContain(".notice", "Nadia Rahman has been added")
	b.MustContain("#invitation-state", "Pending")
	look(b, "person-added")

	// The same pages on a phone.
	b.Viewport(390, 844)
	b.Open("/admin/users?q=worker")
	b.MustContain("main table", "Invited")
	look(b, "users-phone")
	b.Open("/admin/users/new")
	look(b, "person-new-phone")
	b.Open("/admin/users/upload")
	look(b, "upload-form-phone")
	b.Upload("#f-file", file)
	b.Follow("#check-upload")
	b.MustContain("#upload-summary", "18 were added from this file already")
	look(b, "upload-dry-run-phone")
	b.Follow(`#row-11 td a`)
	look(b, "person-invited-advocate-phone")
	b.Viewport(1280, 900)

	// The invitee, in a browser of their own, sets a password from the
	// emailed link and signs in.
	p := testenv.NewBrowser(t, s.URL)
	p.Viewport(390, 844)
	p.Open(other)
	look(p, "invitation-phone")
	p.Viewport(1280, 900)
	p.Open(invitation)
	p.MustContain("main", "worker03@example.org")
	p.Fill("#f-password", "short")
	p.Follow("#set-password")
	p.MustContain(".error-summary", "at least 12 characters")
	look(p, "invitation-errors")
	p.Fill("#f-password", "lantern orchard pebble violin")
	p.Follow("#set-password")
	p.MustContain(".notice", "Your password is set")
	signIn(p, "worker03@example.org", "lantern orchard pebble violin")
	p.MustContain(".whoami", "Worker 03 Tester")
	p.Open(invitation)
	p.MustContain("main", "has expired, has already been used")
	passSampleCourse(t, p)

	// Their page now says so, with the course and its certificate; the
	// certificate is found by their name.
	b.Open("/admin/users?q=worker03")
	b.Follow(`main table tbody tr a`)
	b.MustContain("#invitation-state", "Accepted")
	b.MustContain("#last-sign-in", "22 November 2026")
	b.MustContain("#last-sign-in", "1 session open now")
	b.MustContain("#enrolments", "Sample course for tests")
	code := testenv.Eval[string](b, `(function(){const a=document.querySelector("#user-certificates a.cert-code"); return a ? a.textContent : ""})()`)
	if code == "" {
		t.Fatal("no certificate on the person's page after they passed")
	}
	look(b, "person-accepted")
	b.Open("/admin/certificates")
	b.Fill("#f-q", "Worker 03")
	b.Follow("#find-certificates")
	b.MustContain("#holder-results", "Worker 03 Tester")
	b.MustContain("#holder-results", code)
	look(b, "certificates-by-name")
	b.Viewport(390, 844)
	b.Open("/admin/certificates?q=worker03%40example.org")
	b.MustContain("#holder-results", code)
	look(b, "certificates-by-name-phone")
	b.Follow(`#holder-results a.cert-code`)
	b.MustContain("main h1", code)
}
