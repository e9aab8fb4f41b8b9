package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/config"
)

// TestARequestWaitingOnTheDatabaseEndsAtItsDeadline: with the embedded
// database's writer held (a long write), a request that must write waits
// only until its deadline, then answers 503 "try again in a moment"; once
// the writer is free the same request succeeds.
func TestARequestWaitingOnTheDatabaseEndsAtItsDeadline(t *testing.T) {
	w := newWorld(t, sampleDir)
	w.config = func(c *config.Config) { c.RequestTimeout = 300 * time.Millisecond }
	srv, _ := w.newInstance()
	c := w.client(srv, w.session("learner"))
	if resp, _ := c.do("GET", "/courses/sample-course", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("course page: %d", resp.StatusCode)
	}
	release, err := w.env.DB.HoldWrites(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	resp, body := c.post("/courses/sample-course/enrol", nil)
	took := time.Since(begin)
	release()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "try again in a moment") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("enrol while the writer is held: %d (Retry-After %q) %.400s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if took > 3*time.Second {
		t.Fatalf("the request waited %s; its deadline is 300 ms", took)
	}
	if resp, body := c.post("/courses/sample-course/enrol", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enrol once the writer is free: %d %.400s", resp.StatusCode, body)
	}
}
