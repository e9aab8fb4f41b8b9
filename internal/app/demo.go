package app

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/store"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "demo-family-advocacy-2026"

// demoAccounts are seeded into an empty database when LMS_DEMO is on, and
// their logins printed.
var demoAccounts = []struct {
	Email, Name string
	Job         auth.JobRole
	Roles       []auth.Role
}{
	{"learner@demo.example", "Lena Learner", auth.JobMentalHealth, []auth.Role{auth.RoleLearner}},
	{"advocate1@demo.example", "Amira Advocate", auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate}},
	{"advocate2@demo.example", "Ben Advocate", auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate}},
	{"manager@demo.example", "Maya Manager", auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleManager}},
	{"manager2@demo.example", "Priya Manager", auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleManager}},
	{"admin@demo.example", "Adam Admin", auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleAdmin}},
}

// ago is a day before today, in months and then days (negative: ahead).
type ago struct{ Months, Days int }

// demoAdvocate is one demo advocate's compliance record, dated back from
// the day the demo is seeded so that it always tells the same story.
type demoAdvocate struct {
	Email   string
	Name    string // for an account of its own; "" for one in demoAccounts
	Manager string // the named manager's email
	// Profession and Status as on the profile; RenewsIn is how many days
	// until a registered profession's registration renews.
	Profession, Status string
	Started            ago // contract start
	RenewsIn           int
	// DBS is when the latest certificate was issued. DBSPending: it is a
	// recheck whose decision is still to be made (the previous check,
	// issued 35 months ago and cleared, is recorded too). UpdateService:
	// the certificate is on the Update Service, status checked last month.
	// NotEligible: the role was assessed as not eligible for a barred-list
	// check.
	DBS                                    ago
	DBSPending, UpdateService, NotEligible bool
	// References received (satisfactory, verified directly, before the
	// contract start), and Awaited: asked for, not back yet.
	References, Awaited int
	// Training holds when each of the policy's mandatory courses was
	// completed, in the policy's order; the rest are still to do.
	Training []ago
	// Supervisions are the sessions recorded.
	Supervisions []ago
	// LittleCPD: one piece of CPD only, well short of the rule.
	LittleCPD bool
}

// The demo managers, by email.
const (
	demoMaya  = "manager@demo.example"
	demoPriya = "manager2@demo.example"
)

