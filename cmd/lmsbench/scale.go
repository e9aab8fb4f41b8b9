package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
)

// benchScale prints the scale figures: the real server on a copy of a
// generated organisation of LMSBENCH_SCALE learners (default 100,000),
// generated once and cached (see scale_cache.go):
//
//	scale_ready_<n>                   s  app.Run to the first 200 from /readyz
//	scale_page_p95_<n>                ms the worst p95 over every page kind
//	scale_reconcile_pass_<n>          s  one reconciler pass with nothing to do
//	scale_export_<n>                  s  a learner's full data download
//	scale_erasure_<n>                 s  erasing such a learner
//	scale_write_p99_during_jobs_<n>   ms requests that write, while retention,
//	                                     reminders and a reconciler pass run
//	scale_rss_peak_<n>                MB peak resident memory while serving
//
// Informational lines (per page kind, per job, the erasure's dry run)
// carry a longer name. A figure that could not be measured is left out and
// the bench fails at the end, saying why.
func benchScale() error {
	n := 100000
	if v := os.Getenv("LMSBENCH_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			return fmt.Errorf("LMSBENCH_SCALE=%q: want a number of learners, at least 100", v)
		}
	}
	cache, err := scaleCacheFor(n)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lmsbench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	meta, err := cache.checkout(dir)
	if err != nil {
		return err
	}
	s := &scaleBench{n: n, suffix: sizeName(n), meta: meta}
	return s.run(dir)
}

// scaleBench is one run of the scale figures.
type scaleBench struct {
	n      int
	suffix string
	meta   *scaleMeta
	app    *running

	cut atomic.Bool // a request timed out or a job was stopped: see settle

	mu   sync.Mutex
	errs []error // what failed; the run goes on to the other figures
}

// figure prints one figure line; a part makes it informational.
func (s *scaleBench) figure(name string, value float64, unit string, part ...string) {
	prec := 1
	switch {
	case unit == "s" && value < 1:
		prec = 3
	case unit == "s" && value < 10:
		prec = 2
	}
	name += "_" + s.suffix
	for _, p := range part {
		name += "_" + p
	}
	fmt.Printf("bench %s %.*f %s\n", name, prec, value, unit)
}

// info prints an informational line: a part of a figure, named after it
// (scale_page_p95_100k_home).
func (s *scaleBench) info(name, part string, value float64, unit string) {
	s.figure(name, value, unit, part)
}

func (s *scaleBench) fail(err error) {
	fmt.Fprintln(os.Stderr, "lmsbench:", err)
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// run measures the server on dir, a copy of the cached data directory.
func (s *scaleBench) run(dir string) error {
	// Peak memory counts from here: the serving phase.
	debug.FreeOSMemory()
	resetPeakRSS()
	var err error
	s.app, err = startApp(dir, scaleClock(s.meta.Finished))
	if err != nil {
		return err
	}
	defer s.app.stop()
	s.figure("scale_ready", s.app.ready.Seconds(), "s")

	ctx := context.Background()
	people, err := s.signIn(ctx)
	if err != nil {
		return err
	}
	if worst, ok := s.pages(people); ok {
		s.figure("scale_page_p95", worst, "ms")
	}
	for _, measure := range []func(context.Context){s.reconcileIdle, s.export, s.erasure, s.writesDuringJobs} {
		s.settle()
		measure(ctx)
	}
	if mb, err := peakRSS(); err != nil {
		s.fail(err)
	} else {
		s.figure("scale_rss_peak", mb, "MB")
	}
	return errors.Join(s.errs...)
}
