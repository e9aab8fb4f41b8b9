package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// learnerClient is one learner's browser: a cookie jar and a client
// address of its own (the app believes X-Forwarded-For from 127.0.0.1 in
// these tests, so each learner has its own registration allowance).
type learnerClient struct {
	email, addr string
	http        *http.Client
	base        string
}

func newLearner(i int, base string) *learnerClient {
	jar, _ := cookiejar.New(nil)
	return &learnerClient{email: fmt.Sprintf("learner%02d@example.org", i), addr: fmt.Sprintf("198.51.100.%d", i+1), base: base,
		http: &http.Client{Jar: jar, Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// retarget points the learner at a restarted server (the cookies stay:
// sessions live in the database).
func (l *learnerClient) retarget(base string) {
	old, _ := url.Parse(l.base)
	nu, _ := url.Parse(base)
	l.http.Jar.SetCookies(nu, l.http.Jar.Cookies(old))
	l.base = base
}

func (l *learnerClient) do(method, path string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, l.base+path, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", l.addr)
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b) + "\nLocation: " + resp.Header.Get("Location"), err
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post sends a form with the CSRF token of page.
func (l *learnerClient) post(page, path string, form url.Values) (int, string, error) {
	_, body, err := l.do("GET", page, nil)
	if err != nil {
		return 0, "", err
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		return 0, body, fmt.Errorf("no CSRF token on %s", page)
	}
	form.Set("_csrf", m[1])
	return l.do("POST", path, form)
}

// prepare registers the learner, enrols them on the sample course and
// completes its lessons.
func (l *learnerClient) prepare(t *testing.T) {
	t.Helper()
	status, body, err := l.post("/register", "/register", url.Values{"name": {"Learner " + l.email[7:9]}, "email": {l.email},
		"password": {"a long enough password for tests"}, "org": {"none"}, "job_role": {"other"}})
	if err != nil || status != http.StatusSeeOther {
		t.Fatalf("register %s: %d %v %.300s", l.email, status, err, body)
	}
	steps := []string{"/courses/sample-course/enrol"}
	for _, lesson := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		steps = append(steps, "/courses/sample-course/lessons/"+lesson+"/complete")
	}
	for _, p := range steps {
		if status, body, err := l.post("/account", p, url.Values{}); err != nil || status != http.StatusSeeOther {
			t.Fatalf("%s %s: %d %v %.300s", l.email, p, status, err, body)
		}
	}
}

var (
	paperRE    = regexp.MustCompile(`action="/courses/sample-course/assessment/(\d+)"`)
	questionRE = regexp.MustCompile(`name="q_([a-z0-9]+)" value="\d+"`)
	resultRE   = regexp.MustCompile(`Location: /courses/sample-course/assessment/\d+/result`)
	passedRE   = regexp.MustCompile(`scored \d+%: passed`)
)

// sampleAnswers are the sample course's right answers.
var sampleAnswers = map[string][]string{"s1": {"0"}, "s2": {"0"}, "s3": {"0", "2"}, "s4": {"1"}, "s5": {"0"}, "s6": {"1"}}

// pass starts (or resumes) an attempt and submits right answers. It
// reports whether the server acknowledged the pass (303 to the result).
func (l *learnerClient) pass() bool {
	if status, _, err := l.post("/account", "/courses/sample-course/assessment/start", url.Values{}); err != nil || status != http.StatusSeeOther {
		return false
	}
	_, page, err := l.do("GET", "/courses/sample-course/assessment", nil)
	if err == nil && passedRE.MatchString(page) {
		return true // passed before, though the answer was lost in a crash
	}
	m := paperRE.FindStringSubmatch(page)
	if err != nil || m == nil {
		return false
	}
	form := url.Values{}
	for _, q := range questionRE.FindAllStringSubmatch(page, -1) {
		form["q_"+q[1]] = sampleAnswers[q[1]]
	}
	if csrf := csrfRE.FindStringSubmatch(page); csrf != nil {
		form.Set("_csrf", csrf[1])
	}
	status, body, err := l.do("POST", "/courses/sample-course/assessment/"+m[1], form)
	return err == nil && status == http.StatusSeeOther && resultRE.MatchString(body)
}

var downloadRE = regexp.MustCompile(`/certificates/([A-Z0-9-]+)/download`)

// certificateCodes lists the codes of the learner's downloadable certificates.
func (l *learnerClient) certificateCodes() []string {
	_, page, err := l.do("GET", "/my/certificates", nil)
	if err != nil {
		return nil
	}
	var codes []string
	for _, m := range downloadRE.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	return codes
}

// faultEnv is the environment of the lms processes these tests start.
func faultEnv(dataDir, addr string) []string {
	return []string{"LMS_ADDR=" + addr, "LMS_DATA_DIR=" + dataDir, "LMS_COURSES_DIR=" + filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY=" + filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml"),
		"LMS_REGISTRATION=open", "LMS_TRUSTED_PROXIES=127.0.0.1", "LMS_BASE_URL=http://lms.test"}
}

func TestKilledDuringConcurrentPassesKeepsOneCertificatePerAcknowledgedPass(t *testing.T) {
	root := testenv.RepoRoot()
	dataDir := t.TempDir()
	const rounds, perRound = 4, 10
	const n = rounds * perRound
	addr := freeAddr(t)
	p := start(t, root, faultEnv(dataDir, addr)...)
	waitReady(t, p, "http://"+addr)
	learners := make([]*learnerClient, n)
	for i := range learners {
		learners[i] = newLearner(i, "http://"+addr)
		learners[i].prepare(t)
	}
	acked := map[int]bool{}
	var mu sync.Mutex
	// Rounds: a new group of learners, and every learner not yet
	// acknowledged, pass all at once, and the server is killed (SIGKILL,
	// MinIO with it) at a random moment while they do.
	for round := 1; round <= rounds; round++ {
		var wg sync.WaitGroup
		for i, l := range learners[:round*perRound] {
			mu.Lock()
			done := acked[i]
			mu.Unlock()
			if done {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if l.pass() {
					mu.Lock()
					acked[i] = true
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(30+rand.IntN(400)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t, 10*time.Second)
		wg.Wait()
		t.Logf("round %d: %d passes acknowledged so far", round, len(acked))
		addr = freeAddr(t)
		p = start(t, root, faultEnv(dataDir, addr)...)
		waitReady(t, p, "http://"+addr)
		for _, l := range learners {
			l.retarget("http://" + addr)
		}
	}
	// The rest pass without a crash, so every learner has passed.
	for i, l := range learners {
		if !acked[i] && l.pass() {
			acked[i] = true
		}
	}
	if len(acked) != n {
		t.Fatalf("%d of %d passes acknowledged after the last round", len(acked), n)
	}
	// The reconciler finishes what the crashes interrupted (it leaves work
	// younger than a minute to the request that started it).
	deadline := time.Now().Add(150 * time.Second)
	for {
		waiting := 0
		for _, l := range learners {
			if len(l.certificateCodes()) != 1 {
				waiting++
			}
		}
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d learners without exactly one downloadable certificate after 150 s", waiting)
		}
		time.Sleep(2 * time.Second)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	checkCertificateInvariants(t, dataDir, learners)
}

// checkCertificateInvariants opens the stores the app left and checks that
// each learner's one completion has exactly one certificate, issued, whose
// object exists with the recorded hash, and that no object under
// certificates/ lacks a record.
func checkCertificateInvariants(t *testing.T, dataDir string, learners []*learnerClient) {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	db, err := store.Open(ctx, "", "lms", dataDir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	bin, err := blob.FindBinary(filepath.Join(testenv.RepoRoot(), "bin", "minio"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := blob.LoadOrCreateCredentials(filepath.Join(dataDir, "minio-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := blob.StartServer(ctx, bin, filepath.Join(dataDir, "minio"), creds, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	bs, err := blob.Open(ctx, srv.Endpoint, creds.AccessKey, creds.SecretKey, false, "lms")
	if err != nil {
		t.Fatal(err)
	}
	object := func(code string) []byte {
		r, _, err := bs.Open(ctx, certificates.ObjectKey(code))
		if err != nil {
			return nil
		}
		defer r.Close()
		b, _ := io.ReadAll(r)
		return b
	}
	claimed := map[string]string{} // code → completion
	for _, l := range learners {
		userID, _, err := db.EmailClaim(ctx, l.email)
		if err != nil {
			t.Fatal(err)
		}
		e, err := db.Enrolment(ctx, learning.EnrolmentID(userID, "sample-course"))
		if err != nil || e.Completion == nil {
			t.Fatalf("%s: enrolment %+v, %v; want a completion", l.email, e, err)
		}
		if len(e.CertificateCodes) != 1 || len(e.Pending) != 0 {
			t.Fatalf("%s: certificates %v, pending %v; want exactly one, nothing pending", l.email, e.CertificateCodes, e.Pending)
		}
		code := e.CertificateCodes[0]
		key := e.ID + "/" + strconv.Itoa(e.Completion.Attempt)
		claim, err := db.Claim(ctx, key)
		if err != nil || claim.Code != code {
			t.Fatalf("%s: claim %+v (%v) does not name the certificate %s", l.email, claim, err, code)
		}
		c, err := db.Certificate(ctx, code)
		if err != nil || c.Status != certificates.StatusIssued || c.ClaimKey != key {
			t.Fatalf("%s: certificate %+v, %v; want issued for %s", l.email, c, err, key)
		}
		pdf := object(code)
		if sum := sha256.Sum256(pdf); len(pdf) == 0 || hex.EncodeToString(sum[:]) != c.SHA256 {
			t.Fatalf("%s: the stored object (%d bytes) does not have the recorded hash", l.email, len(pdf))
		}
		if h, err := db.Hash(ctx, c.SHA256); err != nil || h.Code != code {
			t.Fatalf("%s: the file's hash does not verify: %+v, %v", l.email, h, err)
		}
		claimed[code] = key
	}
	objects := 0
	err = bs.List(ctx, "certificates/", func(key string, _ int64) error {
		objects++
		code := strings.TrimSuffix(strings.TrimPrefix(key, "certificates/"), ".pdf")
		c, err := db.Certificate(ctx, code)
		if err != nil {
			return fmt.Errorf("object %s has no certificate record (%v)", key, err)
		}
		if claimed[code] != c.ClaimKey {
			return fmt.Errorf("object %s is a second certificate for the completion %s", key, c.ClaimKey)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if objects != len(learners) {
		t.Fatalf("%d certificate objects for %d completions", objects, len(learners))
	}
}

func TestDownloadsComeBackWhenManagedMinioIsKilled(t *testing.T) {
	root := testenv.RepoRoot()
	dataDir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	p := start(t, root, faultEnv(dataDir, addr)...)
	waitReady(t, p, base)
	l := newLearner(0, base)
	l.prepare(t)
	if !l.pass() {
		t.Fatal("the pass was not acknowledged")
	}
	codes := l.certificateCodes()
	if len(codes) != 1 {
		t.Fatalf("certificates after the pass: %v", codes)
	}
	download := "/certificates/" + codes[0] + "/download"
	if status, _, _ := l.do("GET", download, nil); status != http.StatusOK {
		t.Fatalf("download before the kill: %d", status)
	}
	pids := minioPIDs(dataDir)
	if len(pids) != 1 {
		t.Fatalf("minio processes: %v", pids)
	}
	pid, _ := strconv.Atoi(pids[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	sawDown := false
	for {
		status, body, err := l.do("GET", download, nil)
		if err != nil {
			t.Fatalf("the app stopped answering: %v", err)
		}
		if status == http.StatusOK {
			break
		}
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "try again in a moment") {
			t.Fatalf("a download while storage is down: %d %.300s; want 503 saying to try again in a moment", status, body)
		}
		// Readiness tells the truth: not ready while storage is down, and
		// ready only once downloads work again.
		if rs, rb, _ := l.do("GET", "/readyz", nil); rs == http.StatusOK {
			if status, _, _ := l.do("GET", download, nil); status != http.StatusOK {
				t.Fatalf("/readyz said ready while a download answered %d", status)
			}
		} else if rs != http.StatusServiceUnavailable || !strings.Contains(rb, "object storage") {
			t.Fatalf("/readyz while storage is down: %d %s", rs, rb)
		}
		sawDown = true
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("no download within 10 s of killing MinIO:\n%s", p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !sawDown {
		t.Log("MinIO came back before the first download after the kill")
	}
	// Ready again as soon as the supervisor has seen MinIO healthy.
	for ready := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, body, _ := l.do("GET", "/readyz", nil)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(ready) {
			t.Fatalf("/readyz after the restart: %d %s", status, body)
		}
	}
	if !strings.Contains(p.output(), "the MinIO server exited; restarting it") || !strings.Contains(p.output(), "the MinIO server is running again") {
		t.Fatalf("the restart is not in the log:\n%s", p.output())
	}
	if pids := minioPIDs(dataDir); len(pids) != 1 || pids[0] == strconv.Itoa(pid) {
		t.Fatalf("minio processes after the restart: %v (killed %d)", pids, pid)
	}
}
