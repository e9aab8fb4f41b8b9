package compliance

import (
	"strings"
	"testing"
	"time"
)

// onUpdateService is a clear enhanced check from 2020 on the Update
// Service with consent and the details a status check sends.
func onUpdateService(checks ...StatusCheck) DBSCheck {
	c := clearDBS("2020-05-01")
	c.ID, c.UpdateService, c.StatusChecks = "c1", true, checks
	c.Consent = &UpdateConsent{How: "signed-form", At: d("2026-11-01"), RecordedBy: "Maya Manager"}
	c.DateOfBirth, c.Surname = "sealed-dob", "sealed-surname"
	return c
}

// The result of a status check decides the DBS requirement: new
// information or no match needs a manager's decision before the advocate
// is cleared; a check that could not be made changes nothing.
func TestStatusCheckResultsAndDecisions(t *testing.T) {
	p := testPolicy(t)
	now := d("2026-11-22")
	reviewed := func(decision string) *StatusReview {
		return &StatusReview{Decision: decision, By: "Maya Manager", At: d("2026-11-21")}
	}
	tests := []struct {
		name   string
		checks []StatusCheck
		want   State
		reason string
	}{
		{"Clean", []StatusCheck{{Date: d("2026-11-20"), Result: "no-new-information", Auto: true}}, Met, "next status check due by 20 November 2027"},
		{"NewInformationNeedsAction", []StatusCheck{{Date: d("2026-11-20"), Result: "new-information", Auto: true}}, Overdue,
			"Action needed: the Update Service status check on 20 November 2026 found new information"},
		{"NoMatchNeedsAction", []StatusCheck{{Date: d("2026-11-20"), Result: "no-match", Auto: true}}, Overdue, "found no match"},
		{"ReviewedAndClear", []StatusCheck{{Date: d("2026-11-20"), Result: "new-information", Review: reviewed("reviewed-clear")}}, Met, "next status check due by 20 November 2027"},
		{"NewCheckRequestedStaysNotCleared", []StatusCheck{{Date: d("2026-11-20"), Result: "new-information", Review: reviewed("new-check-requested")}}, Overdue,
			"A new DBS check was requested on 21 November 2026"},
		// Failures after a clean check keep the clean state...
		{"CouldNotCheckKeepsThePreviousState", []StatusCheck{
			{Date: d("2026-10-20"), Result: "no-new-information", Auto: true},
			{Date: d("2026-11-19"), Until: dp("2026-11-21"), Days: 3, Result: CouldNotCheck, Reason: "no answer", Auto: true},
		}, Met, "next status check due by 20 October 2027"},
		// ...and after new information, the action still needed.
		{"CouldNotCheckAfterNewInformation", []StatusCheck{
			{Date: d("2026-10-20"), Result: "new-information", Auto: true},
			{Date: d("2026-11-19"), Result: CouldNotCheck, Reason: "no answer", Auto: true},
		}, Overdue, "Action needed"},
		// Failures alone are never a pass: the certificate's own recheck
		// date (long past) decides.
		{"OnlyFailures", []StatusCheck{{Date: d("2026-11-19"), Result: CouldNotCheck, Reason: "no answer", Auto: true}}, Overdue, "Recheck was due by 1 May 2023"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Advocate{DBS: []DBSCheck{onUpdateService(tt.checks...)}}
			got := evalDBS(p, a, now)
			if got.State != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("got %s %q, want %s containing %q", got.State, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

// The app checks a certificate only with consent and the details, the
// policy's days after the last answered check, never twice on one day.
func TestNextAutoCheck(t *testing.T) {
	p := testPolicy(t)
	if p.AutoCheckDays() != 30 {
		t.Fatalf("policy: automatic checks every %d days, want 30", p.AutoCheckDays())
	}
	day := func(tm *time.Time) string {
		if tm == nil {
			return "none"
		}
		return tm.In(London).Format(time.DateOnly)
	}
	tests := []struct {
		name  string
		check func(c *DBSCheck)
		want  string
	}{
		{"AtConsentWhenNeverChecked", func(c *DBSCheck) {}, "2026-11-01"},
		{"ThirtyDaysAfterTheLastAnswer", func(c *DBSCheck) {
			c.StatusChecks = []StatusCheck{{Date: d("2026-11-10"), Result: "no-new-information"}}
		}, "2026-12-10"},
		{"FailuresDoNotCountAsAnAnswer", func(c *DBSCheck) {
			c.StatusChecks = []StatusCheck{{Date: d("2026-10-01"), Result: "no-new-information"}, {Date: d("2026-10-31"), Result: CouldNotCheck}}
			c.AutoDay = "2026-11-02"
		}, "2026-11-03"},
		{"NotTwiceADay", func(c *DBSCheck) { c.AutoDay = "2026-11-22" }, "2026-11-23"},
		{"NoConsent", func(c *DBSCheck) { c.Consent = nil }, "none"},
		{"ConsentWithdrawn", func(c *DBSCheck) { c.Consent.WithdrawnAt = dp("2026-11-05") }, "none"},
		{"NoDateOfBirth", func(c *DBSCheck) { c.DateOfBirth = "" }, "none"},
		{"NotOnTheUpdateService", func(c *DBSCheck) { c.UpdateService = false }, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := onUpdateService()
			tt.check(&c)
			_, next := p.NextAutoCheck(&Advocate{Status: StatusActive, DBS: []DBSCheck{c}})
			if got := day(next); got != tt.want {
				t.Fatalf("next automatic check %s, want %s", got, tt.want)
			}
		})
	}
	// Only the latest check is checked, and never for an ended contract.
	older := onUpdateService()
	older.IssueDate = d("2020-01-01")
	newer := clearDBS("2026-01-01")
	if c, next := p.NextAutoCheck(&Advocate{Status: StatusActive, DBS: []DBSCheck{older, newer}}); c != nil || next != nil {
		t.Fatalf("an older certificate was due for a check: %v", day(next))
	}
	if _, next := p.NextAutoCheck(&Advocate{Status: StatusEnded, DBS: []DBSCheck{onUpdateService()}}); next != nil {
		t.Fatalf("an ended advocate was due for a check on %s", day(next))
	}
}

// Checks that fail on consecutive days are one entry, counting the days;
// a day without a failure starts a new run.
func TestFailuresRunTogether(t *testing.T) {
	c := onUpdateService()
	at := func(s string) time.Time { return d(s) }
	c.addFailure(at("2026-11-20"), AutoChecker, true, "no answer")
	c.addFailure(at("2026-11-20").Add(time.Hour), "Maya Manager", false, "no answer") // the same day: no new day
	if _, failing := c.FailingSince(); failing {
		t.Fatal("failing after one day")
	}
	c.addFailure(at("2026-11-21"), AutoChecker, true, "no answer")
	c.addFailure(at("2026-11-22"), AutoChecker, true, "the DBS service answered 503")
	since, failing := c.FailingSince()
	if len(c.StatusChecks) != 1 || !failing || since.In(London).Format(time.DateOnly) != "2026-11-20" || c.StatusChecks[0].Days != 3 {
		t.Fatalf("after three days: %+v (failing %v since %s)", c.StatusChecks, failing, since)
	}
	if got := c.StatusChecks[0].Words(); got != "Could not check: the DBS service answered 503" {
		t.Fatalf("words: %q", got)
	}
	c.addFailure(at("2026-11-24"), AutoChecker, true, "no answer") // a day missed: a new run
	if len(c.StatusChecks) != 2 {
		t.Fatalf("a gap of a day joined the runs: %+v", c.StatusChecks)
	}
	if _, failing := c.FailingSince(); failing {
		t.Fatal("a new run of one day counts as failing")
	}
}