// demoAdvocates are the demo organisation's advocates, split between the
// two managers: several fully cleared, some with something lapsing within
// 30 days, a couple overdue, one onboarding, one with a DBS decision to
// make and one paused.
var demoAdvocates = []demoAdvocate{
	// Nearly cleared: the mandatory training is still to do.
	{Email: "advocate1@demo.example", Manager: demoMaya, Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		Started: ago{9, 0}, DBS: ago{10, 0}, References: 2, Supervisions: []ago{{0, 20}, {0, 62}}},
	// DBS recheck due in under three weeks, and a reference still awaited.
	{Email: "advocate2@demo.example", Manager: demoMaya, Profession: compliance.SocialWorker, Status: compliance.StatusActive,
		Started: ago{9, 0}, RenewsIn: 240, DBS: ago{35, 12}, References: 1, Awaited: 1,
		Training: []ago{{8, 0}, {8, 3}}, Supervisions: []ago{{0, 20}, {0, 62}}},
	// Fully cleared, nothing due for a while.
	{Email: "advocate3@demo.example", Name: "Chloe Davies", Manager: demoMaya, Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		Started: ago{26, 0}, DBS: ago{14, 0}, References: 2, Training: []ago{{7, 0}, {7, 10}}, Supervisions: []ago{{0, 5}, {1, 17}}},
	// Fully cleared; works with parents only, so no barred-list check.
	{Email: "advocate4@demo.example", Name: "Oluwaseun Adeyemi", Manager: demoMaya, Profession: compliance.SocialWorker, Status: compliance.StatusActive,
		Started: ago{30, 0}, RenewsIn: 200, DBS: ago{20, 0}, NotEligible: true, References: 2,
		Training: []ago{{11, 0}, {10, 20}}, Supervisions: []ago{{0, 9}, {1, 20}}},
	// Cleared; the practising certificate renews in two weeks.
	{Email: "advocate5@demo.example", Name: "Siobhan Murphy", Manager: demoPriya, Profession: compliance.Solicitor, Status: compliance.StatusActive,
		Started: ago{40, 0}, RenewsIn: 14, DBS: ago{40, 5}, UpdateService: true, References: 2,
		Training: []ago{{13, 0}, {12, 0}}, Supervisions: []ago{{0, 3}, {1, 15}}},
	// Cleared; supervision due within the week.
	{Email: "advocate6@demo.example", Name: "Rhys Evans", Manager: demoPriya, Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		Started: ago{18, 0}, DBS: ago{18, 10}, References: 2, Training: []ago{{5, 0}, {5, 2}}, Supervisions: []ago{{0, 38}, {2, 20}}},
	// Cleared; a mandatory course to renew within the month.
	{Email: "advocate7@demo.example", Name: "Imran Hussain", Manager: demoPriya, Profession: compliance.SocialWorker, Status: compliance.StatusActive,
		Started: ago{25, 0}, RenewsIn: 300, DBS: ago{24, 0}, References: 2,
		Training: []ago{{23, 10}, {6, 0}}, Supervisions: []ago{{0, 12}, {1, 24}}},
	// Cleared, but supervision and CPD are overdue.
	{Email: "advocate8@demo.example", Name: "Grace Thompson", Manager: demoMaya, Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		Started: ago{22, 0}, DBS: ago{8, 0}, References: 2, Training: []ago{{9, 0}, {9, 0}}, Supervisions: []ago{{4, 0}, {5, 15}}, LittleCPD: true},
	// Not cleared: the DBS recheck is overdue, and so is supervision.
	{Email: "advocate9@demo.example", Name: "Tomasz Nowak", Manager: demoPriya, Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
		Started: ago{38, 0}, DBS: ago{37, 0}, References: 2, Training: []ago{{15, 0}, {14, 0}}, Supervisions: []ago{{2, 15}, {4, 0}}},
	// Onboarding: starts in three weeks; both references asked for, none back.
	{Email: "advocate10@demo.example", Name: "Hannah Clarke", Manager: demoMaya, Profession: compliance.OtherAdvocate, Status: compliance.StatusOnboarding,
		Started: ago{0, -21}, DBS: ago{0, 24}, Awaited: 2, Training: []ago{{0, 6}}, LittleCPD: true},
	// Not cleared: the DBS recheck has come back and awaits the decision.
	{Email: "advocate11@demo.example", Name: "Daniel O'Connor", Manager: demoPriya, Profession: compliance.Solicitor, Status: compliance.StatusActive,
		Started: ago{34, 0}, RenewsIn: 150, DBS: ago{0, 12}, DBSPending: true, References: 2,
		Training: []ago{{10, 0}, {10, 0}}, Supervisions: []ago{{0, 16}, {1, 28}}},
	// Paused (extended leave): cleared, supervision overdue while away.
	{Email: "advocate12@demo.example", Name: "Fatima Begum", Manager: demoPriya, Profession: compliance.OtherAdvocate, Status: compliance.StatusPaused,
		Started: ago{28, 0}, DBS: ago{28, 0}, References: 2, Training: []ago{{16, 0}, {16, 0}}, Supervisions: []ago{{3, 0}, {4, 12}}},
}

