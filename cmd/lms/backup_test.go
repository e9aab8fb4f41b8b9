package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// lmsCommand runs `lms ARGS...` to completion with the given environment.
func lmsCommand(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(lmsBin, args...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBackupWhileServingRestoresEveryRecordAndFile takes a backup while
// the server runs and learners are writing, restores it into a fresh data
// directory, and finds every certificate (record, file and hash) made
// before the backup, nothing made after it, and the server working on it.
func TestBackupWhileServingRestoresEveryRecordAndFile(t *testing.T) {
	root := testenv.RepoRoot()
	src := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	p := start(t, root, faultEnv(src, addr)...)
	waitReady(t, p, base)

	passed := make([]*learnerClient, 4)
	pdfs := map[string][]byte{} // code → the file downloaded before the backup
	for i := range passed {
		l := newLearner(i, base)
		l.prepare(t)
		if !l.pass() {
			t.Fatalf("%s: pass not acknowledged", l.email)
		}
		passed[i] = l
	}
	// Certificates are issued in the request; wait for each to be listed.
	for _, l := range passed {
		codes := waitForCodes(t, l)
		status, pdf, err := l.do("GET", "/certificates/"+codes[0]+"/download", nil)
		if err != nil || status != http.StatusOK || !strings.HasPrefix(pdf, "%PDF") {
			t.Fatalf("%s: download before the backup: %d %v", l.email, status, err)
		}
		pdfs[codes[0]] = []byte(pdf)
	}

	// Learners keep writing (registering, enrolling, reading lessons)
	// while the backup is taken.
	var wg sync.WaitGroup
	busy := make(chan struct{})
	for i := 10; i < 14; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := newLearner(i, base)
			_, _, _ = l.post("/register", "/register", url.Values{"name": {"Busy " + l.email[7:9]}, "email": {l.email},
				"password": {"a long enough password for tests"}, "org": {"none"}, "job_role": {"other"}})
			for {
				select {
				case <-busy:
					return
				default:
				}
				_, _, _ = l.post("/account", "/courses/sample-course/enrol", url.Values{})
				_, _, _ = l.do("GET", "/courses/sample-course/lessons/01-first-steps", nil)
			}
		}()
	}
	backupDir := filepath.Join(t.TempDir(), "backup")
	out, err := lmsCommand(t, faultEnv(src, freeAddr(t)), "backup", backupDir)
	close(busy)
	wg.Wait()
	if err != nil || !strings.Contains(out, "The server is running: copying through its object storage.") || !strings.Contains(out, "4 object(s), and the secret key") {
		t.Fatalf("lms backup: %v\n%s", err, out)
	}

	// A pass after the backup is not in it.
	late := newLearner(20, base)
	late.prepare(t)
	if !late.pass() {
		t.Fatal("the late pass was not acknowledged")
	}
	waitForCodes(t, late)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}

	// A data directory that holds data is not restored over.
	if out, err := lmsCommand(t, faultEnv(src, freeAddr(t)), "restore", backupDir); err == nil || !strings.Contains(out, "already holds data: restore into an empty directory") {
		t.Fatalf("restore over existing data: %v\n%s", err, out)
	}
	// A damaged backup is refused, naming what is damaged.
	damaged := filepath.Join(t.TempDir(), "damaged")
	if err := os.CopyFS(damaged, os.DirFS(backupDir)); err != nil {
		t.Fatal(err)
	}
	objects, _ := filepath.Glob(filepath.Join(damaged, "objects", "certificates", "*.pdf"))
	if len(objects) != 4 {
		t.Fatalf("certificate files in the backup: %v", objects)
	}
	if err := os.WriteFile(objects[0], []byte("%PDF-not really"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := lmsCommand(t, faultEnv(t.TempDir(), freeAddr(t)), "restore", damaged); err == nil || !strings.Contains(out, "is damaged (its SHA-256 differs from the manifest's)") {
		t.Fatalf("restore of a damaged backup: %v\n%s", err, out)
	}

	// Restore into a fresh directory: every record and file from before
	// the backup, and nothing from after it.
	dst := filepath.Join(t.TempDir(), "restored")
	if out, err := lmsCommand(t, faultEnv(dst, freeAddr(t)), "restore", backupDir); err != nil || !strings.Contains(out, "Restored the backup of") {
		t.Fatalf("lms restore: %v\n%s", err, out)
	}
	checkCertificateInvariants(t, dst, passed)
	ctx := context.Background()
	db, err := store.Open(ctx, "", "lms", dst, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.EmailClaim(ctx, late.email); err == nil {
		t.Fatal("a learner registered after the backup is in it")
	}
	db.Close(ctx)

	// An interrupted restore is refused by the server and finished by
	// running restore again.
	if err := os.WriteFile(filepath.Join(dst, "RESTORING"), []byte(backupDir), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := start(t, root, faultEnv(dst, freeAddr(t))...)
	if code, _ := refused.wait(t, 30*time.Second); code == 0 || !strings.Contains(refused.output(), "a restore into the data directory "+dst+" did not finish: run `lms restore` again") {
		t.Fatalf("serving a half-restored directory: exit %d\n%s", code, refused.output())
	}
	if out, err := lmsCommand(t, faultEnv(dst, freeAddr(t)), "restore", backupDir); err != nil {
		t.Fatalf("restore again: %v\n%s", err, out)
	}

	// The server runs on the restored data: the learners are still signed
	// in (sessions are records too), and each certificate downloads as the
	// same file and verifies.
	addr = freeAddr(t)
	base = "http://" + addr
	p = start(t, root, faultEnv(dst, addr)...)
	waitReady(t, p, base)
	for _, l := range passed {
		l.retarget(base)
		codes := l.certificateCodes()
		if len(codes) != 1 {
			t.Fatalf("%s: certificates after the restore: %v", l.email, codes)
		}
		status, pdf, err := l.do("GET", "/certificates/"+codes[0]+"/download", nil)
		if err != nil || status != http.StatusOK || !bytes.Equal([]byte(pdf), pdfs[codes[0]]) {
			t.Fatalf("%s: download after the restore: %d %v (same file: %v)", l.email, status, err, bytes.Equal([]byte(pdf), pdfs[codes[0]]))
		}
		resp, err := http.Get(base + "/verify/" + codes[0])
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Learner "+l.email[7:9]) {
			t.Fatalf("%s: /verify after the restore: %d %.500s", l.email, resp.StatusCode, page)
		}
	}

	// With the server stopped, backup runs the object storage itself.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	out, err = lmsCommand(t, faultEnv(dst, freeAddr(t)), "backup", filepath.Join(t.TempDir(), "again"))
	if err != nil || strings.Contains(out, "The server is running") || !strings.Contains(out, "4 object(s), and the secret key") {
		t.Fatalf("lms backup of a stopped server's data: %v\n%s", err, out)
	}
	if pids := minioPIDs(dst); len(pids) != 0 {
		t.Fatalf("backup left MinIO running: %v", pids)
	}
}

// waitForCodes waits until the learner has one downloadable certificate.
func waitForCodes(t *testing.T, l *learnerClient) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if codes := l.certificateCodes(); len(codes) == 1 {
			return codes
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no certificate within 20 s", l.email)
		}
	}
}
