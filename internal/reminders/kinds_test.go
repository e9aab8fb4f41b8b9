package reminders_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/reminders"
)

// Reminders for each kind of due item, and a run that lasts.

// TestALongRunKeepsItsLease: a run that lasts longer than its lease renews
// it as it goes, so a second instance does not start the job half-way.
func TestALongRunKeepsItsLease(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 3; i++ {
		w.advocate(fmt.Sprintf("Advocate %c", 'A'+i), time.Date(2026, 12, 10+i, 0, 0, 0, 0, time.UTC))
	}
	second := w.instance()
	w.svc.Remind.RenewEvery = 10 * time.Millisecond
	var during reminders.Result
	w.svc.Remind.Queued = func(n int) {
		if n != 1 {
			return
		}
		w.clock.Advance(20 * time.Minute) // past the 15-minute lease it took
		time.Sleep(200 * time.Millisecond)
		var err error
		if during, err = second.Remind.RunDaily(context.Background()); err != nil {
			t.Error(err)
		}
	}
	if res := w.run(w.svc); !res.Ran || res.Queued != 4 {
		t.Fatalf("the long run: %+v", res)
	}
	if during.Ran {
		t.Fatal("a second instance started the job while the first was still running it")
	}
	second.Mail.Wait()
	assertNoDuplicates(t, w.smtp.Mail(), 4) // 3 advocates and 1 digest
}