// seedDemo creates a demo organisation, a partner agency, the demo
// accounts, the advocates' compliance records and a year of the
// compliance trend when the database has no accounts, and prints the
// logins.
func seedDemo(ctx context.Context, svc *Services, db *store.DB, out io.Writer) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	org, err := svc.Auth.CreateOrg(ctx, "Demo Family Advocacy Service", auth.OrgService)
	if err != nil {
		return err
	}
	if _, err := svc.Auth.CreateOrg(ctx, "Demo Women's Aid Partnership", auth.OrgPartner); err != nil {
		return err
	}
	users, err := seedDemoAccounts(ctx, svc, org.ID)
	if err != nil {
		return err
	}
	if svc.Comply != nil {
		if err := seedDemoAdvocates(ctx, svc, db, users); err != nil {
			return err
		}
		if err := seedDemoTrend(ctx, svc, db, org.ID); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Demo data created. Sign in at the address below with any of these accounts:")
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-26s %-24s password: %s\n", a.Email, auth.RoleLabels(a.Roles), DemoPassword)
	}
	fmt.Fprintf(out, "  (and %s to %s, more advocates, with the same password)\n", demoAdvocates[2].Email, demoAdvocates[len(demoAdvocates)-1].Email)
	fmt.Fprintln(out, "The manager and admin accounts are asked to set up two-factor authentication (any TOTP app) at first sign-in.")
	return nil
}

// seedDemoAccounts creates the demo accounts and the further advocates'
// accounts, all with the demo password, and returns them by email.
func seedDemoAccounts(ctx context.Context, svc *Services, orgID string) (map[string]*auth.User, error) {
	hash := auth.HashPassword(DemoPassword)
	users := map[string]*auth.User{}
	for _, a := range demoAccounts {
		u, err := svc.Auth.CreateUser(ctx, a.Email, a.Name, hash, orgID, a.Job, a.Roles)
		if err != nil {
			return nil, err
		}
		users[a.Email] = u
	}
	for _, d := range demoAdvocates {
		if d.Name == "" {
			continue // one of demoAccounts
		}
		u, err := svc.Auth.CreateUser(ctx, d.Email, d.Name, hash, orgID, auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate})
		if err != nil {
			return nil, err
		}
		users[d.Email] = u
	}
	return users, nil
}

// demoSeeder records the demo advocates' compliance through the
// compliance service, as their managers and they themselves would.
type demoSeeder struct {
	svc   *Services
	db    *store.DB
	users map[string]*auth.User
	today civil.Date // in London
}

// day returns the date a before today, as the forms take it.
func (s *demoSeeder) day(a ago) string { return s.today.AddMonths(-a.Months).AddDays(-a.Days).String() }

// midnight returns midnight (London) of the date a before today.
func (s *demoSeeder) midnight(a ago) time.Time {
	return s.today.AddMonths(-a.Months).AddDays(-a.Days).Midnight()
}

// seedDemoAdvocates gives every demo advocate a compliance record.
func seedDemoAdvocates(ctx context.Context, svc *Services, db *store.DB, users map[string]*auth.User) error {
	s := &demoSeeder{svc: svc, db: db, users: users, today: civil.Of(svc.Comply.Now().In(compliance.London))}
	for i, d := range demoAdvocates {
		if err := s.advocate(ctx, i, d); err != nil {
			return fmt.Errorf("%s: %w", d.Email, err)
		}
	}
	return nil
}

// advocate records one demo advocate: profile, DBS, references, training,
// supervision and CPD, in the order a manager would meet them.
func (s *demoSeeder) advocate(ctx context.Context, i int, d demoAdvocate) error {
	u, manager := s.users[d.Email], s.users[d.Manager]
	start, _ := compliance.ParseDate(s.day(d.Started))
	p := compliance.Advocate{Profession: d.Profession, Status: d.Status, ManagerID: manager.ID, ContractStart: start}
	if d.Profession != compliance.OtherAdvocate {
		p.RegistrationDue, _ = compliance.ParseDate(s.day(ago{0, -d.RenewsIn}))
		p.RegistrationNo = strconv.Itoa(123456 + 1111*i)
		if d.Profession == compliance.SocialWorker {
			p.RegistrationNo = "SW" + p.RegistrationNo
		}
		for _, prof := range compliance.Professions {
			if prof.Value == d.Profession {
				p.ProfessionalBody = prof.Body
			}
		}
	}
	if _, err := s.svc.Comply.CreateForUser(ctx, manager, u, p); err != nil {
		return err
	}
	for _, step := range []func(context.Context, int, demoAdvocate, *auth.User, *auth.User) error{
		s.dbs, s.references, s.training, s.supervisions, s.cpd,
	} {
		if err := step(ctx, i, d, u, manager); err != nil {
			return err
		}
	}
	return nil
}

