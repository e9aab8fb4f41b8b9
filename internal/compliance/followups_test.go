package compliance_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var errInjected = errors.New("injected store failure")

// faultyStore is the compliance store with failures injected, method by
// method; everything else goes to the real database.
type faultyStore struct {
	compliance.Store
	mu   sync.Mutex
	fail map[string]bool
}

func (f *faultyStore) failing(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[method]
}

func (f *faultyStore) set(method string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = on
}

func (f *faultyStore) UpdateAdvocate(ctx context.Context, id string, fn func(*compliance.Advocate) error) (*compliance.Advocate, error) {
	if f.failing("UpdateAdvocate") {
		return nil, errInjected
	}
	a, err := f.Store.UpdateAdvocate(ctx, id, fn)
	if err == nil && f.failing("UpdateAdvocate:after") { // saved, then a step after the save failed
		return a, errors.Join(compliance.ErrSaved, errInjected)
	}
	return a, err
}

func (f *faultyStore) InsertAdvocate(ctx context.Context, a *compliance.Advocate) error {
	if f.failing("InsertAdvocate") {
		return errInjected
	}
	return f.Store.InsertAdvocate(ctx, a)
}

func (f *faultyStore) PutRollupRow(ctx context.Context, orgID string, r compliance.Row) error {
	if f.failing("PutRollupRow") {
		return errInjected
	}
	return f.Store.PutRollupRow(ctx, orgID, r)
}

// faultyAudit is the audit store with InsertEvent failing on demand.
type faultyAudit struct {
	audit.Store
	failing bool
}

func (f *faultyAudit) InsertEvent(ctx context.Context, e *audit.Event) error {
	if f.failing {
		return errInjected
	}
	return f.Store.InsertEvent(ctx, e)
}

// faultyBlobs is the evidence store with Delete failing on demand.
type faultyBlobs struct {
	compliance.Blobs
	failDelete bool
}

func (f *faultyBlobs) Delete(ctx context.Context, key string) error {
	if f.failDelete {
		return errInjected
	}
	return f.Blobs.Delete(ctx, key)
}

type fixture struct {
	env     *testenv.Env
	clock   *testenv.Clock
	svc     *compliance.Service
	st      *faultyStore
	audit   *faultyAudit
	blobs   *faultyBlobs
	manager *auth.User
	advID   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t)
	clock := testenv.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	c, probs := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
	if len(courses.Errors(probs)) > 0 {
		t.Fatal(probs)
	}
	cfg := config.Default()
	cfg.BaseURL, cfg.CompliancePolicy = "http://lms.test", "testdata/sample-policy.yaml"
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	_, svc, err := app.Wire(cfg, learning.NewCatalogue([]*courses.Course{c}), env.DB, env.Blob, key, clock.Now, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{env: env, clock: clock, st: &faultyStore{Store: env.DB, fail: map[string]bool{}}, audit: &faultyAudit{Store: env.DB}}
	d := svc.Comply.Deps
	f.blobs = &faultyBlobs{Blobs: d.Blobs}
	d.Blobs, d.Audit = f.blobs, audit.NewLog(f.audit, clock.Now)
	f.svc = compliance.NewService(f.st, d)
	ctx := context.Background()
	f.manager = &auth.User{ID: auth.NewID(), Email: "maya@example.org", Name: "Maya Manager", OrgID: "org-a", Roles: []auth.Role{auth.RoleLearner, auth.RoleManager}, Version: 1}
	if err := env.DB.InsertUser(ctx, f.manager); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Create(ctx, f.manager, compliance.NewAdvocateForm{Name: "Amal Advocate", Email: "amal@example.org", Profession: "other-advocate", Status: "active", ContractStart: "2026-03-01"})
	if err != nil {
		t.Fatal(err)
	}
	f.advID = a.ID
	return f
}

var pdf = []byte("%PDF-1.4 evidence of the course attended\n%%EOF")

