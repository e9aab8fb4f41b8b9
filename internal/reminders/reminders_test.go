package reminders_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/reminders"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// world is one organisation on real stores with a real SMTP server.
type world struct {
	t       *testing.T
	env     *testenv.Env
	smtp    *testenv.SMTPServer
	svc     *app.Services
	key     []byte
	clock   *testenv.Clock
	org     *auth.Organisation
	manager *auth.User
	dbsURL  string // the DBS Update Service the instances check (none: no checks)
}

func newWorld(t *testing.T) *world { return newWorldChecking(t, "") }

// newWorldChecking is newWorld with automatic DBS status checks against
// the service at dbsURL.
func newWorldChecking(t *testing.T, dbsURL string) *world {
	w := &world{t: t, env: testenv.New(t), smtp: testenv.StartSMTP(t), clock: testenv.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)), key: make([]byte, 32),
		dbsURL: dbsURL}
	_, _ = rand.Read(w.key)
	w.svc = w.instance()
	ctx := context.Background()
	var err error
	if w.org, err = w.svc.Auth.CreateOrg(ctx, "Advocacy Service", auth.OrgService); err != nil {
		t.Fatal(err)
	}
	if w.manager, err = w.svc.Auth.CreateUser(ctx, "maya@example.org", "Maya Manager", auth.HashPassword("correct horse battery staple"), w.org.ID, auth.JobOther,
		[]auth.Role{auth.RoleLearner, auth.RoleManager}); err != nil {
		t.Fatal(err)
	}
	return w
}

