package reminders_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/testenv"
)

// subscriber records an advocate on the Update Service whose certificate
// number is number. consent is the day their consent is recorded (nil:
// none); lastCheck, when set, is a status check a manager made by hand.
func (w *world) subscriber(i int, number string, consent bool, lastCheck string) *auth.User {
	w.t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("Advocate %02d Subscriber", i)
	u, err := w.svc.Auth.CreateUser(ctx, fmt.Sprintf("advocate%02d@example.org", i), name, auth.HashPassword("correct horse battery staple"), w.org.ID, auth.JobAdvocate,
		[]auth.Role{auth.RoleLearner, auth.RoleAdvocate})
	if err != nil {
		w.t.Fatal(err)
	}
	c := w.svc.Comply
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	// Paused, so that the job's other reminders (their other records are
	// empty) leave them alone: paused advocates are checked all the same.
	if _, err := c.CreateForUser(ctx, w.manager, u, compliance.Advocate{Profession: compliance.OtherAdvocate, Status: compliance.StatusPaused,
		ContractStart: &start, ManagerID: w.manager.ID, MandatoryCourses: []string{}}); err != nil {
		w.t.Fatal(err)
	}
	a, err := c.AddDBS(ctx, w.manager, u.ID, compliance.DBSForm{Level: "enhanced", RoleEligible: "eligible", Workforce: "child", BarredChildren: true,
		CertificateNumber: number, IssueDate: "2022-03-01", OriginalSeenBy: "Maya Manager", OriginalSeenAt: "2022-03-01", Decision: "clear", UpdateService: true}, nil)
	if err != nil {
		w.t.Fatal(errs.Fields(err), err)
	}
	check := a.DBS[0].ID
	if lastCheck != "" {
		if _, err := c.AddStatusCheck(ctx, w.manager, u.ID, check, compliance.StatusCheckForm{Date: lastCheck, Result: "no-new-information"}); err != nil {
			w.t.Fatal(errs.Fields(err), err)
		}
	}
	if consent {
		if _, err := c.RecordConsent(ctx, w.manager, u.ID, check, compliance.ConsentForm{DateOfBirth: "1985-07-14", Surname: "Subscriber", Agreed: true}); err != nil {
			w.t.Fatal(errs.Fields(err), err)
		}
	}
	return u
}

