package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// demoExpect is what a manager should see of one demo advocate.
type demoExpect struct {
	status  string
	cleared bool
	states  map[string]compliance.State // the requirements that tell its story
}

var demoExpected = map[string]demoExpect{
	"Amira Advocate":    {compliance.StatusActive, false, map[string]compliance.State{compliance.ReqTraining: compliance.Missing}},
	"Ben Advocate":      {compliance.StatusActive, false, map[string]compliance.State{compliance.ReqDBS: compliance.DueSoon, compliance.ReqReferences: compliance.Missing, compliance.ReqTraining: compliance.Met}},
	"Chloe Davies":      {compliance.StatusActive, true, nil}, // everything met
	"Oluwaseun Adeyemi": {compliance.StatusActive, true, nil},
	"Siobhan Murphy":    {compliance.StatusActive, true, map[string]compliance.State{compliance.ReqRegistration: compliance.DueSoon, compliance.ReqDBS: compliance.Met}},
	"Rhys Evans":        {compliance.StatusActive, true, map[string]compliance.State{compliance.ReqSupervision: compliance.DueSoon}},
	"Imran Hussain":     {compliance.StatusActive, true, map[string]compliance.State{compliance.ReqTraining: compliance.DueSoon}},
	"Grace Thompson":    {compliance.StatusActive, true, map[string]compliance.State{compliance.ReqSupervision: compliance.Overdue, compliance.ReqCPD: compliance.Overdue}},
	"Tomasz Nowak":      {compliance.StatusActive, false, map[string]compliance.State{compliance.ReqDBS: compliance.Overdue, compliance.ReqSupervision: compliance.Overdue}},
	"Hannah Clarke":     {compliance.StatusOnboarding, false, map[string]compliance.State{compliance.ReqReferences: compliance.Missing, compliance.ReqTraining: compliance.Missing}},
	"Daniel O'Connor":   {compliance.StatusActive, false, map[string]compliance.State{compliance.ReqDBS: compliance.Missing}},
	"Fatima Begum":      {compliance.StatusPaused, true, map[string]compliance.State{compliance.ReqSupervision: compliance.Overdue}},
}

// TestDemoSeed seeds the demo into an empty database, on today and on days
// where calendar edges could change the story (the ends of the CPD years,
// a leap day), and checks what the managers see: the dashboard, what is
// lapsing within 30 days and the 12-month trend. Seeding again changes
// nothing.
func TestDemoSeed(t *testing.T) {
	days := []time.Time{time.Now()}
	if !testing.Short() {
		days = append(days, time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), time.Date(2027, 10, 31, 8, 0, 0, 0, time.UTC),
			time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC))
	}
	for _, now := range days {
		t.Run(civil.Of(now).String(), func(t *testing.T) { testDemoSeed(t, now) })
	}
}