// instance builds the services of one app instance on the shared stores.
func (w *world) instance() *app.Services {
	cfg := config.Default()
	cfg.BaseURL = "https://lms.example"
	cfg.SMTPURL = w.smtp.URL
	cfg.SMTPFrom = "Family Advocacy Learning <no-reply@lms.example>"
	cfg.CoursesDir = "../../courses/testdata"
	cfg.CompliancePolicy = "../compliance/testdata/sample-policy.yaml"
	if w.dbsURL != "" {
		cfg.DBSUpdateURL, cfg.DBSChecker = w.dbsURL, "Maya Manager"
	}
	cat, err := app.LoadCatalogue(cfg.CoursesDir)
	if err != nil {
		w.t.Fatal(err)
	}
	_, svc, err := app.Wire(cfg, cat, w.env.DB, w.env.Blob, w.key, w.clock.Now, testenv.Logger(w.t), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return svc
}

// advocate records an advocate whose only requirement not met is a DBS
// recheck due on dbsDue.
func (w *world) advocate(name string, dbsDue time.Time) *auth.User {
	w.t.Helper()
	ctx := context.Background()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
	u, err := w.svc.Auth.CreateUser(ctx, email, name, auth.HashPassword("correct horse battery staple"), w.org.ID, auth.JobAdvocate,
		[]auth.Role{auth.RoleLearner, auth.RoleAdvocate})
	if err != nil {
		w.t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := w.svc.Comply
	if _, err := c.CreateForUser(ctx, w.manager, u, compliance.Advocate{Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		ContractStart: &start, ManagerID: w.manager.ID, MandatoryCourses: []string{},
		Training: map[string]time.Time{"sample-course": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}); err != nil { // the policy's course, done
		w.t.Fatal(err)
	}
	issue := dbsDue.AddDate(-3, 0, 0).Format(time.DateOnly)
	steps := []error{
		second(c.AddDBS(ctx, w.manager, u.ID, compliance.DBSForm{Level: "enhanced", RoleEligible: "eligible", Workforce: "child", BarredChildren: true, CertificateNumber: "001234567890",
			IssueDate: issue, OriginalSeenBy: "Maya Manager", OriginalSeenAt: issue, Decision: "clear"}, nil)),
		second(c.AddSupervision(ctx, w.manager, u.ID, compliance.SupervisionForm{Date: "2026-11-20", Supervisor: "Maya Manager", Kind: "individual"})),
		second(c.AddCPD(ctx, w.manager, u.ID, compliance.CPDForm{Date: "2026-10-01", Title: "Reflective practice day", Type: "peer-reflection", Hours: "15",
			Learnt: "Listening.", Impact: "Better meetings.", PeerName: "Sam", PeerDate: "2026-10-01"}, nil)),
	}
	for _, ref := range []string{"Rosa", "Ruth"} {
		steps = append(steps, second(c.AddReference(ctx, w.manager, u.ID, compliance.ReferenceForm{Referee: ref, Relationship: "Former manager", Contact: "x@example.org",
			ReceivedAt: "2025-12-01", Outcome: "satisfactory", VerifiedDirectly: true})))
	}
	for _, err := range steps {
		if err != nil {
			w.t.Fatal(err)
		}
	}
	a, _ := w.env.DB.Advocate(ctx, u.ID)
	for _, q := range a.Snapshot.Requirements {
		if q.Key != compliance.ReqDBS && q.State != compliance.Met && q.Key != compliance.ReqRegistration {
			w.t.Fatalf("fixture: %s is %s (%s)", q.Key, q.State, q.Reason)
		}
	}
	return u
}

func second[T any](_ T, err error) error { return err }

// run runs the daily job on the given services and waits for delivery.
func (w *world) run(svc *app.Services) reminders.Result {
	w.t.Helper()
	res, err := svc.Remind.RunDaily(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	svc.Mail.Wait()
	return res
}

// count counts the mails an address received with the given subject.
func (w *world) count(addr, subject string) int {
	n := 0
	for _, s := range w.subjects(addr) {
		if s == subject {
			n++
		}
	}
	return n
}

// runOn moves the clock to day, recomputes every advocate as the daily
// recompute would, and runs the job.
func (w *world) runOn(day time.Time) {
	w.t.Helper()
	w.clock.Set(day)
	if _, err := w.svc.Comply.RecomputeAll(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.run(w.svc)
}

// subjects lists the subjects of the mail an address received.
func (w *world) subjects(addr string) []string {
	var out []string
	for _, m := range w.smtp.To(addr) {
		out = append(out, m.Subject)
	}
	return out
}

func (w *world) expect(addr string, want ...string) {
	w.t.Helper()
	got := w.subjects(addr)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		w.t.Fatalf("%s received:\n  %s\nwant:\n  %s", addr, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestEachStageIsSentOnceToTheRightPerson(t *testing.T) {
	w := newWorld(t)
	ada := w.advocate("Ada Lovelace", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	const (
		s60     = "Reminder: your DBS check is due on 31 December 2026"
		digest  = "Weekly compliance summary: 1 item needing attention"
		overdue = "Overdue: Ada Lovelace's DBS check"
	)

	// 39 days before: the 60-day reminder to Ada; the manager's weekly digest.
	if res := w.run(w.svc); !res.Ran || res.Queued != 2 {
		t.Fatalf("first run: %+v", res)
	}
	w.expect(ada.Email, s60)
	w.expect(w.manager.Email, digest)
	raw := w.smtp.To(ada.Email)[0].Text
	for _, want := range []string{"Hello Ada Lovelace", "https://lms.example/my/compliance", "cannot be turned off"} {
		if !strings.Contains(raw, want) {
			t.Fatalf("Ada's reminder lacks %q", want)
		}
	}

	// The same day again: the job is done for today; forced, it finds
	// everything already sent.
	if res := w.run(w.svc); res.Ran {
		t.Fatalf("second run the same day: %+v", res)
	}
	if n, err := w.svc.Remind.Run(context.Background()); err != nil || n != 0 {
		t.Fatalf("forced rerun queued %d (%v)", n, err)
	}

	// Each later stage once; the weekly digest once a week; overdue goes to
	// the manager (Ada sees it in the app).
	for _, step := range []struct {
		day              time.Time
		ada, manager     []string
		queued           int
		adaNotifications int
	}{
		{time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), []string{s60}, []string{digest, digest}, 1, 1},                                          // a new ISO week: the digest again
		{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), []string{s60}, []string{digest, digest}, 0, 1},                                          // same week, same stage: nothing
		{time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), []string{s60, s60}, []string{digest, digest, digest}, 2, 2},                              // 29 days: the 30-day stage
		{time.Date(2026, 12, 25, 9, 0, 0, 0, time.UTC), []string{s60, s60, s60}, []string{digest, digest, digest, digest}, 2, 3},                // 6 days: the 7-day stage
		{time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC), []string{s60, s60, s60}, []string{digest, digest, digest, digest, overdue, digest}, 2, 4}, // overdue: to the manager
		{time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC), []string{s60, s60, s60}, []string{digest, digest, digest, digest, overdue, digest}, 0, 4}, // still overdue, same week
	} {
		w.clock.Set(step.day)
		if step.day.Day() == 2 && step.day.Month() == 12 { // supervision goes on every six weeks
			if _, err := w.svc.Comply.AddSupervision(context.Background(), w.manager, ada.ID, compliance.SupervisionForm{Date: "2026-12-01", Supervisor: "Maya Manager", Kind: "individual"}); err != nil {
				t.Fatal(err)
			}
		}
		if res := w.run(w.svc); !res.Ran || res.Queued != step.queued {
			for _, m := range w.smtp.Mail() {
				t.Log(m.To, m.Subject)
			}
			t.Fatalf("%s: %+v, want %d queued", step.day.Format(time.DateOnly), res, step.queued)
		}
		w.expect(ada.Email, step.ada...)
		w.expect(w.manager.Email, step.manager...)
		in, _ := w.env.DB.Inbox(context.Background(), ada.ID)
		if len(in.Items) != step.adaNotifications {
			t.Fatalf("%s: Ada has %d notifications, want %d", step.day.Format(time.DateOnly), len(in.Items), step.adaNotifications)
		}
	}
	esc := w.smtp.To(w.manager.Email)[4]
	if !strings.Contains(esc.Text, "https://lms.example/manage/advocates/"+ada.ID) || !strings.Contains(esc.Text, "not cleared for allocation") {
		t.Fatal("the escalation does not link to the advocate's record or say they are not cleared")
	}
	if in, _ := w.env.DB.Inbox(context.Background(), ada.ID); in.Items[0].Subject != "Your DBS check is overdue" {
		t.Fatalf("Ada's newest notification: %+v", in.Items[0])
	}
}

func TestTwoInstancesAtOnceSendEachEmailOnce(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 4; i++ {
		w.advocate(fmt.Sprintf("Advocate %c", 'A'+i), time.Date(2026, 12, 10+i, 0, 0, 0, 0, time.UTC))
	}
	second := w.instance()
	var wg sync.WaitGroup
	results := make([]reminders.Result, 2)
	for i, svc := range []*app.Services{w.svc, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.run(svc)
		}()
	}
	wg.Wait()
	if results[0].Ran == results[1].Ran {
		t.Fatalf("exactly one instance should run the job: %+v", results)
	}
	// A forced run on each instance, both at once, adds nothing either.
	for _, svc := range []*app.Services{w.svc, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := svc.Remind.Run(context.Background()); err != nil || n != 0 {
				t.Errorf("forced run queued %d (%v)", n, err)
			}
		}()
	}
	wg.Wait()
	w.svc.Mail.Wait()
	second.Mail.Wait()
	assertNoDuplicates(t, w.smtp.Mail(), 5) // 4 advocates and 1 digest
}

func assertNoDuplicates(t *testing.T, mail []testenv.Mail, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range mail {
		key := strings.Join(m.To, ",") + "|" + m.Subject
		if seen[key] {
			t.Fatalf("sent twice: %s", key)
		}
		seen[key] = true
	}
	if len(mail) != want {
		t.Fatalf("%d emails, want %d", len(mail), want)
	}
}

func TestAJobKilledHalfWayIsResumedWithoutDuplicates(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		w.advocate(fmt.Sprintf("Advocate %c", 'A'+i), time.Date(2026, 12, 10+i, 0, 0, 0, 0, time.UTC))
	}
	ctx, kill := context.WithCancel(context.Background())
	w.svc.Remind.Queued = func(n int) {
		if n == 2 {
			kill() // the process dies after queuing two messages
		}
	}
	res, err := w.svc.Remind.RunDaily(ctx)
	if err == nil || !res.Ran || res.Queued != 2 {
		t.Fatalf("killed run: %+v, %v", res, err)
	}
	w.svc.Mail.Wait()
	// Another instance cannot take the job while the dead one's lease runs…
	other := w.instance()
	if res := w.run(other); res.Ran {
		t.Fatal("the lease of the dead run was ignored")
	}
	// …and resumes it when the lease expires.
	w.clock.Advance(16 * time.Minute)
	if res := w.run(other); !res.Ran || res.Queued != 4 {
		t.Fatalf("resumed run: %+v", res)
	}
	if _, err := other.Mail.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertNoDuplicates(t, w.smtp.Mail(), 6) // 5 advocates and 1 digest
}

