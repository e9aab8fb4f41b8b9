package certificates_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type fixture struct {
	env   *testenv.Env
	learn *learning.Service
	certs *certificates.Service
	mu    sync.Mutex
	now   time.Time
	user  *auth.User
	admin *auth.User
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

var (
	rendererOnce sync.Once
	renderer     *certificates.Renderer
)

func testRenderer(t testing.TB) *certificates.Renderer {
	rendererOnce.Do(func() {
		reg, _ := os.ReadFile("../../web/static/fonts/DejaVuSans.ttf")
		bold, _ := os.ReadFile("../../web/static/fonts/DejaVuSans-Bold.ttf")
		var err error
		if renderer, err = certificates.NewRenderer(reg, bold); err != nil {
			t.Fatal(err)
		}
	})
	return renderer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{env: testenv.New(t), now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	c, probs := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
	if len(courses.Errors(probs)) > 0 {
		t.Fatal(probs)
	}
	cat := learning.NewCatalogue([]*courses.Course{c})
	f.learn = learning.NewService(f.env.DB, cat, f.clock, nil)
	f.certs = f.newService()
	f.user = f.addUser(t, "zoe@example.org", "Zoë Łukasiewicz-Ørsted", auth.RoleLearner)
	f.admin = f.addUser(t, "admin@example.org", "Ada Admin", auth.RoleAdmin)
	return f
}

// newService is a fresh service on the same stores: a restarted process.
func (f *fixture) newService() *certificates.Service {
	return certificates.NewService(f.env.DB, certificates.Deps{Blobs: f.env.Blob, Accounts: f.env.DB, Enrolments: f.env.DB, Catalogue: f.learn.Catalogue,
		Renderer: renderer, Audit: audit.NewLog(f.env.DB, f.clock), Now: f.clock, Log: slog.New(slog.DiscardHandler),
		BaseURL: "https://lms.example", OrgName: "Family Advocacy Service"})
}

func (f *fixture) addUser(t *testing.T, email, name string, role auth.Role) *auth.User {
	t.Helper()
	u := &auth.User{ID: auth.NewID(), Email: email, Name: name, OrgID: "org-a", Roles: []auth.Role{auth.RoleLearner, role}, Version: 1}
	if err := f.env.DB.InsertUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// complete passes the sample course for the user and returns the enrolment ID.
func (f *fixture) complete(t *testing.T, userID string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.learn.Enrol(ctx, userID, "sample-course"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		if _, err := f.learn.CompleteLesson(ctx, userID, "sample-course", l); err != nil {
			t.Fatal(err)
		}
	}
	a, err := f.learn.StartAttempt(ctx, userID, "sample-course")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.learn.Catalogue.Get("sample-course")
	ans := courses.Answers{}
	for _, it := range a.Paper {
		q, _ := c.Assessment.Question(it.QuestionID)
		for i, o := range q.Options {
			if o.Correct {
				ans[q.ID] = append(ans[q.ID], i)
			}
		}
	}
	sub, err := f.learn.Submit(ctx, userID, "sample-course", a.No, ans)
	if err != nil || !sub.Result.Passed {
		t.Fatalf("submit: %+v %v", sub, err)
	}
	return learning.EnrolmentID(userID, "sample-course")
}

func (f *fixture) object(t *testing.T, code string) []byte {
	t.Helper()
	r, _, err := f.env.Blob.Open(context.Background(), certificates.ObjectKey(code))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return b
}

// issued passes the sample course for userID and issues its certificate.
func (f *fixture) issued(t *testing.T, userID string) *certificates.Certificate {
	t.Helper()
	c, err := f.certs.Issue(context.Background(), f.complete(t, userID))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func countCertificates(t *testing.T, f *fixture) int {
	n, err := f.env.DB.CountCourseCertificates(context.Background(), "sample-course")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTwentyConcurrentIssuesMakeOneCertificate(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	eid := f.complete(t, f.user.ID)
	var wg sync.WaitGroup
	codes := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.newService().Issue(context.Background(), eid)
			if err != nil {
				t.Errorf("issue: %v", err)
				return
			}
			codes <- c.Code
		}()
	}
	wg.Wait()
	close(codes)
	seen := map[string]bool{}
	for c := range codes {
		seen[c] = true
	}
	if len(seen) != 1 || countCertificates(t, f) != 1 {
		t.Fatalf("codes returned %v, certificates stored %d; want one", seen, countCertificates(t, f))
	}
	for code := range seen {
		c, _ := f.env.DB.Certificate(context.Background(), code)
		if c.Status != certificates.StatusIssued || c.SHA256 != sha(f.object(t, code)) {
			t.Fatalf("certificate %s: status %s, stored hash matches object: %v", code, c.Status, c.SHA256 == sha(f.object(t, code)))
		}
		e, _ := f.env.DB.Enrolment(context.Background(), eid)
		if len(e.CertificateCodes) != 1 || e.CertificateCodes[0] != code {
			t.Fatalf("enrolment certificate codes: %v", e.CertificateCodes)
		}
	}
}

func TestCrashBetweenPutAndMarkIssuedIsFinishedAfterRestart(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	eid := f.complete(t, f.user.ID)
	crashing := f.newService()
	stored := ""
	crashing.FaultAfterPut = func(code string) error {
		stored = code
		return errors.New("killed after the PUT")
	}
	if _, err := crashing.Issue(ctx, eid); err == nil {
		t.Fatal("issue did not stop at the fault")
	}
	if stored == "" {
		t.Fatal("the fault hook did not run")
	}
	// The PDF is stored, but the certificate is not recorded as issued: it
	// cannot be downloaded and verifies as being prepared.
	if c, err := f.env.DB.Certificate(ctx, stored); err != nil || c.Status == certificates.StatusIssued || len(f.object(t, stored)) == 0 {
		t.Fatalf("after the crash: record %+v (%v), object %d bytes; want the object and a record not issued", c, err, len(f.object(t, stored)))
	}
	if c, _ := f.certs.Get(ctx, stored); certificates.StateOf(c, f.clock()) != certificates.StatePreparing {
		t.Fatalf("after the crash the code verifies as %s, want preparing", certificates.StateOf(c, f.clock()))
	}
	// Restart: the completion is still marked for its certificate, so the
	// hand-over reconciler (internal/handover) calls Issue again once the
	// request that started it has had its time; Issue finds the claim and
	// the record and finishes them.
	restarted := f.newService()
	if n, err := restarted.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("certificate reconcile: %d, %v; want a first issue left to the hand-over", n, err)
	}
	if e, _ := f.env.DB.Enrolment(ctx, eid); !slices.Contains(e.Pending, learning.PendingCertificate) {
		t.Fatalf("the completion is no longer marked for its certificate: %v", e.Pending)
	}
	f.advance(certificates.ReconcileGrace)
	if c, err := restarted.Issue(ctx, eid); err != nil || c.Code != stored {
		t.Fatalf("issue after the restart: %+v, %v; want %s", c, err, stored)
	}
	if countCertificates(t, f) != 1 {
		t.Fatalf("certificates: %d, want 1", countCertificates(t, f))
	}
	c, _ := f.env.DB.Certificate(ctx, stored)
	if c.Status != certificates.StatusIssued || c.SHA256 != sha(f.object(t, stored)) || c.Size != int64(len(f.object(t, stored))) {
		t.Fatalf("after restart: status %s, hash matches %v", c.Status, c.SHA256 == sha(f.object(t, stored)))
	}
	e, _ := f.env.DB.Enrolment(ctx, eid)
	if len(e.CertificateCodes) != 1 || e.CertificateCodes[0] != stored {
		t.Fatalf("enrolment: %v pending %v", e.CertificateCodes, e.Pending)
	}
	if n, _ := restarted.Reconcile(ctx); n != 0 {
		t.Fatalf("a second reconcile did %d things, want 0", n)
	}
}

func TestBulkReissueResumesWithoutDoubleRevisions(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	var codes []string
	for i := 0; i < 5; i++ {
		u := f.addUser(t, "l"+string(rune('a'+i))+"@example.org", "Learner "+string(rune('A'+i)), auth.RoleLearner)
		codes = append(codes, f.issued(t, u.ID).Code)
	}
	first := f.object(t, codes[0])
	f.advance(time.Hour)
	job, err := f.certs.StartBulkReissue(ctx, "sample-course", "corrected title", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if j := waitForJob(t, f.certs, job.ID); j.Done != 5 || j.Failed != 0 || j.Total != 5 {
		t.Fatalf("job: %+v", j)
	}
	// Each new file verifies by upload as ours and current.
	verifies := func(when string) {
		t.Helper()
		for _, code := range codes {
			c, _ := f.env.DB.Certificate(ctx, code)
			if c.Revision != 2 || c.SHA256 != sha(f.object(t, code)) {
				t.Fatalf("%s %s: revision %d, hash matches %v", when, code, c.Revision, c.SHA256 == sha(f.object(t, code)))
			}
			fc, err := f.certs.VerifyFile(ctx, bytes.NewReader(f.object(t, code)))
			if err != nil || !fc.Ours || fc.State != certificates.StateValid {
				t.Fatalf("%s %s: the new file verifies as %+v, %v; want ours and valid", when, code, fc, err)
			}
			if _, err := f.env.DB.Revision(ctx, code, 2); err != nil {
				t.Fatalf("%s %s: revision 2 not recorded: %v", when, code, err)
			}
		}
	}
	verifies("after the job")
	if fc, err := f.certs.VerifyFile(ctx, bytes.NewReader(first)); err != nil || !fc.Ours || fc.State != certificates.StateReplaced {
		t.Fatalf("the first revision's file verifies as %+v, %v; want replaced", fc, err)
	}
	// A crash after the certificates were marked but before the batch's
	// hashes and revisions were written: the job resumes from the last
	// saved cursor, adds no third revision, and records what was missing.
	for _, code := range codes {
		c, _ := f.env.DB.Certificate(ctx, code)
		if _, err := f.env.DB.DB.Collection("certificate_hashes").DeleteOne(ctx, map[string]string{"_id": c.SHA256}); err != nil {
			t.Fatal(err)
		}
		if err := f.env.DB.DeleteRevision(ctx, code, 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.env.DB.UpdateJob(ctx, job.ID, certificates.JobUpdate{Cursor: new(""), Done: new(0), Finished: new(time.Time{})}); err != nil {
		t.Fatal(err)
	}
	if err := f.certs.RunJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	verifies("after the job ran again")
}

// waitForJob waits up to 30 s for a background job to finish and returns it.
func waitForJob(t *testing.T, s *certificates.Service, id string) *certificates.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := s.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !j.Finished.IsZero() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not finish: %+v", id, j)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordFirst is the certificate store's object storage, checking that
// every certificate file stored already has its record in the database
// and its holder's list: a crash after the upload then leaves nothing that
// /verify, erasure or the data download cannot see.
type recordFirst struct {
	certificates.Blobs
	f      *fixture
	t      *testing.T
	stored atomic.Int64
}

func (r *recordFirst) Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	code := strings.TrimSuffix(strings.TrimPrefix(key, "certificates/"), ".pdf")
	if _, err := r.f.env.DB.Certificate(ctx, code); err != nil {
		r.t.Errorf("%s stored before its certificate was recorded: %v", key, err)
	}
	r.stored.Add(1)
	return r.Blobs.Put(ctx, key, body, size, contentType)
}

func TestNoCertificateFileIsStoredBeforeItsRecord(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	eid := f.complete(t, f.user.ID)
	checking := &recordFirst{Blobs: f.env.Blob, f: f, t: t}
	svc := f.newService()
	svc.Blobs = checking
	var wg sync.WaitGroup
	for range 8 { // concurrent requests for the same completion
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Issue(context.Background(), eid); err != nil {
				t.Errorf("issue: %v", err)
			}
		}()
	}
	wg.Wait()
	if checking.stored.Load() == 0 || countCertificates(t, f) != 1 {
		t.Fatalf("files stored %d, certificates %d; want at least one file and one certificate", checking.stored.Load(), countCertificates(t, f))
	}
}

// flakyBlobs is the real object storage, failing its first few uploads as
// a MinIO being restarted does.
type flakyBlobs struct {
	certificates.Blobs
	failures atomic.Int64 // uploads still to fail
	failed   atomic.Int64
}

func (b *flakyBlobs) Put(ctx context.Context, key string, body io.Reader, size int64, contentType string) error {
	if b.failures.Add(-1) >= 0 {
		b.failed.Add(1)
		return errs.E(errs.EUNAVAILABLE, "File storage is not answering at the moment.")
	}
	return b.Blobs.Put(ctx, key, body, size, contentType)
}

// TestABulkJobRetriesABatchWhenStorageFailsForAMoment: uploads that fail
// for a moment make the job do the batch again, not finish with those
// certificates counted failed (or left out).
func TestABulkJobRetriesABatchWhenStorageFailsForAMoment(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	var codes []string
	for i := 0; i < 4; i++ {
		u := f.addUser(t, "r"+string(rune('a'+i))+"@example.org", "Learner "+string(rune('A'+i)), auth.RoleLearner)
		codes = append(codes, f.issued(t, u.ID).Code)
	}
	f.advance(time.Hour)
	flaky := &flakyBlobs{Blobs: f.env.Blob}
	flaky.failures.Store(3)
	svc := f.newService()
	svc.Blobs = flaky
	job, err := svc.StartBulkReissue(ctx, "sample-course", "corrected title", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	j := waitForJob(t, svc, job.ID)
	if flaky.failed.Load() != 3 || j.Done != 4 || j.Failed != 0 || j.Error != "" {
		t.Fatalf("uploads failed %d; job %+v; want all 4 reissued after the batch was tried again", flaky.failed.Load(), j)
	}
	for _, code := range codes {
		if c, _ := f.env.DB.Certificate(ctx, code); c.Revision != 2 || c.SHA256 != sha(f.object(t, code)) {
			t.Fatalf("%s: revision %d after the job", code, c.Revision)
		}
	}
}