// TestLapsedRollingCPDIsEscalatedOnce: an advocate whose CPD hours have
// left the rolling 12-month window is overdue from a fixed date, so their
// manager is told once, not every day, and not at all again the next week.
func TestLapsedRollingCPDIsEscalatedOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	bo := w.advocate("Bo Lapsed", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)) // DBS well in date
	a, _ := w.svc.Comply.Current(ctx, bo.ID)
	for _, e := range a.CPD { // replace the fixture's recent CPD with last year's
		if _, err := w.svc.Comply.DeleteRecord(ctx, w.manager, bo.ID, "cpd", e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.Comply.AddCPD(ctx, w.manager, bo.ID, compliance.CPDForm{Date: "2025-09-01", Title: "Conference", Type: "peer-reflection", Hours: "16",
		Learnt: "Much.", Impact: "Some.", PeerName: "Sam", PeerDate: "2025-09-01"}, nil); err != nil {
		t.Fatal(err)
	}
	// Contracted for years, so the rolling window applies in full.
	if _, err := w.env.DB.UpdateAdvocate(ctx, bo.ID, func(a *compliance.Advocate) error {
		a.ContractStart = &[]time.Time{time.Date(2023, 1, 9, 0, 0, 0, 0, time.UTC)}[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const escalation = "Overdue: Bo Lapsed's CPD"
	for i, on := range []time.Time{time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} {
		w.runOn(on)
		if n := w.count(w.manager.Email, escalation); n != 1 {
			t.Fatalf("run %d (%s): the manager has %d escalations about Bo's CPD, want 1 (%v)", i+1, on.Format(time.DateOnly), n, w.subjects(w.manager.Email))
		}
	}
}

// TestEachKindOfDueItemIsRemindedOnce: supervision, mandatory training
// coming up for renewal and an Update Service status check each get their
// reminder once in the last week, to the advocate, and each is escalated to
// the manager once when it is missed.
func TestEachKindOfDueItemIsRemindedOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.svc.Comply
	sam := w.advocate("Sam Supervised", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC))    // supervision 20 Nov + 6 weeks = 1 Jan 2027
	tia := w.advocate("Tia Training", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC))      // the sample course, done 1 Nov 2026, renewed every 12 months
	uma := w.advocate("Uma Updateservice", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)) // given an Update Service check below
	// Tia and Uma keep up their supervision; Sam and Uma have renewed their training.
	// (Written straight to the records: the forms refuse future dates.)
	for _, u := range []*auth.User{tia, uma} {
		if _, err := w.env.DB.UpdateAdvocate(ctx, u.ID, func(a *compliance.Advocate) error {
			for d := time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 35) {
				a.Supervisions = append(a.Supervisions, compliance.Supervision{ID: d.Format("s20060102"), Date: d, Supervisor: "Maya Manager", Kind: "group"})
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []*auth.User{sam, uma} {
		if _, err := w.env.DB.UpdateAdvocate(ctx, u.ID, func(a *compliance.Advocate) error {
			a.Training["sample-course"] = time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Uma's certificate is on the Update Service: her check is due a year
	// after the last status check, 10 March 2027.
	if _, err := c.AddDBS(ctx, w.manager, uma.ID, compliance.DBSForm{Level: "enhanced", RoleEligible: "eligible", Workforce: "child", BarredChildren: true, CertificateNumber: "001234567891",
		IssueDate: "2021-01-04", OriginalSeenBy: "Maya Manager", OriginalSeenAt: "2021-01-04", Decision: "clear", UpdateService: true}, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := c.Current(ctx, uma.ID)
	for _, d := range a.DBS {
		if d.UpdateService {
			if _, err := c.AddStatusCheck(ctx, w.manager, uma.ID, d.ID, compliance.StatusCheckForm{Date: "2026-03-10", Result: "no-new-information"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.env.DB.UpdateAdvocate(ctx, uma.ID, func(a *compliance.Advocate) error { // only the Update Service check counts
		a.DBS = slices.DeleteFunc(a.DBS, func(d compliance.DBSCheck) bool { return !d.UpdateService })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	items := []struct {
		who                  *auth.User
		reminder, overdue    string
		weekBefore, dayAfter time.Time
	}{
		{sam, "Reminder: your supervision is due on 1 January 2027", "Overdue: Sam Supervised's supervision",
			time.Date(2026, 12, 27, 9, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC)},
		{uma, "Reminder: your DBS check is due on 10 March 2027", "Overdue: Uma Updateservice's DBS check",
			time.Date(2027, 3, 5, 9, 0, 0, 0, time.UTC), time.Date(2027, 3, 11, 9, 0, 0, 0, time.UTC)},
		{tia, "Reminder: your mandatory training is due on 1 November 2027", "Overdue: Tia Training's mandatory training",
			time.Date(2027, 10, 27, 9, 0, 0, 0, time.UTC), time.Date(2027, 11, 2, 9, 0, 0, 0, time.UTC)},
	}
	for _, it := range items { // in date order: the clock only moves forward
		for _, on := range []time.Time{it.weekBefore, it.weekBefore.AddDate(0, 0, 1), it.dayAfter, it.dayAfter.AddDate(0, 0, 1)} {
			w.runOn(on)
		}
		if n := w.count(it.who.Email, it.reminder); n != 1 {
			t.Errorf("%s: %d of %q, want 1 (got %v)", it.who.Name, n, it.reminder, w.subjects(it.who.Email))
		}
		if n := w.count(w.manager.Email, it.overdue); n != 1 {
			t.Errorf("manager: %d of %q, want 1", n, it.overdue)
		}
	}
}

// TestAMandatoryCourseNeverDoneIsAskedForOnce: an advocate who has never
// completed a mandatory course is asked to, once, with a link to it.
func TestAMandatoryCourseNeverDoneIsAskedForOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	nia := w.advocate("Nia New", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC))
	if _, err := w.env.DB.UpdateAdvocate(ctx, nia.ID, func(a *compliance.Advocate) error { a.Training = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	const subject = "Please complete the course Sample course for tests"
	for _, on := range []time.Time{time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} {
		w.runOn(on)
	}
	if n := w.count(nia.Email, subject); n != 1 {
		t.Fatalf("Nia got %d of %q, want 1 (%v)", n, subject, w.subjects(nia.Email))
	}
	for _, m := range w.smtp.To(nia.Email) {
		if m.Subject == subject && !strings.Contains(m.Text, "https://lms.example/courses/sample-course") {
			t.Fatal("the email does not link to the course")
		}
	}
}

// TestANeverMetRollingCPDRuleIsEscalatedOnce: an advocate contracted for
// years who has never met the rolling CPD rule is overdue from one fixed
// date, so their manager is told once, not every day (5 emails in 5 days
// before the date was fixed).
func TestANeverMetRollingCPDRuleIsEscalatedOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cy := w.advocate("Cy Never", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)) // DBS well in date
	a, _ := w.svc.Comply.Current(ctx, cy.ID)
	for _, e := range a.CPD {
		if _, err := w.svc.Comply.DeleteRecord(ctx, w.manager, cy.ID, "cpd", e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.env.DB.UpdateAdvocate(ctx, cy.ID, func(a *compliance.Advocate) error {
		a.ContractStart = &[]time.Time{time.Date(2023, 1, 9, 0, 0, 0, 0, time.UTC)}[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const escalation = "Overdue: Cy Never's CPD"
	for i := range 5 {
		on := time.Date(2026, 11, 22+i, 9, 0, 0, 0, time.UTC)
		w.runOn(on)
		if n := w.count(w.manager.Email, escalation); n != 1 {
			t.Fatalf("day %d (%s): the manager has %d escalations about Cy's CPD, want 1 (%v)", i+1, on.Format(time.DateOnly), n, w.subjects(w.manager.Email))
		}
	}
}