// dbs records the advocate's DBS check (and, for a recheck awaiting its
// decision, the check before it).
func (s *demoSeeder) dbs(ctx context.Context, i int, d demoAdvocate, u, manager *auth.User) error {
	check := func(issued ago, decision string) (*compliance.Advocate, error) {
		f := compliance.DBSForm{Level: "enhanced", Workforce: "child", CertificateNumber: fmt.Sprintf("%012d", 1002003004+7919*i+issued.Months),
			IssueDate: s.day(issued), OriginalSeenBy: manager.Name, OriginalSeenAt: s.day(ago{issued.Months, issued.Days - 3}),
			Decision: decision, UpdateService: d.UpdateService,
			RoleEligible: "eligible", EligibilityReason: "Supervises family time with the children: regulated activity with children.", BarredChildren: true}
		if d.NotEligible {
			f.RoleEligible, f.EligibilityReason, f.BarredChildren = "not-eligible", "Works with the parents only, never alone with the children: not regulated activity.", false
		}
		if f.OriginalSeenAt > s.today.String() {
			f.OriginalSeenAt = s.today.String()
		}
		return s.svc.Comply.AddDBS(ctx, manager, u.ID, f, nil)
	}
	if d.DBSPending {
		if _, err := check(ago{35, 0}, "clear"); err != nil {
			return err
		}
		_, err := check(d.DBS, "")
		return err
	}
	a, err := check(d.DBS, "clear")
	if err != nil || !d.UpdateService {
		return err
	}
	_, err = s.svc.Comply.AddStatusCheck(ctx, manager, u.ID, a.DBS[len(a.DBS)-1].ID, compliance.StatusCheckForm{Date: s.day(ago{1, 0}), Result: "no-new-information"})
	return err
}

var (
	demoReferees      = []string{"Jo Brown", "Sam Patel", "Ruth Okoro", "Mark Jenkins", "Helen Shaw", "Dev Sharma", "Claire Lewis", "Alex Green"}
	demoOrganisations = []string{"Northfield Borough Council, Children's Services", "Riverside Family Centre", "Hartley and Co Solicitors", "Eastgate Parents' Advice Service"}
)

// references records the references received before the contract start,
// and those asked for and not back yet.
func (s *demoSeeder) references(ctx context.Context, i int, d demoAdvocate, u, manager *auth.User) error {
	for n := 0; n < d.References+d.Awaited; n++ {
		name := demoReferees[(2*i+n)%len(demoReferees)]
		f := compliance.ReferenceForm{Referee: name, Relationship: []string{"Former line manager", "Practice supervisor at a previous job"}[n%2],
			Organisation: demoOrganisations[(i+n)%len(demoOrganisations)], Contact: fmt.Sprintf("referee%d.%d@example.org", i+1, n+1),
			RequestedAt: s.day(ago{0, 12})}
		if n < d.References {
			f.RequestedAt, f.ReceivedAt = s.day(ago{d.Started.Months + 1, d.Started.Days + 14}), s.day(ago{d.Started.Months + 1, d.Started.Days})
			f.Outcome, f.VerifiedDirectly, f.Notes = "satisfactory", true, "Confirmed by telephone with the referee."
		}
		if _, err := s.svc.Comply.AddReference(ctx, manager, u.ID, f); err != nil {
			return err
		}
	}
	return nil
}

