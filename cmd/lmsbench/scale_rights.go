package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/family-advocacy/lms/internal/auth"
)

// People's rights over their data, for a learner with five certificates,
// mail and notifications: the data download and erasure.

// export prints scale_export: the seconds to produce the full download.
func (s *scaleBench) export(ctx context.Context) {
	u, err := s.app.db.User(ctx, s.meta.ExportUser)
	if err != nil {
		s.fail(fmt.Errorf("export: %w", err))
		return
	}
	var size countWriter
	took, err := s.timed(ctx, func(ctx context.Context) error { return s.downloadData(ctx, u, &size) })
	if err != nil {
		s.fail(fmt.Errorf("export: %w", err))
		return
	}
	fmt.Fprintf(os.Stderr, "lmsbench: the data download is %d bytes\n", size)
	s.figure("scale_export", took.Seconds(), "s")
}

// downloadData produces a person's data download the way the privacy
// service offers it (today a ZIP streamed to a writer).
func (s *scaleBench) downloadData(ctx context.Context, u *auth.User, w *countWriter) error {
	return s.app.svc.Rights.Export(ctx, u, scaleBaseURL, w)
}

// countWriter counts what is written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// erasure prints scale_erasure: the seconds to erase such a learner, as
// an admin does; the dry run an admin sees first is an informational line.
func (s *scaleBench) erasure(ctx context.Context) {
	admin, err := s.app.db.User(ctx, s.meta.Admin)
	if err != nil {
		s.fail(fmt.Errorf("erasure: %w", err))
		return
	}
	erase := func(dry bool) func(context.Context) error {
		return func(ctx context.Context) error {
			plan, err := s.app.svc.Rights.Erase(ctx, admin, s.meta.EraseUser, dry)
			if err == nil && !dry && !plan.Done {
				err = fmt.Errorf("the erasure did not finish")
			}
			return err
		}
	}
	dry, err := s.timed(ctx, erase(true))
	if err != nil {
		s.fail(fmt.Errorf("erasure dry run: %w", err))
		return
	}
	s.info("scale_erasure", "dry_run", dry.Seconds(), "s")
	s.settle()
	took, err := s.timed(ctx, erase(false))
	if err != nil {
		s.fail(fmt.Errorf("erasure: %w", err))
		return
	}
	s.figure("scale_erasure", took.Seconds(), "s")
}

// resetPeakRSS resets the process's resident-memory high-water mark
// (Linux: writing 5 to clear_refs resets VmHWM to the current size).
func resetPeakRSS() {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		fmt.Fprintln(os.Stderr, "lmsbench: cannot reset the peak memory mark:", err)
	}
}

// peakRSS returns the process's resident-memory high-water mark in MB.
func peakRSS() (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
