package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// jobCap bounds each background job and each rights request the bench
// runs: one that takes longer is stopped and reported at the cap.
const jobCap = 3 * time.Minute

// reconcilePass runs one pass of the reconcilers, as app.reconcileLoop does.
func (s *scaleBench) reconcilePass(ctx context.Context) error {
	return s.app.svc.Reconcile(ctx, slog.New(slog.DiscardHandler))
}

// reconcileIdle prints scale_reconcile_pass: the median of 3 passes when
// there is nothing to reconcile (a slow first pass is not repeated).
func (s *scaleBench) reconcileIdle(ctx context.Context) {
	var times []float64
	for i := 0; i < 3; i++ {
		took, err := s.timed(ctx, s.reconcilePass)
		if err != nil {
			s.fail(fmt.Errorf("reconciler pass: %w", err))
			return
		}
		times = append(times, took.Seconds())
		if took > time.Minute {
			fmt.Fprintf(os.Stderr, "lmsbench: a reconciler pass took %s; not repeated\n", took.Round(time.Second))
			break
		}
	}
	s.figure("scale_reconcile_pass", median(times), "s")
}

// timed runs fn within jobCap and returns how long it took; a run stopped
// at the cap returns the cap and no error (the figure says it all).
func (s *scaleBench) timed(ctx context.Context, fn func(context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, jobCap)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	took := time.Since(start)
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "lmsbench: stopped after %s (%v)\n", jobCap, err)
		s.cut.Store(true)
		return jobCap, nil
	}
	return took, err
}

// job is a background job run during the write measurement.
type job struct {
	name string
	run  func(context.Context) (string, error) // returns what it did, for the log
}

func (s *scaleBench) jobs() []job {
	svc := s.app.svc
	return []job{
		{"retention", func(ctx context.Context) (string, error) {
			due, err := svc.Rights.Retention(ctx, false)
			var what []string
			for _, d := range due {
				what = append(what, d.What)
			}
			return "due for deletion: " + strings.Join(what, "; "), err
		}},
		// The daily reminders, run directly: the job's once-a-day lease
		// would let it run only once per data copy anyway.
		{"reminders", func(ctx context.Context) (string, error) {
			n, err := svc.Remind.Run(ctx)
			return fmt.Sprintf("%d messages queued", n), err
		}},
		{"reconcile", func(ctx context.Context) (string, error) { return "", s.reconcilePass(ctx) }},
	}
}

// runJobs runs the jobs side by side and closes done when all have ended.
func (s *scaleBench) runJobs(ctx context.Context, done chan<- struct{}) {
	var wg sync.WaitGroup
	for _, j := range s.jobs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var what string
			took, err := s.timed(ctx, func(ctx context.Context) error {
				var err error
				what, err = j.run(ctx)
				return err
			})
			if err != nil {
				s.fail(fmt.Errorf("job %s: %w", j.name, err))
				return
			}
			if what != "" {
				fmt.Fprintf(os.Stderr, "lmsbench: job %s: %s\n", j.name, what)
			}
			s.info("scale_write_p99_during_jobs", "job_"+j.name, took.Seconds(), "s")
		}()
	}
	wg.Wait()
	close(done)
}

// settle waits, after a request timed out or a job was stopped, until
// the work it left running in the server (which is in this process) has
// ended: the process is nearly idle for two seconds, or ten minutes pass.
// Otherwise that work would count against the next figure.
func (s *scaleBench) settle() {
	if !s.cut.Swap(false) {
		return
	}
	start := time.Now()
	for time.Since(start) < 10*time.Minute {
		before := cpuTime()
		time.Sleep(2 * time.Second)
		if cpuTime()-before < 200*time.Millisecond {
			fmt.Fprintf(os.Stderr, "lmsbench: waited %s for the server to finish work left by a timeout\n", time.Since(start).Round(time.Second))
			return
		}
	}
	fmt.Fprintln(os.Stderr, "lmsbench: the server is still busy with work left by a timeout; measuring anyway")
}

// cpuTime returns the CPU time this process has used (Linux), or 0.
func cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest) // from the state, field 3 of stat(5)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
