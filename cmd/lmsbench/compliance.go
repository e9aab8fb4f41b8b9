package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/store"
)

// benchCompliance seeds an organisation of 1,000 advocates, each with a DBS
// check, 2 references, 40 CPD entries and 12 supervisions under two named
// managers, and measures the manager's dashboard (with every filter) and
// the lapsing view over HTTP.
func benchCompliance(ctx context.Context, svc *app.Services, db *store.DB, base string) error {
	const n = 1000
	now := time.Now()
	org, err := svc.Auth.CreateOrg(ctx, "Bench Advocacy Service", auth.OrgService)
	if err != nil {
		return err
	}
	manager, err := svc.Auth.CreateUser(ctx, "bench.manager@bench.example", "Bench Manager", auth.HashPassword("bench manager password"), org.ID, auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleManager})
	if err != nil {
		return err
	}
	if err := db.UpdateUser(ctx, manager.ID, auth.UserUpdate{TOTPEnabled: new(true)}); err != nil {
		return err
	}
	token, sid := auth.NewToken()
	if err := db.InsertSession(ctx, &auth.Session{ID: sid, UserID: manager.ID, Created: now, LastSeen: now, Expires: now.Add(auth.SessionAbsolute)}); err != nil {
		return err
	}
	// A second named manager, for half the advocates.
	second, err := svc.Auth.CreateUser(ctx, "bench.manager2@bench.example", "Second Manager", auth.HashPassword("bench manager password"), org.ID, auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleManager})
	if err != nil {
		return err
	}
	rollup := compliance.Rollup{OrgID: org.ID, Rows: map[string]compliance.Row{}}
	var batch []any
	for i := 0; i < n; i++ {
		a := benchAdvocate(i, org.ID, []string{manager.ID, second.ID}[i%2], now, svc.Comply)
		a.Snapshot = compliance.Evaluate(svc.Comply.Policy, a, svc.Comply.CourseTitle, now)
		rollup.Rows[a.ID] = svc.Comply.RowOf(a)
		batch = append(batch, struct {
			compliance.Advocate `bson:",inline"`
			Version             int64 `bson:"version"`
		}{*a, 1})
		if len(batch) == 100 || i == n-1 {
			if _, err := db.DB.Collection("advocates").InsertMany(ctx, batch); err != nil {
				return fmt.Errorf("seed advocates: %w", err)
			}
			batch = batch[:0]
		}
	}
	if err := db.PutRollup(ctx, &rollup); err != nil {
		return fmt.Errorf("seed dashboard: %w", err)
	}
	// Two years of daily trend points (the store keeps 400 days), as the
	// daily job leaves them: the chart reads them with the rollup.
	today := civil.Of(now)
	for d := compliance.TrendDays; d >= 0; d-- {
		p := compliance.TrendPoint{Advocates: n, Cleared: n/2 + d%50, Overdue: 100 + d%30}
		if err := db.PutTrendPoint(ctx, org.ID, today.AddDays(-d).String(), p, today.AddDays(-compliance.TrendDays).String()); err != nil {
			return fmt.Errorf("seed trend: %w", err)
		}
	}
	// The dashboard's mix: plain, every filter, a requirement, a named
	// manager, a status, an overall state, searched, sorted and paged.
	dashboard := []string{"/manage", "/manage?filter=due90&sort=next-due&page=2", "/manage?q=Advocate+1&requirement=cpd",
		"/manage?filter=due7", "/manage?filter=due30&status=active", "/manage?filter=due60&requirement=dbs", "/manage?filter=overdue",
		"/manage?filter=missing", "/manage?filter=attention&sort=next-due", "/manage?filter=cleared", "/manage?filter=not-cleared&requirement=supervision",
		"/manage?manager=" + second.ID, "/manage?manager=none&filter=attention", "/manage?overall=due-soon", "/manage?status=paused"}
	p95, err := p95Of(base, token, dashboard, 6)
	if err != nil {
		return err
	}
	fmt.Printf("bench compliance_dashboard_p95 %.1f ms\n", p95)
	lapsing := []string{"/manage/lapsing?within=30", "/manage/lapsing?within=90&requirement=dbs", "/manage/lapsing?within=7",
		"/manage/lapsing?within=60&manager=" + second.ID, "/manage/lapsing?within=90&page=3"}
	if p95, err = p95Of(base, token, lapsing, 12); err != nil {
		return err
	}
	fmt.Printf("bench compliance_lapsing_p95 %.1f ms\n", p95)
	return nil
}

