package e2e

import (
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJourneyDBSUpdateService: a manager records a new DBS certificate on
// the Update Service for a cleared advocate, then the advocate's signed
// consent with their date of birth and surname; the app's status check
// (against a fake of the DBS interface) finds new information, so the
// dashboard shows the advocate not cleared, with the reason, and the
// named manager is emailed once; the manager records that the
// information was reviewed and is clear, and the advocate is cleared
// again. The DBS section passes the accessibility check at 1280 and 390
// pixels wide.
func TestJourneyDBSUpdateService(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	mail := testenv.StartSMTP(t)
	const number, name = "300400500600", "Siobhan Murphy"
	fake.Subscribe(number, "14/07/1985", "Murphy", testenv.DBSNewInfo)
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "SMTP_URL": mail.URL,
		"LMS_DBS_UPDATE_URL": fake.URL, "LMS_DBS_CHECKER": "Priya Manager"})
	b := testenv.NewBrowser(t, s.URL)
	b.Viewport(1280, 900)
	signIn(b, "manager2@demo.example", app.DemoPassword)
	secret := secretFromQR(t, b)
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)

	b.Open("/manage")
	if got := rowCell(b, name, 2); got != "Yes" {
		t.Fatalf("before: %s cleared %q", name, got)
	}
	record := testenv.Eval[string](b, `[...document.querySelectorAll("#advocates tbody th a")].find(a => a.textContent.trim() === "`+name+`").getAttribute("href")`)
	b.Open(record)

	// Her renewed certificate, on the Update Service.
	b.Click("details:has(#save-dbs) summary")
	setSelect(t, b, "#f-level", "enhanced")
	setSelect(t, b, "#f-role_eligible", "eligible")
	b.Click("#f-barred_children")
	setSelect(t, b, "#f-workforce", "child")
	b.Fill("#f-certificate_number", number)
	b.Fill("#f-issue_date", "2026-11-16")
	b.Fill("#f-original_seen_by", "Priya Manager")
	b.Fill("#f-original_seen_at", "2026-11-18")
	b.Click("#f-update_service")
	setSelect(t, b, "#f-decision", "clear")
	b.Follow("#save-dbs")
	b.MustContain("#dbs .notice", "DBS check recorded")
	b.MustContain("#consent-state", "No consent to status checks is on record")

	// Her consent: first without the date of birth (the surname typed is
	// kept), then complete.
	b.Click("details:has(#consent-form) summary")
	b.Fill("#f-surname", "Murphy")
	b.Click("#f-agreed")
	b.Follow("#save-consent")
	b.MustContain(".error-summary", "Enter the date of birth")
	if got := testenv.Eval[string](b, `document.querySelector("#f-surname").value`); got != "Murphy" {
		t.Fatalf("the surname typed was lost: %q", got)
	}
	b.CheckAccessibility()
	if !testenv.Eval[bool](b, `document.querySelector("#f-agreed").checked`) {
		t.Fatal("the consent ticked was lost")
	}
	b.Fill("#f-date_of_birth", "1985-07-14")
	b.Follow("#save-consent")
	b.MustContain("#dbs .notice", "Consent to status checks recorded")
	b.MustContain("#consent-state", "Signed consent form")
	if page := b.Text("main"); strings.Contains(page, "1985") || strings.Contains(page, number) {
		t.Fatal("the date of birth or certificate number is shown unmasked")
	}
	b.MustContain("#next-auto-check", "Next automatic check: 22 November 2026")
	b.CheckAccessibility()
	b.Screenshot("consent-1280")

	// The status check finds new information.
	b.Follow("#check-now")
	b.MustContain("#dbs .notice", "Status check: New information: a new DBS check is needed.")
	b.MustContain("#status-action", "Action needed")
	b.MustContain("#req-dbs", "Action needed: the Update Service status check on 22 November 2026 found new information")
	b.MustContain("#cleared", "Not cleared for allocation")
	b.CheckAccessibility()
	b.Screenshot("action-needed-1280")
	if probs := fake.Problems(); len(probs) > 0 || fake.Calls(number) != 1 {
		t.Fatalf("the DBS interface saw %d requests with problems %v", fake.Calls(number), probs)
	}

	// The dashboard: not cleared, and why.
	b.Open("/manage")
	if got := rowCell(b, name, 2); got != "No" {
		t.Fatalf("after new information: %s cleared %q", name, got)
	}
	if got := rowCell(b, name, 4); !strings.Contains(got, "Action needed: new information (checked 22 Nov)") {
		t.Fatalf("the dashboard's DBS cell says %q", got)
	}
	if n := overflow(b, "#advocates"); n > 0 {
		t.Errorf("the dashboard table is %d px wider than the page", n)
	}
	b.Screenshot("dashboard-1280")
	b.Viewport(390, 844)
	b.CheckAccessibility()
	b.Screenshot("dashboard-390")
	b.Open(record + "#dbs")
	b.CheckAccessibility()
	b.Screenshot("action-needed-390")

	// Priya, her named manager, was emailed once.
	var told int
	for _, m := range mail.To("manager2@demo.example") {
		if strings.HasPrefix(m.Subject, "Action needed: "+name+"'s DBS status check found new information") {
			told++
		}
	}
	if told != 1 {
		t.Fatalf("the named manager had %d emails about the status check, want 1", told)
	}

	// Her decision: reviewed, and clear (a reason is needed).
	setSelect(t, b, "#f-status_decision", "reviewed-clear")
	b.Follow("#save-status-review")
	b.MustContain(".error-summary", "Enter the reason")
	b.CheckAccessibility()
	b.Viewport(1280, 900)
	b.Fill("#f-status_reason", "An old caution we assessed when she joined, now on the new certificate.")
	b.Follow("#save-status-review")
	b.MustContain("#dbs .notice", "Decision on the status check recorded")
	b.MustContain("#cleared", "Cleared for allocation to families")
	b.MustContain("#dbs", "Decision: Reviewed and clear, by Priya Manager on 22 November 2026: An old caution")
	b.Open("/manage")
	if got := rowCell(b, name, 2); got != "Yes" {
		t.Fatalf("after the decision: %s cleared %q", name, got)
	}
	if got := rowCell(b, name, 4); !strings.Contains(got, "Checked 22 Nov: new information, reviewed and clear") || strings.Contains(got, "Action needed") {
		t.Fatalf("the dashboard's DBS cell after the decision says %q", got)
	}
}