func (f *fixture) fileExists(t *testing.T, key string) bool {
	t.Helper()
	r, _, err := f.env.Blob.Open(context.Background(), key)
	if errs.Is(err, errs.ENOTFOUND) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, r)
	r.Close()
	return true
}

func (f *fixture) events(t *testing.T, action string) int {
	t.Helper()
	evs, _, err := f.env.DB.Events(context.Background(), audit.Query{Target: "advocate:" + f.advID, Action: action, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func (f *fixture) followUps(t *testing.T) int {
	t.Helper()
	items, err := f.env.DB.FollowUps(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

func (f *fixture) addCPD() (*compliance.Advocate, error) {
	return f.svc.AddCPD(context.Background(), f.manager, f.advID, compliance.CPDForm{Date: "2026-11-01", Title: "Court skills day", Type: "course", Hours: "6", Learnt: "How hearings run", Impact: "Better prepared parents"},
		[]*compliance.Upload{{Name: "certificate.pdf", Size: int64(len(pdf)), Data: pdf}})
}

// saved is one kind of record with a file, as TestAFailureAfterTheSaveNeverUndoesIt adds it.
type saved struct {
	kind, action string
	add          func(f *fixture) (*compliance.Advocate, error)
	key          func(a *compliance.Advocate) (string, int) // the file's key, and how many records of the kind
}

var savedKinds = []saved{
	{"cpd", "cpd.create", (*fixture).addCPD, func(a *compliance.Advocate) (string, int) {
		if len(a.CPD) == 0 || len(a.CPD[0].Evidence) == 0 {
			return "", len(a.CPD)
		}
		return a.CPD[0].Evidence[0].Key, len(a.CPD)
	}},
	{"dbs", "dbs.create", (*fixture).addDBS, func(a *compliance.Advocate) (string, int) {
		if len(a.DBS) == 0 {
			return "", 0
		}
		return a.DBS[0].ScanKey, len(a.DBS)
	}},
}

func (f *fixture) addDBS() (*compliance.Advocate, error) {
	return f.svc.AddDBS(context.Background(), f.manager, f.advID, compliance.DBSForm{Level: "enhanced", RoleEligible: "eligible", Workforce: "child",
		BarredChildren: true, CertificateNumber: "001234567890", IssueDate: "2026-10-01", OriginalSeenBy: "Maya Manager", OriginalSeenAt: "2026-10-02",
		Decision: "clear"}, &compliance.Upload{Name: "dbs.pdf", Size: int64(len(pdf)), Data: pdf})
}

func TestAFailureAfterTheSaveNeverUndoesIt(t *testing.T) {
	for _, kind := range savedKinds {
		for _, step := range []string{"audit", "rollup", "lists"} {
			t.Run(kind.kind+"/"+step, func(t *testing.T) { afterTheSave(t, kind, step) })
		}
	}
}

func afterTheSave(t *testing.T, kind saved, step string) {
	{
		{
			f := newFixture(t)
			ctx := context.Background()
			switch step {
			case "audit":
				f.audit.failing = true
			case "rollup":
				f.st.set("PutRollupRow", true)
			case "lists":
				f.st.set("UpdateAdvocate:after", true)
			}
			a, err := kind.add(f)
			if err != nil {
				t.Fatalf("adding a %s record with the %s step failing after the save: %v; want success (the record is saved)", kind.kind, step, err)
			}
			key, n := kind.key(a)
			if n != 1 || key == "" {
				t.Fatalf("saved record: %d of them, file %q", n, key)
			}
			if !f.fileExists(t, key) {
				t.Fatal("the file the saved record points at was deleted")
			}
			stored, _ := f.env.DB.Advocate(ctx, f.advID)
			if _, n := kind.key(stored); n != 1 {
				t.Fatalf("records stored: %d, want 1", n)
			}
			// Healed, the reconciler finishes what was left.
			f.audit.failing = false
			f.st.set("PutRollupRow", false)
			f.st.set("UpdateAdvocate:after", false)
			if n, err := f.svc.Reconcile(ctx); err != nil || n != 0 {
				t.Fatalf("reconcile within the grace: %d, %v; want the call's own follow-up left alone", n, err)
			}
			f.clock.Advance(compliance.FollowUpGrace + time.Second)
			if _, err := f.svc.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			if n := f.events(t, kind.action); n != 1 {
				t.Fatalf("%s events: %d, want exactly 1", kind.action, n)
			}
			after, _ := f.env.DB.Advocate(ctx, f.advID)
			if len(after.Outbox) != 0 || f.followUps(t) != 0 {
				t.Fatalf("left over: %d outbox events, %d follow-ups", len(after.Outbox), f.followUps(t))
			}
			roll, err := f.env.DB.Rollup(ctx, "org-a")
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := roll.Rows[f.advID]; !ok || !r.Updated.Equal(after.Updated) {
				t.Fatalf("dashboard row not refreshed: %+v (record updated %s)", r, after.Updated)
			}
			if !f.fileExists(t, key) {
				t.Fatal("the reconciler deleted a file a saved entry points at")
			}
			// A second pass has nothing to do.
			if n, _ := f.svc.Reconcile(ctx); n != 0 || f.events(t, kind.action) != 1 {
				t.Fatalf("second pass: %d, events %d", n, f.events(t, kind.action))
			}
		}
	}
}

func TestAnUnsavedChangeLeavesNoFile(t *testing.T) {
	t.Run("DeletedAtOnce", func(t *testing.T) {
		f := newFixture(t)
		f.st.set("UpdateAdvocate", true)
		if _, err := f.addCPD(); !errors.Is(err, errInjected) {
			t.Fatalf("AddCPD with the save failing: %v", err)
		}
		if n := countEvidence(t, f); n != 0 {
			t.Fatalf("%d evidence files left for an entry that was not saved", n)
		}
		if f.followUps(t) != 0 {
			t.Fatal("the follow-up of an abandoned change is left")
		}
	})
	t.Run("DeletedByTheReconcilerAfterACrash", func(t *testing.T) {
		f := newFixture(t)
		// The save fails and so does the delete: as if the process died
		// between storing the file and saving the record.
		f.st.set("UpdateAdvocate", true)
		f.blobs.failDelete = true
		if _, err := f.addCPD(); err == nil {
			t.Fatal("AddCPD succeeded with the save failing")
		}
		if n := countEvidence(t, f); n != 1 || f.followUps(t) != 1 {
			t.Fatalf("after the 'crash': %d files, %d follow-ups; want the file and its follow-up", n, f.followUps(t))
		}
		f.st.set("UpdateAdvocate", false)
		f.blobs.failDelete = false
		f.clock.Advance(compliance.FollowUpGrace + time.Second)
		if n, err := f.svc.Reconcile(context.Background()); err != nil || n != 1 {
			t.Fatalf("reconcile: %d, %v", n, err)
		}
		if n := countEvidence(t, f); n != 0 || f.followUps(t) != 0 {
			t.Fatalf("after the reconciler: %d files, %d follow-ups; want none", n, f.followUps(t))
		}
	})
}

func countEvidence(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	if err := f.env.Blob.List(context.Background(), "evidence/"+f.advID+"/", func(string, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreatingAnAdvocateIsFinishedWhenTheRecordFails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.st.set("InsertAdvocate", true)
	_, err := f.svc.Create(ctx, f.manager, compliance.NewAdvocateForm{Name: "Bea Advocate", Email: "Bea@Example.org", Profession: "other-advocate", Status: "active"})
	if !errs.Is(err, errs.EUNAVAILABLE) || !strings.Contains(errs.MessageOf(err), "you do not need to add the person again") {
		t.Fatalf("Create with the record failing: %v; want a message saying it will be completed", err)
	}
	uid, _, err := f.env.DB.EmailClaim(ctx, "bea@example.org")
	if err != nil {
		t.Fatal("the account was not made")
	}
	f.st.set("InsertAdvocate", false)
	f.clock.Advance(compliance.FollowUpGrace + time.Second)
	if _, err := f.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := f.env.DB.Advocate(ctx, uid)
	if err != nil || a.Name != "Bea Advocate" || a.OrgID != "org-a" || a.Profession != "other-advocate" {
		t.Fatalf("record after the reconciler: %+v, %v", a, err)
	}
	evs, _, _ := f.env.DB.Events(ctx, audit.Query{Target: "advocate:" + uid, Action: "advocate.create", Limit: 10})
	if len(evs) != 1 || evs[0].ActorID != f.manager.ID {
		t.Fatalf("advocate.create events: %+v; want one, by the manager", evs)
	}
	if f.followUps(t) != 0 {
		t.Fatal("follow-ups left")
	}
	// A follow-up for an email that is someone else's account makes nothing.
	other, err := f.svc.Auth.CreateUser(ctx, "carl@example.org", "Carl Learner", auth.HashPassword("a password for carl"), "org-a", auth.JobOther, []auth.Role{auth.RoleLearner})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, f.manager, compliance.NewAdvocateForm{Name: "Carl Learner", Email: "carl@example.org", Profession: "other-advocate", Status: "active"}); err == nil {
		t.Fatal("Create on a taken email succeeded")
	}
	if _, err := f.env.DB.Advocate(ctx, other.ID); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatal("someone else's account was given a compliance record")
	}
}

// TestADashboardViewAfterMidnightReadsAndNeverWrites: once dates pass, a
// dashboard view shows each row as of today — a DBS check that has lapsed
// since the row was computed shows so — by reading the records, without
// writing the dashboard (the periodic job does that), so a view just after
// midnight never waits behind the write lock.
func TestADashboardViewAfterMidnightReadsAndNeverWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.addDBS(); err != nil {
		t.Fatal(err)
	}
	before, err := f.svc.Dashboard(ctx, "org-a", compliance.DashboardQuery{})
	if err != nil || len(before.Rows) != 1 {
		t.Fatalf("dashboard: %+v, %v", before, err)
	}
	was := before.Rows[0].States[compliance.ReqDBS]
	stored, _ := f.env.DB.Rollup(ctx, "org-a")
	f.clock.Advance(4 * 365 * 24 * time.Hour) // past the check's renewal
	after, err := f.svc.Dashboard(ctx, "org-a", compliance.DashboardQuery{})
	if err != nil || len(after.Rows) != 1 {
		t.Fatalf("dashboard: %+v, %v", after, err)
	}
	if now := after.Rows[0].States[compliance.ReqDBS]; now == was || now != compliance.Overdue {
		t.Fatalf("four years on, the DBS state is %q (was %q), want %q", now, was, compliance.Overdue)
	}
	again, _ := f.env.DB.Rollup(ctx, "org-a")
	if !again.Rows[f.advID].Computed.Equal(stored.Rows[f.advID].Computed) {
		t.Fatal("the view wrote the dashboard")
	}
}

// TestADashboardViewReevaluatesABatchAndSaysHowManyWait: with more stale
// rows than one view re-evaluates, the dashboard says how many still show
// yesterday's statuses; the day's recompute leaves none.
func TestADashboardViewReevaluatesABatchAndSaysHowManyWait(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 29 {
		if _, err := f.svc.Create(ctx, f.manager, compliance.NewAdvocateForm{Name: fmt.Sprintf("Advocate %02d", i), Email: fmt.Sprintf("adv%02d@example.org", i),
			Profession: "other-advocate", Status: "active", ContractStart: "2026-03-01"}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(24 * time.Hour)
	d, err := f.svc.Dashboard(ctx, "org-a", compliance.DashboardQuery{})
	if err != nil || d.Advocates != 30 || d.Behind != 5 {
		t.Fatalf("the day after: %d advocates, %d behind (want 30 and 5), %v", d.Advocates, d.Behind, err)
	}
	if _, err := f.svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.Dashboard(ctx, "org-a", compliance.DashboardQuery{}); d.Behind != 0 {
		t.Fatalf("after the day's recompute: %d behind", d.Behind)
	}
}
