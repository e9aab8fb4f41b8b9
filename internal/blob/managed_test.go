package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"log/slog"

	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/testenv"
)

// logBuffer collects log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// managedServer starts a MinIO server of its own through a wrapper script
// that runs the real binary unless the returned "fail" file exists.
func managedServer(t *testing.T) (*blob.Server, *blob.Store, string, *logBuffer) {
	t.Helper()
	bin, err := blob.FindBinary(filepath.Join(testenv.RepoRoot(), "bin", "minio"))
	if err != nil {
		t.Fatalf("bin/minio missing: run `make minio` first")
	}
	dir := t.TempDir()
	fail := filepath.Join(dir, "fail")
	wrapper := filepath.Join(dir, "minio-wrapper")
	script := fmt.Sprintf("#!/bin/sh\nif [ -e %q ]; then echo 'refusing to start (test)' >&2; exit 3; fi\nexec %q \"$@\"\n", fail, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	creds := blob.Credentials{AccessKey: "supervisetest", SecretKey: testenv.RandomHex(16)}
	srv, err := blob.StartServer(context.Background(), wrapper, filepath.Join(dir, "data"), creds, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	st, err := blob.Open(context.Background(), srv.Endpoint, creds.AccessKey, creds.SecretKey, false, "supervise")
	if err != nil {
		t.Fatal(err)
	}
	st.Restarting = srv.Restarting
	return srv, st, fail, logs
}

func TestManagedMinioIsRestartedAfterItDies(t *testing.T) {
	srv, st, _, logs := managedServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Supervise(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Supervise after cancel: %v, want nil", err)
		}
	}()
	if err := st.Put(ctx, "a.txt", strings.NewReader("kept"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		first := srv.PID()
		if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-srv.Exited()
		// While it is down, reads say "try again", not a failure.
		if _, _, err := st.Open(ctx, "a.txt"); err != nil && !errs.Is(err, errs.EUNAVAILABLE) {
			t.Fatalf("round %d: a read while storage is down: %v, want EUNAVAILABLE", round, err)
		}
		if err := st.Ping(ctx); err == nil {
			t.Fatalf("round %d: Ping succeeded while the server was down", round)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, _, err := st.Open(ctx, "a.txt")
			if err == nil {
				b, _ := io.ReadAll(r)
				r.Close()
				if string(b) != "kept" {
					t.Fatalf("round %d: read %q after the restart", round, b)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no read within 10 s of the kill: %v\n%s", round, err, logs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The supervisor notices the new child is healthy within its poll.
		for settle := time.Now().Add(2 * time.Second); srv.Restarting() && time.Now().Before(settle); {
			time.Sleep(20 * time.Millisecond)
		}
		if srv.PID() == first || srv.Restarting() {
			t.Fatalf("round %d: pid %d (was %d), restarting %v", round, srv.PID(), first, srv.Restarting())
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatalf("round %d: Ping after the restart: %v", round, err)
		}
	}
	if n := strings.Count(logs.String(), "the MinIO server exited; restarting it"); n != 2 {
		t.Fatalf("restarts logged %d times, want 2:\n%s", n, logs)
	}
}

func TestManagedMinioThatKeepsFailingStopsTheSupervisor(t *testing.T) {
	srv, _, fail, logs := managedServer(t)
	if err := os.WriteFile(fail, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Supervise(context.Background()) }()
	if err := syscall.Kill(srv.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, blob.ErrStorageFailing) {
			t.Fatalf("Supervise: %v, want ErrStorageFailing", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("Supervise did not give up:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "restarting the MinIO server failed"); n != blob.MaxRestartFailures {
		t.Fatalf("failed restarts logged %d times, want %d:\n%s", n, blob.MaxRestartFailures, logs)
	}
	if !strings.Contains(logs.String(), "refusing to start (test)") {
		t.Fatalf("the child's own words are not in the log:\n%s", logs)
	}
}