// p95Of requests each path in turn, rounds times, as the signed-in
// manager, and returns the 95th percentile in milliseconds (the first
// pass, which warms caches, not counted).
func p95Of(base, token string, paths []string, rounds int) (float64, error) {
	client := &http.Client{}
	var times []float64
	for i := 0; i < rounds*len(paths); i++ {
		req, _ := http.NewRequest("GET", base+paths[i%len(paths)], nil)
		req.Header.Set("Cookie", "lms_session="+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("%s: status %d", paths[i%len(paths)], resp.StatusCode)
		}
		if i >= len(paths) {
			times = append(times, ms(time.Since(start)))
		}
	}
	sort.Float64s(times)
	return times[len(times)*95/100], nil
}

func benchAdvocate(i int, orgID, managerID string, now time.Time, svc *compliance.Service) *compliance.Advocate {
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }
	dp := func(d int) *time.Time { t := day(d); return &t }
	a := &compliance.Advocate{ID: "bench-adv-" + strconv.Itoa(i), Name: fmt.Sprintf("Advocate %04d", i), Email: fmt.Sprintf("adv%d@bench.example", i),
		OrgID: orgID, Profession: []string{compliance.SocialWorker, compliance.Solicitor, compliance.OtherAdvocate}[i%3], Status: benchStatus(i),
		ManagerID: managerID, ContractStart: dp(-400), Created: day(-400), Updated: now, MandatoryCourses: []string{},
		Training: map[string]time.Time{}}
	if i%3 != 2 {
		a.RegistrationNo, a.RegistrationDue = "REG"+strconv.Itoa(i), dp(30+i%300)
	}
	a.DBS = []compliance.DBSCheck{{ID: "d1", Level: "enhanced", BarredLists: []string{"children"}, Workforce: "child", CertificateNumber: svc.Box.Seal("001234567890", "x"),
		NumberLast4: "7890", IssueDate: day(-(i % 1200)), OriginalSeenBy: "Bench Manager", OriginalSeenAt: dp(-(i % 1200)), Decision: "clear", DecisionAt: dp(-(i % 1200)),
		RecordedBy: "Bench Manager", RecordedAt: day(-(i % 1200))}}
	for r := 0; r < 2; r++ {
		a.References = append(a.References, compliance.Reference{ID: "r" + strconv.Itoa(r), Referee: "Referee " + strconv.Itoa(r), Relationship: "Former manager",
			Contact: "referee@example.org", ReceivedAt: dp(-420), VerifiedBy: "Bench Manager", VerifiedAt: dp(-419), Outcome: "satisfactory",
			Notes: svc.Box.Seal("Reference notes for the bench.", "x"), RecordedBy: "Bench Manager", RecordedAt: day(-419)})
	}
	for c := 0; c < 40; c++ {
		a.CPD = append(a.CPD, compliance.CPDEntry{ID: "c" + strconv.Itoa(c), Date: day(-c * 18), Title: "Reading on child protection practice " + strconv.Itoa(c),
			Type: []string{"reading", "course", "peer-reflection", "conference"}[c%4], Hours: 1.5, Learnt: "What was learnt, in a few sentences of realistic length for a record.",
			Impact: "How it changed practice with parents, in a few sentences.", Source: "manual", RecordedBy: "Bench", RecordedAt: day(-c * 18)})
	}
	for s := 0; s < 12; s++ {
		a.Supervisions = append(a.Supervisions, compliance.Supervision{ID: "s" + strconv.Itoa(s), Date: day(-s*30 - i%40), Supervisor: "Bench Manager", Kind: "individual",
			Notes: svc.Box.Seal("Supervision notes.", "x"), RecordedBy: "Bench Manager", RecordedAt: day(-s * 30)})
	}
	return a
}

// benchStatus makes one advocate in 25 paused and one onboarding.
func benchStatus(i int) string {
	switch i % 25 {
	case 0:
		return compliance.StatusPaused
	case 1:
		return compliance.StatusOnboarding
	}
	return compliance.StatusActive
}
