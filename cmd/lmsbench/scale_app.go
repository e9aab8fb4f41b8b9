package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
)

// scaleBaseURL is LMS_BASE_URL for the generator and the scale bench, so
// that links and QR codes in the cached data do not depend on the port.
const scaleBaseURL = "http://localhost:8080"

// running is the real server started on a data directory, in-process,
// with none of its periodic jobs (the scale bench runs those itself).
type running struct {
	base  string // http://127.0.0.1:<port>
	svc   *app.Services
	db    *store.DB
	clock func() time.Time
	ready time.Duration // from app.Run to the first 200 from /readyz

	cancel context.CancelFunc
	done   chan error
}

// startApp runs app.Run on dataDir and waits until /readyz answers 200.
// The server's clock is clock (the real one shifted: see scaleClock).
func startApp(dataDir string, clock func() time.Time) (*running, error) {
	vars := map[string]string{
		"LMS_DATA_DIR": dataDir, "LMS_ADDR": "127.0.0.1:0", "LMS_BASE_URL": scaleBaseURL, "LMS_LOG_LEVEL": "error",
		// Visitors to the rate-limited verification pages come from many
		// addresses: the bench says which in X-Forwarded-For.
		"LMS_TRUSTED_PROXIES": "127.0.0.1",
	}
	r := &running{clock: clock, done: make(chan error, 1)}
	addr := make(chan string, 1) // Prepare has run when Ready sends

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	env := app.Env{
		Args: []string{"serve"}, Getenv: func(k string) string { return vars[k] }, Stdout: io.Discard, Stderr: os.Stderr,
		Clock: clock, NoJobs: true,
		Prepare: func(_ *server.Server, svc *app.Services, db *store.DB) { r.svc, r.db = svc, db },
		Ready:   func(a string) { addr <- a },
	}
	start := time.Now()
	go func() { r.done <- app.Run(ctx, env) }()
	select {
	case a := <-addr:
		r.base = "http://" + a
	case err := <-r.done:
		cancel()
		return nil, fmt.Errorf("server exited before serving: %v", err)
	case <-time.After(10 * time.Minute):
		r.stop()
		return nil, fmt.Errorf("server not serving within 10 minutes")
	}
	if err := waitReady(r.base, r.done); err != nil {
		r.stop()
		return nil, err
	}
	r.ready = time.Since(start)
	return r, nil
}

// stop shuts the server down (MinIO and the database with it) and waits.
func (r *running) stop() {
	r.cancel()
	if err := <-r.done; err != nil {
		fmt.Fprintln(os.Stderr, "lmsbench: server stopped with:", err)
	}
}

// scaleClock returns a clock that reads the real time shifted so that it
// starts at from: the cached data was made at some moment, and a bench run
// on it sees the world as it was then (sessions alive, reminders due), so
// its figures do not drift with the cache's age.
func scaleClock(from time.Time) func() time.Time {
	offset := time.Until(from)
	return func() time.Time { return time.Now().Add(offset) }
}