// advocateRecord reads an advocate's record as stored.
func (w *world) advocateRecord(id string) *compliance.Advocate {
	w.t.Helper()
	a, err := w.env.DB.Advocate(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// runTogether runs the daily job on instances at the same moment and
// says how many of them ran it.
func (w *world) runTogether(svcs ...*app.Services) int {
	w.t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	for _, svc := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.Remind.RunDaily(context.Background())
			if err != nil {
				w.t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Ran {
				ran++
			}
		}()
	}
	wg.Wait()
	for _, svc := range svcs {
		svc.Mail.Wait()
	}
	return ran
}

// The daily job checks each consenting advocate exactly when due: at once
// after consent (or 30 days after a check made by hand), then every 30
// days, once a day at most, across 60 days and two job runners started
// together; nobody without consent, or after it is withdrawn, is checked.
func TestStatusChecksRunWhenDueOnceAcrossTwoRunners(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	w := newWorldChecking(t, fake.URL)
	other := w.instance()
	start := w.clock.Now() // 22 November 2026, 09:00
	type subject struct {
		user    *auth.User
		number  string
		days    []int // the days (from start) it must be checked on
		consent bool
	}
	var people []subject
	for i := 0; i < 50; i++ {
		number := fmt.Sprintf("1000000000%02d", i)
		fake.Subscribe(number, "14/07/1985", "Subscriber", testenv.DBSBlank)
		s := subject{number: number, consent: i%10 != 9} // every tenth gives no consent
		first := 0
		last := ""
		if i%3 == 1 { // a check made by hand i days ago: the first automatic one 30 days after it
			last = start.AddDate(0, 0, -i).Format(time.DateOnly)
			if first = 30 - i; first < 0 {
				first = 0
			}
		}
		if s.consent {
			for d := first; d < 60; d += 30 {
				s.days = append(s.days, d)
			}
		}
		s.user = w.subscriber(i, number, s.consent, last)
		people = append(people, s)
	}
	// One withdraws their consent on day 20, before their second check.
	withdrawer := &people[0]
	withdrawer.days = []int{0}

	checked := map[string]int{}
	for day := 0; day < 60; day++ {
		w.clock.Set(start.AddDate(0, 0, day))
		if day == 20 {
			a := w.advocateRecord(withdrawer.user.ID)
			if _, err := w.svc.Comply.WithdrawOwnConsent(context.Background(), withdrawer.user, a.DBS[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := w.runTogether(w.svc, other); n != 1 {
			t.Fatalf("day %d: %d runners ran the job, want 1", day, n)
		}
		for _, p := range people {
			want := 0
			for _, d := range p.days {
				if d <= day {
					want++
				}
			}
			if got := fake.Calls(p.number); got != want {
				t.Fatalf("day %d: %s checked %d times, want %d (on days %v)", day, p.user.Name, got, want, p.days)
			}
			checked[p.number] = want
		}
	}
	if probs := fake.Problems(); len(probs) > 0 {
		t.Fatalf("the requests were not as the interface wants: %v", probs)
	}
	// Every automatic check is in the record's log, by "automatic check".
	for _, p := range people[1:3] {
		a := w.advocateRecord(p.user.ID)
		auto := 0
		for _, sc := range a.DBS[0].StatusChecks {
			if sc.Auto {
				auto++
				if sc.Result != "no-new-information" || sc.CheckedBy != compliance.AutoChecker || sc.Status != "BLANK_NO_NEW_INFO" {
					t.Fatalf("%s: logged %+v", p.user.Name, sc)
				}
			}
		}
		if auto != checked[p.number] {
			t.Fatalf("%s: %d automatic checks in the log, %d made", p.user.Name, auto, checked[p.number])
		}
	}
}

// New information makes the advocate not cleared and tells their named
// manager at once, one email and one notification, however often the job
// runs; a manager's decision clears them again. Checks that cannot be made
// leave the requirement as it was and tell the manager once, on the third
// day running.
func TestStatusFindingsTellTheManagerOnce(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	w := newWorldChecking(t, fake.URL)
	ctx := context.Background()
	start := w.clock.Now()
	fake.Subscribe("200000000001", "14/07/1985", "Subscriber", testenv.DBSNewInfo)
	fake.Subscribe("200000000002", "14/07/1985", "Subscriber", testenv.DBSServerError)
	found := w.subscriber(1, "200000000001", true, "")
	failing := w.subscriber(2, "200000000002", true, start.AddDate(0, 0, -40).Format(time.DateOnly))
	const (
		foundSubject   = "Action needed: Advocate 01 Subscriber's DBS status check found new information"
		failingSubject = "Advocate 02 Subscriber's DBS status check could not be made for 3 days"
	)
	dbsOf := func(id string) compliance.Requirement {
		t.Helper()
		return w.advocateRecord(id).Snapshot.Requirement(compliance.ReqDBS)
	}
	before := dbsOf(failing.ID)

	for day := 0; day < 4; day++ {
		w.clock.Set(start.AddDate(0, 0, day))
		w.run(w.svc)
		if _, err := w.svc.Remind.Run(ctx); err != nil { // a forced rerun sends nothing again
			t.Fatal(err)
		}
		w.svc.Mail.Wait()
		if n := w.count(w.manager.Email, foundSubject); n != 1 {
			t.Fatalf("day %d: the manager had %d emails about the new information, want 1", day, n)
		}
		want := 0
		if day >= 2 {
			want = 1
		}
		if n := w.count(w.manager.Email, failingSubject); n != want {
			t.Fatalf("day %d: the manager had %d emails about the failing checks, want %d", day, n, want)
		}
		if got := dbsOf(failing.ID); got.State != before.State || got.Reason != before.Reason {
			t.Fatalf("day %d: failed checks changed the requirement from %s %q to %s %q", day, before.State, before.Reason, got.State, got.Reason)
		}
	}
	if n := fake.Calls("200000000001"); n != 1 {
		t.Fatalf("the certificate with new information was checked %d times in 4 days, want 1", n)
	}
	if n := fake.Calls("200000000002"); n != 4*3 {
		t.Fatalf("the failing certificate had %d requests, want 3 tries on each of 4 days", n)
	}
	in, err := w.env.DB.Inbox(ctx, w.manager.ID)
	if err != nil {
		t.Fatal(err)
	}
	notes := 0
	for _, n := range in.Items {
		if n.Subject == foundSubject {
			notes++
			if !strings.Contains(n.Link, "/manage/advocates/"+found.ID+"#dbs-") {
				t.Fatalf("the notification links to %q", n.Link)
			}
		}
	}
	if notes != 1 {
		t.Fatalf("%d notifications about the new information, want 1", notes)
	}
	mail := w.smtp.To(w.manager.Email)
	for _, m := range mail {
		if strings.Contains(m.Text, "14/07/1985") || strings.Contains(m.Text, "1985") || strings.Contains(m.Text, "200000000001") {
			t.Fatalf("an email carries the date of birth or certificate number: %q", m.Subject)
		}
	}

	// Not cleared until a manager decides; reviewed and clear clears them.
	a := w.advocateRecord(found.ID)
	if q := a.Snapshot.Requirement(compliance.ReqDBS); a.Snapshot.Cleared || !strings.HasPrefix(q.Reason, "Action needed") {
		t.Fatalf("after new information: cleared %v, DBS %s %q", a.Snapshot.Cleared, q.State, q.Reason)
	}
	if _, err := w.svc.Comply.ReviewStatusCheck(ctx, w.manager, found.ID, a.DBS[0].ID, compliance.StatusReviewForm{Decision: "reviewed-clear"}); errs.Fields(err)["status_reason"] == "" {
		t.Fatalf("reviewed and clear without a reason: %v", err)
	}
	if _, err := w.svc.Comply.ReviewStatusCheck(ctx, w.manager, found.ID, a.DBS[0].ID, compliance.StatusReviewForm{Decision: "reviewed-clear",
		Reason: "A caution from 2009 we already knew of, reissued on a new certificate."}); err != nil {
		t.Fatal(err)
	}
	if q := dbsOf(found.ID); q.State != compliance.Met {
		t.Fatalf("after the decision: DBS %s %q", q.State, q.Reason)
	}
	// The advocate cannot decide on their own record.
	if _, err := w.svc.Comply.ReviewStatusCheck(ctx, found, found.ID, a.DBS[0].ID, compliance.StatusReviewForm{Decision: "new-check-requested"}); !errs.Is(err, errs.EFORBIDDEN) {
		t.Fatalf("the advocate decided on their own status check: %v", err)
	}
}
