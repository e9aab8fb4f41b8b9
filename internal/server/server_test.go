package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// newBareServer builds a server with the given readiness checks and no
// domain services, for platform tests.
func newBareServer(t *testing.T, checks ...Check) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.BaseURL = "http://localhost:8080"
	cs, probs := courses.LoadAll(content.Courses, "courses")
	if len(courses.Errors(probs)) > 0 {
		t.Fatalf("catalogue: %v", probs)
	}
	learn := &learning.Service{Catalogue: learning.NewCatalogue(cs)}
	s, err := New(Deps{Config: cfg, Logger: testenv.Logger(t), Checks: checks, Learn: learn})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func do(t *testing.T, s *Server, method, target string) (*http.Response, string) {
	t.Helper()
	resp, err := s.Handler().Test(httptest.NewRequest(method, target, nil), -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestPlatformPages(t *testing.T) {
	s := newBareServer(t)
	t.Run("HomeSaysWhatEachUserGets", func(t *testing.T) {
		resp, body := do(t, s, "GET", "/")
		if resp.StatusCode != 200 {
			t.Fatalf("status: got %d, want 200", resp.StatusCode)
		}
		for _, want := range []string{"For support workers and advocates", "For our professional advocates", "For managers", "checking a certificate", `href="#main"`} {
			if !strings.Contains(body, want) {
				t.Errorf("home page lacks %q", want)
			}
		}
	})
	t.Run("EveryFooterPageRenders", func(t *testing.T) {
		for _, l := range footerLinks {
			if !strings.HasPrefix(l.Href, "/pages/") {
				continue
			}
			resp, body := do(t, s, "GET", l.Href)
			if resp.StatusCode != 200 || !strings.Contains(body, "<h1") {
				t.Errorf("%s: status %d, has h1 %v", l.Href, resp.StatusCode, strings.Contains(body, "<h1"))
			}
		}
	})
	t.Run("UnknownPathIs404Page", func(t *testing.T) {
		resp, body := do(t, s, "GET", "/no/such/page")
		if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") {
			t.Fatalf("got %d, want 404 with the not-found page", resp.StatusCode)
		}
		if resp.Header.Get("X-Request-ID") == "" || !strings.Contains(body, resp.Header.Get("X-Request-ID")) {
			t.Errorf("404 page does not show the request ID %q", resp.Header.Get("X-Request-ID"))
		}
	})
	t.Run("SecurityHeaders", func(t *testing.T) {
		resp, _ := do(t, s, "GET", "/")
		for h, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "same-origin",
		} {
			if got := resp.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("%s: got %q, want it to contain %q", h, got, want)
			}
		}
	})
	t.Run("HashedStaticAssetsAreCachedForAYear", func(t *testing.T) {
		url := s.assets.url("css/site.css")
		resp, body := do(t, s, "GET", url)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "skip-link") {
			t.Fatalf("%s: status %d cache %q", url, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("content type: got %q", ct)
		}
		resp, _ = do(t, s, "GET", "/static/0000/css/site.css")
		if strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("stale hash served as immutable")
		}
	})
	t.Run("HeadIsAnswered", func(t *testing.T) {
		resp, _ := do(t, s, "HEAD", "/pages/about")
		if resp.StatusCode != 200 {
			t.Fatalf("HEAD /pages/about: got %d, want 200", resp.StatusCode)
		}
	})
}

func TestReadyzNamesTheFailingStore(t *testing.T) {
	e := testenv.New(t)
	// A bucket that was never created. (Removing one right before the check
	// raced MinIO, which can still report a just-removed bucket as there.)
	missing := &blob.Store{Client: e.Blob.Client, Bucket: "t-never-created-" + testenv.RandomHex(3)}
	healthy := newBareServer(t, Check{"database", e.DB.Ping}, Check{"object storage", e.Blob.Ping})
	if resp, body := do(t, healthy, "GET", "/readyz"); resp.StatusCode != 200 {
		t.Fatalf("healthy: got %d %q, want 200", resp.StatusCode, body)
	}
	broken := newBareServer(t, Check{"database", e.DB.Ping}, Check{"object storage", missing.Ping})
	resp, body := do(t, broken, "GET", "/readyz")
	if resp.StatusCode != 503 || !strings.Contains(body, "object storage") || strings.Contains(body, "database") {
		t.Fatalf("missing bucket: got %d %q, want 503 naming only object storage", resp.StatusCode, body)
	}
	if resp, _ := do(t, broken, "GET", "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("/healthz: got %d, want 200 while the process is alive", resp.StatusCode)
	}
}

func TestMarkdownIsRenderedSafely(t *testing.T) {
	html, err := renderMarkdown([]byte("Hello <script>alert(1)</script> and <b onclick=\"x()\">bold</b>\n\n[link](javascript:alert(1))"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "onclick", "javascript:"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("rendered Markdown contains %q: %s", bad, html)
		}
	}
}

// TestLogLinesCarryTheRequestID: every line logged about a request names
// the ID returned to the client in X-Request-ID.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	var buf syncBuffer
	cfg := config.Default()
	cfg.BaseURL = "http://localhost:8080"
	failing := Check{"object storage", func(context.Context) error { return errors.New("connection refused") }}
	s, err := New(Deps{Config: cfg, Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Checks: []Check{failing},
		Learn: &learning.Service{Catalogue: learning.NewCatalogue(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/readyz", "/no-such-page"} {
		buf.Reset()
		resp, _ := do(t, s, "GET", target)
		id := resp.Header.Get("X-Request-ID")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if id == "" || len(lines) == 0 || (target == "/readyz" && len(lines) < 2) {
			t.Fatalf("%s: request ID %q, %d log lines", target, id, len(lines))
		}
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["request_id"] != id {
				t.Errorf("%s: log line without the request ID %s: %s", target, id, l)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *syncBuffer) Reset()         { s.mu.Lock(); defer s.mu.Unlock(); s.b.Reset() }