func TestCertificateRenewalRemindersRespectTheOptOut(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	learners := map[string]*auth.User{}
	for _, name := range []string{"Lena Learner", "Omar Optout"} {
		u, err := w.svc.Auth.CreateUser(ctx, strings.ToLower(strings.Fields(name)[0])+"@example.org", name, auth.HashPassword("correct horse battery staple"), w.org.ID, auth.JobDomesticAbuse,
			[]auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		learners[name] = u
		expires := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC) // 54 days away
		if err := w.env.DB.InsertCertificate(ctx, &certificates.Certificate{Code: "CODE" + u.ID[:6], UserID: u.ID, OrgID: w.org.ID, Name: name, Course: "sample-course",
			CourseTitle: "Sample course for tests", CompletedAt: expires.AddDate(-1, 0, 0), ExpiresAt: &expires, Status: certificates.StatusIssued, EnrolmentID: u.ID + "/sample-course"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.env.DB.UpdateUser(ctx, learners["Omar Optout"].ID, auth.UserUpdate{NotifyOptional: new(false)}); err != nil {
		t.Fatal(err)
	}
	w.run(w.svc)
	got := w.smtp.To("lena@example.org")
	if len(got) != 1 || got[0].Subject != "Your certificate for Sample course for tests expires on 15 January 2027" ||
		!strings.Contains(got[0].Text, "https://lms.example/courses/sample-course") || !strings.Contains(got[0].Text, "turn off optional emails") {
		t.Fatalf("Lena's renewal reminder: %+v", w.subjects("lena@example.org"))
	}
	if n := len(w.smtp.To("omar@example.org")); n != 0 {
		t.Fatalf("Omar turned optional reminders off but received %d emails", n)
	}
	if in, _ := w.env.DB.Inbox(ctx, learners["Omar Optout"].ID); len(in.Items) != 1 || in.Items[0].Link != "/courses/sample-course" {
		t.Fatalf("Omar should still see the reminder in the app: %+v", in.Items)
	}
}

// A row last computed as all met, before the due date came within the
// window, is looked at again: dates pass between the recompute runs.
func TestADueDateThatComesIntoTheWindowOvernightIsNotMissed(t *testing.T) {
	w := newWorld(t)
	bea := w.advocate("Bea Later", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) // 70 days away: met today
	if res := w.run(w.svc); !res.Ran || res.Queued != 0 {
		t.Fatalf("nothing is due yet: %+v", res)
	}
	w.clock.Set(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)) // 55 days before; nothing has recomputed the row
	if res := w.run(w.svc); !res.Ran {
		t.Fatalf("%+v", res)
	}
	w.expect(bea.Email, "Reminder: your DBS check is due on 31 January 2027")
}

func TestWeeklySummaryListsItsItemsWithLinks(t *testing.T) {
	w := newWorld(t)
	ada := w.advocate("Ada Lovelace", time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)) // due soon
	zoe := w.advocate("Zoe Ward", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))     // overdue
	w.run(w.svc)

	// In the app: the summary keeps its items, most urgent first, each
	// linking to the part of the record where it is dealt with.
	in, err := w.env.DB.Inbox(context.Background(), w.manager.ID)
	if err != nil {
		t.Fatal(err)
	}
	var summary *notify.Notification
	for i := range in.Items {
		if strings.HasPrefix(in.Items[i].Subject, "Weekly compliance summary") {
			summary = &in.Items[i]
		}
	}
	if summary == nil {
		t.Fatalf("the manager has no weekly summary: %+v", in.Items)
	}
	want := []notify.Item{
		{Text: "Zoe Ward: DBS check overdue since 1 November 2026", Link: "/manage/advocates/" + zoe.ID + "#dbs"},
		{Text: "Ada Lovelace: DBS check due on 10 January 2027 (in 49 days)", Link: "/manage/advocates/" + ada.ID + "#dbs"},
	}
	if len(summary.Items) != len(want) || summary.More != 0 {
		t.Fatalf("got items %+v (more %d), want %+v", summary.Items, summary.More, want)
	}
	for i, it := range summary.Items {
		if it.Text != want[i].Text || it.Link != want[i].Link || it.Detail == "" {
			t.Errorf("item %d: got %+v, want %+v with a reason", i, it, want[i])
		}
	}
	if summary.Summary() != "This week 2 items on your advocates' records need attention:" {
		t.Errorf("got summary %q", summary.Summary())
	}

	// In the email: the same lines, linking to the records in full.
	var mail *testenv.Mail
	for _, m := range w.smtp.To(w.manager.Email) {
		if strings.HasPrefix(m.Subject, "Weekly compliance summary") {
			mail = &m
		}
	}
	if mail == nil {
		t.Fatal("no weekly summary email")
	}
	for _, s := range []string{want[0].Text, want[1].Text} {
		if !strings.Contains(mail.Text, s) || !strings.Contains(mail.HTML, s) {
			t.Errorf("the email lacks %q", s)
		}
	}
	if link := `href="https://lms.example/manage/advocates/` + zoe.ID + `#dbs"`; !strings.Contains(mail.HTML, link) {
		t.Errorf("the email does not link the item: lacks %s", link)
	}
}