// training records the advocate's completions of the policy's mandatory
// courses as the learning service does when a course is passed (every
// lesson done, then the hand-over's CPD entry), without a certificate.
func (s *demoSeeder) training(ctx context.Context, i int, d demoAdvocate, u, manager *auth.User) error {
	for n, m := range s.svc.Comply.Policy.MandatoryCourses {
		if n >= len(d.Training) {
			break
		}
		c, err := s.svc.Comply.Catalogue.Get(m.Course)
		if err != nil {
			return err
		}
		at := s.midnight(d.Training[n]).Add(14 * time.Hour).UTC() // an afternoon's study
		e := &learning.Enrolment{ID: learning.EnrolmentID(u.ID, c.Slug), UserID: u.ID, Course: c.Slug, CourseVersion: c.Version,
			Enrolled: at.AddDate(0, 0, -7), Updated: at, Lessons: map[string]time.Time{}, Attempts: map[string]learning.AttemptSummary{}, Pending: []string{},
			Completion: &learning.Completion{At: at, CourseVersion: c.Version, CourseTitle: c.Title, Percent: 90, CPDHours: c.CPDHours, Attempt: 1}}
		for _, l := range c.Lessons {
			e.Lessons[l.Name], e.LastLesson = at, l.Name
		}
		if err := s.db.InsertEnrolment(ctx, e); err != nil {
			return err
		}
		if _, err := s.svc.Comply.RecordCourseCompletion(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

var demoSupervisionNotes = []string{
	"Went through current families. Talked about preparing a mother for her first child protection conference, and about keeping to the advocacy role.",
	"Reviewed caseload and workload. Reflected on a core group meeting where the parent felt unheard; agreed to ask for the agenda in advance next time.",
	"Discussed a family where the father has a learning disability, and how to share written information he can follow.",
}

// supervisions records the advocate's supervision sessions with their
// named manager.
func (s *demoSeeder) supervisions(ctx context.Context, i int, d demoAdvocate, u, manager *auth.User) error {
	for n, at := range d.Supervisions {
		f := compliance.SupervisionForm{Date: s.day(at), Supervisor: manager.Name, Kind: []string{"individual", "individual", "group"}[(i+n)%3],
			Notes: demoSupervisionNotes[(i+n)%len(demoSupervisionNotes)]}
		if _, err := s.svc.Comply.AddSupervision(ctx, manager, u.ID, f); err != nil {
			return err
		}
	}
	return nil
}

// demoCPD are the pieces of CPD the demo advocates record, about every
// two months; those with a peer come every six months or so, so that any
// year has two pieces and one with a peer, and over 15 hours.
var demoCPD = []struct {
	DaysAgo int
	compliance.CPDForm
}{
	{25, compliance.CPDForm{Title: "Reading: the revised pre-proceedings guidance", Type: "reading", Hours: "4",
		Learnt: "What the letter before proceedings must say, and what the local authority should share with the parent before the meeting.",
		Impact: "I now check that parents have the letter and have seen a solicitor before the meeting."}},
	{70, compliance.CPDForm{Title: "Reflection with a colleague on a difficult child protection conference", Type: "peer-reflection", Hours: "2",
		Learnt: "I stepped in too quickly when the chair moved on; the parent wanted to speak for herself.",
		Impact: "Before a meeting I agree with the parent when they want me to speak and when not.", PeerName: "Kate Wilson"}},
	{130, compliance.CPDForm{Title: "Domestic abuse awareness for family practitioners", Type: "course", Hours: "6",
		Learnt: "Patterns of coercive control, and how they can show in meetings with professionals.",
		Impact: "I plan meetings so that a parent is never left alone with the other parent."}},
	{250, compliance.CPDForm{Title: "Case discussion with a peer: supporting a father with a learning disability", Type: "peer-reflection", Hours: "2",
		Learnt: "Easy-read summaries help, but only if they are checked with the father himself.",
		Impact: "I go through the plan with him a section at a time after each meeting.", PeerName: "Joe Bennett"}},
	{300, compliance.CPDForm{Title: "Regional family rights conference", Type: "conference", Hours: "5",
		Learnt: "How other services keep advocacy independent when the local authority funds them.",
		Impact: "I explain my independence to parents at the first visit, in writing as well."}},
	{430, compliance.CPDForm{Title: "Reflection with a colleague on ending work with a family", Type: "peer-reflection", Hours: "2",
		Learnt: "Endings need planning as much as beginnings; the parent had not expected me to stop.",
		Impact: "I talk about how and when our work will end from the start.", PeerName: "Kate Wilson"}},
	{520, compliance.CPDForm{Title: "Working well with interpreters", Type: "course", Hours: "4.5",
		Learnt: "To brief the interpreter before the meeting, and to speak to the parent, not the interpreter.",
		Impact: "I book interpreters for my own visits as well as the formal meetings."}},
	{610, compliance.CPDForm{Title: "Case discussion with a peer: a parent with mental health needs", Type: "peer-reflection", Hours: "2",
		Learnt: "How to support a parent to ask for reasonable adjustments at a conference.",
		Impact: "I ask every parent what would help them take part.", PeerName: "Joe Bennett"}},
}

// cpd records the advocate's own CPD entries since their contract started
// (a solicitor adds the yearly reflection declaration); one piece only
// for an advocate behind on CPD.
func (s *demoSeeder) cpd(ctx context.Context, i int, d demoAdvocate, u, manager *auth.User) error {
	started := s.midnight(d.Started)
	var entries []compliance.CPDForm
	for n, e := range demoCPD {
		if d.LittleCPD && n > 0 {
			break
		}
		e.DaysAgo += i % 5 // not everyone on the same days
		if at := s.midnight(ago{0, e.DaysAgo}); !d.LittleCPD && at.Before(started) {
			continue
		}
		e.Date = s.day(ago{0, e.DaysAgo})
		if e.PeerName != "" {
			e.PeerDate = e.Date
		}
		entries = append(entries, e.CPDForm)
	}
	if d.Profession == compliance.Solicitor && !d.LittleCPD {
		for _, daysAgo := range []int{35, 395, 755} {
			if s.midnight(ago{0, daysAgo}).Before(started) {
				break
			}
			entries = append(entries, compliance.CPDForm{Date: s.day(ago{0, daysAgo}), Title: "Annual reflection on my practice and training needs",
				Type: "declaration", Hours: "0", Learnt: "Reviewed the year's work against the SRA competence statement."})
		}
	}
	for _, f := range entries {
		if _, err := s.svc.Comply.AddCPD(ctx, u, u.ID, f, nil); err != nil {
			return err
		}
	}
	return nil
}

// demoTrendStart is the organisation's point a year ago: fewer advocates,
// fewer of them cleared, more requirements overdue. demoTrendWobble keeps
// the line from being straight.
var (
	demoTrendStart  = compliance.TrendPoint{Advocates: 8, Cleared: 4, Overdue: 9}
	demoTrendWobble = []int{0, 1, 0, 2, 1, 0, 1, 0, -1, 1, 0}
)

// seedDemoTrend gives the dashboard's 12-month trend a history: the last
// day of each of the previous 11 months, with more advocates cleared and
// fewer requirements overdue as the service got its records in order,
// ending at today's point, taken from the dashboard just seeded.
func seedDemoTrend(ctx context.Context, svc *Services, db *store.DB, orgID string) error {
	d, err := svc.Comply.Dashboard(ctx, orgID, compliance.DashboardQuery{})
	if err != nil {
		return err
	}
	now := d.Trend[len(d.Trend)-1].TrendPoint // today, from the live rows
	from := demoTrendStart
	from.Advocates = min(from.Advocates, now.Advocates)
	from.Cleared = min(from.Cleared, now.Cleared, from.Advocates)
	from.Overdue = max(from.Overdue, now.Overdue)
	today := civil.Of(svc.Comply.Now().In(compliance.London))
	months := len(demoTrendWobble)
	for k := months; k >= 1; k-- { // k months back
		day := civil.New(today.Year, today.Month, 1).AddMonths(1 - k).AddDays(-1)
		step := months - k // 0 for the oldest
		between := func(a, b int) int { return a + (b-a)*step/months }
		p := compliance.TrendPoint{Advocates: between(from.Advocates, now.Advocates), Cleared: between(from.Cleared, now.Cleared),
			Overdue: max(0, between(from.Overdue, now.Overdue)+demoTrendWobble[step])}
		p.Cleared = min(p.Cleared, p.Advocates)
		if err := db.PutTrendPoint(ctx, orgID, day.String(), p, today.AddDays(-compliance.TrendDays).String()); err != nil {
			return err
		}
	}
	_, err = svc.Comply.RecordTrends(ctx)
	return err
}
