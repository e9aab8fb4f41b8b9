// Package e2e holds the browser journeys: the real server, started by the
// same app.Run as main, on the shared embedded FerretDB and test MinIO,
// driven through headless Chromium.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// clock is a test clock that can be moved on.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// site is a running instance of the application.
type site struct {
	URL   string
	Env   *testenv.Env
	Clock *clock
	extra map[string]string
}

// startTimeout bounds a site's start, demo data included.
const startTimeout = 150 * time.Second

// startSite runs the application on a fresh database and bucket until the
// test ends, and waits until /readyz answers 200.
func startSite(t *testing.T, extraEnv map[string]string) *site {
	t.Helper()
	e := testenv.New(t)
	port := freePort(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	vars := map[string]string{
		"LMS_ADDR":         fmt.Sprintf("127.0.0.1:%d", port),
		"LMS_BASE_URL":     fmt.Sprintf("http://127.0.0.1:%d", port),
		"LMS_DATA_DIR":     t.TempDir(),
		"MONGODB_URI":      e.MongoURI,
		"MONGODB_DATABASE": e.DBName,
		"MINIO_ENDPOINT":   e.MinioEndpoint,
		"MINIO_ACCESS_KEY": e.MinioAccessKey,
		"MINIO_SECRET_KEY": e.MinioSecretKey,
		"MINIO_BUCKET":     e.Bucket,
		"LMS_SECRET_KEY":   base64.StdEncoding.EncodeToString(key),
		"LMS_LOG_LEVEL":    "warn",
	}
	for k, v := range extraEnv {
		vars[k] = v
	}
	clk := &clock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Env{
			Args:   []string{"serve"},
			Getenv: func(k string) string { return vars[k] },
			Stdout: testWriter{t},
			Stderr: testWriter{t},
			Clock:  clk.Now,
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("server did not stop within 15 s")
		}
	})
	s := &site{URL: vars["LMS_BASE_URL"], Env: e, Clock: clk, extra: extraEnv}
	// Seeding the demo organisation (twelve advocates' records, about 200
	// writes) takes a few seconds alone and much longer on a machine
	// running every package's tests at once.
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-done:
			t.Fatalf("server exited during start-up: %v", err)
		default:
		}
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after %s", startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