// demoServices builds the services on a fresh database and bucket, with
// the clock stopped at now.
func demoServices(t *testing.T, cfg config.Config, now time.Time) (*testenv.Env, *Services) {
	env := testenv.New(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cat, err := LoadCatalogue(cfg.CoursesDir)
	if err != nil {
		t.Fatal(err)
	}
	_, svc, err := Wire(cfg, cat, env.DB, env.Blob, key, testenv.NewClock(now).Now, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return env, svc
}

func testDemoSeed(t *testing.T, now time.Time) {
	ctx := context.Background()
	env, svc := demoServices(t, config.Default(), now)
	var out bytes.Buffer
	start := time.Now()
	if err := seedDemo(ctx, svc, env.DB, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))
	for _, a := range demoAccounts {
		if !strings.Contains(out.String(), a.Email) {
			t.Errorf("the printed logins leave out %s:\n%s", a.Email, out.String())
		}
	}

	accounts, err := env.DB.CountUsers(ctx)
	if err != nil || accounts < len(demoAccounts)+10 {
		t.Fatalf("%d accounts (%v), want the demo accounts and 10 more advocates", accounts, err)
	}
	maya, err := svc.Auth.UserByEmail(ctx, "manager@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	org := maya.OrgID
	ms, err := svc.Comply.Managers(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]string{} // ID → name
	for _, m := range ms {
		managers[m.ID] = m.Name
	}
	if len(managers) != 2 {
		t.Fatalf("managers: %v, want Maya and Priya", managers)
	}

	d, err := svc.Comply.Dashboard(ctx, org, compliance.DashboardQuery{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]int{}
	perManager := map[string]int{}
	for _, r := range d.Rows {
		status[r.Status]++
		perManager[managers[r.ManagerID]]++
		want, ok := demoExpected[r.Name]
		if !ok {
			t.Errorf("unexpected advocate %q", r.Name)
			continue
		}
		if r.Status != want.status || r.Cleared != want.cleared {
			t.Errorf("%s: status %s, cleared %v; want %s, %v (states %v)", r.Name, r.Status, r.Cleared, want.status, want.cleared, r.States)
		}
		for k, st := range want.states {
			if r.States[k] != st {
				t.Errorf("%s: %s is %s, want %s", r.Name, k, r.States[k], st)
			}
		}
		if want.states == nil && r.Overall != compliance.Met {
			t.Errorf("%s: overall %s, want every requirement met (states %v)", r.Name, r.Overall, r.States)
		}
	}
	t.Logf("dashboard: %d advocates, %d cleared, by overall state %v, by status %v, by manager %v, %d lapsing within 30 days",
		d.Advocates, d.Cleared, d.Counts, status, perManager, d.Lapsing30)
	switch {
	case d.Advocates < 12 || len(d.Rows) != d.Advocates:
		t.Errorf("%d advocates (%d rows), want at least 12", d.Advocates, len(d.Rows))
	case d.Cleared < 3:
		t.Errorf("%d cleared, want at least 3", d.Cleared)
	case d.Counts[compliance.Overdue] < 1:
		t.Errorf("no advocate overdue: %v", d.Counts)
	case status[compliance.StatusOnboarding] != 1 || status[compliance.StatusPaused] != 1:
		t.Errorf("statuses %v, want one onboarding and one paused", status)
	case perManager["Maya Manager"] < 5 || perManager["Priya Manager"] < 5:
		t.Errorf("advocates by manager %v, want them split between the two", perManager)
	}

	// Lapsing soon: the stories' requirements falling due within 30 days.
	l, err := svc.Comply.Lapsing(ctx, org, compliance.LapsingQuery{Within: 30})
	if err != nil {
		t.Fatal(err)
	}
	lapsing := map[string]bool{}
	for _, x := range l.Items {
		t.Logf("lapsing: %s, %s (%s) in %d days", x.Name, x.Key, x.State, x.DaysLeft)
		lapsing[x.Name+" "+x.Key] = true
		if x.DaysLeft < 0 || x.DaysLeft > 30 {
			t.Errorf("lapsing: %s %s in %d days", x.Name, x.Key, x.DaysLeft)
		}
	}
	for _, want := range []string{"Ben Advocate dbs", "Siobhan Murphy registration", "Rhys Evans supervision", "Imran Hussain training"} {
		if !lapsing[want] {
			t.Errorf("lapsing within 30 days leaves out %s: %v", want, lapsing)
		}
	}

	// The trend: every month of the last 12 recorded, the cleared count
	// rising to today's and overdue falling.
	trend, err := svc.Comply.Trend(ctx, org, nil)
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, m := range trend {
		if m.Recorded {
			recorded++
		}
		if m.Cleared > m.Advocates {
			t.Errorf("trend %s: %d cleared of %d advocates", m.Label, m.Cleared, m.Advocates)
		}
	}
	if len(trend) != 12 || recorded < 11 {
		t.Fatalf("trend: %d months, %d recorded: %+v", len(trend), recorded, trend)
	}
	t.Logf("trend: %+v", trend)
	first, last := trend[0], trend[len(trend)-1]
	if !last.Recorded || last.Cleared != d.Cleared || last.Advocates != d.Advocates || first.Cleared >= last.Cleared || first.Overdue <= last.Overdue {
		t.Errorf("trend from %+v to %+v; want rising to today's %d cleared of %d", first, last, d.Cleared, d.Advocates)
	}

	// A second start seeds nothing.
	out.Reset()
	if err := seedDemo(ctx, svc, env.DB, &out); err != nil || out.Len() > 0 {
		t.Fatalf("second seed: %v, printed %q", err, out.String())
	}
	if again, err := env.DB.CountUsers(ctx); err != nil || again != accounts {
		t.Errorf("second seed: %d accounts, want %d (%v)", again, accounts, err)
	}
	d2, err := svc.Comply.Dashboard(ctx, org, compliance.DashboardQuery{})
	if err != nil || d2.Advocates != d.Advocates || d2.Cleared != d.Cleared {
		t.Errorf("second seed: dashboard %d advocates, %d cleared (%v)", d2.Advocates, d2.Cleared, err)
	}
	trend2, err := svc.Comply.Trend(ctx, org, nil)
	if err != nil || len(trend2) != len(trend) || trend2[0] != trend[0] {
		t.Errorf("second seed changed the trend: %+v (%v)", trend2, err)
	}
}

// TestDemoSeedSamplePolicy seeds the demo with the test catalogue and
// policy, as the end-to-end tests run it: every advocate gets a record,
// and the first demo advocate has not started the policy's course (the
// tests take it as her).
func TestDemoSeedSamplePolicy(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.CoursesDir = filepath.Join(testenv.RepoRoot(), "courses", "testdata")
	cfg.CompliancePolicy = filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")
	env, svc := demoServices(t, cfg, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	if err := seedDemo(ctx, svc, env.DB, io.Discard); err != nil {
		t.Fatal(err)
	}
	amira, err := svc.Auth.UserByEmail(ctx, "advocate1@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.Comply.Dashboard(ctx, amira.OrgID, compliance.DashboardQuery{})
	if err != nil || d.Advocates != len(demoAdvocates) {
		t.Fatalf("dashboard: %v advocates (%v), want %d", d, err, len(demoAdvocates))
	}
	t.Logf("dashboard with the sample policy: %d advocates, %d cleared, by overall state %v", d.Advocates, d.Cleared, d.Counts)
	for _, m := range svc.Comply.Policy.MandatoryCourses {
		if _, err := env.DB.Enrolment(ctx, learning.EnrolmentID(amira.ID, m.Course)); err == nil {
			t.Errorf("Amira is enrolled on %s already", m.Course)
		}
	}
}
