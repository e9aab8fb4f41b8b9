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
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/store"
)

// benchCompliance seeds an organisation of 1,000 advocates, each with a DBS
// check, 2 references, 40 CPD entries and 12 supervisions, and measures the
// manager's dashboard page over HTTP.
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
	rollup := compliance.Rollup{OrgID: org.ID, Rows: map[string]compliance.Row{}}
	var batch []any
	for i := 0; i < n; i++ {
		a := benchAdvocate(i, org.ID, manager.ID, now, svc.Comply)
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
	client := &http.Client{}
	var times []float64
	for i := 0; i < 60; i++ {
		url := base + "/manage"
		switch i % 3 { // plain, filtered and sorted, searched
		case 1:
			url += "?filter=due90&sort=next-due&page=2"
		case 2:
			url += "?q=Advocate+1&requirement=cpd"
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Cookie", "lms_session="+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("dashboard: status %d", resp.StatusCode)
		}
		if i >= 6 { // the first requests warm caches
			times = append(times, ms(time.Since(start)))
		}
	}
	sort.Float64s(times)
	fmt.Printf("bench compliance_dashboard_p95 %.1f ms\n", times[len(times)*95/100])
	return nil
}

func benchAdvocate(i int, orgID, managerID string, now time.Time, svc *compliance.Service) *compliance.Advocate {
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }
	dp := func(d int) *time.Time { t := day(d); return &t }
	a := &compliance.Advocate{ID: "bench-adv-" + strconv.Itoa(i), Name: fmt.Sprintf("Advocate %04d", i), Email: fmt.Sprintf("adv%d@bench.example", i),
		OrgID: orgID, Profession: []string{compliance.SocialWorker, compliance.Solicitor, compliance.OtherAdvocate}[i%3], Status: compliance.StatusActive,
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
