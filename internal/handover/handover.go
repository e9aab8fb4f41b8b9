// Package handover hands a passed course over to what follows from it: the
// completion's one certificate and, for an advocate, a CPD entry that also
// counts towards mandatory training. HandOver is the one door: the
// assessment handler calls it right after a pass, and Reconcile calls it
// for every completion whose hand-over a crash or an outage interrupted.
package handover

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
)

// Marks are the hand-over markers a completion is recorded with (in the
// same write), and the queues that list the enrolments carrying them.
type Marks interface {
	Enrolment(ctx context.Context, id string) (*learning.Enrolment, error)
	PendingEnrolments(ctx context.Context, marker string, now time.Time, limit int) ([]learning.Enrolment, error)
	ClearPending(ctx context.Context, enrolmentID, marker string) error
}

// Completions is told of each pass once handed over (package impact).
type Completions interface {
	Completed(ctx context.Context, e *learning.Enrolment) error
}

// Service hands completions over.
type Service struct {
	Certs  *certificates.Service
	Comply *compliance.Service
	Marks  Marks
	// Impact records the pass in the course's evaluation and schedules
	// its follow-up (nil: nothing to record).
	Impact Completions
	Now    func() time.Time
	Log    *slog.Logger
}

// Grace is how long Reconcile leaves a new completion to the request that
// recorded it, so the two do not do the same work side by side.
const Grace = certificates.ReconcileGrace

// HandOver does what a completion still needs, as its markers say: issue
// its certificate (which clears the certificate marker) and record it as
// CPD (then clear the CPD marker). Every step is idempotent, so it may run
// any number of times, concurrently, on any instance.
func (s *Service) HandOver(ctx context.Context, enrolmentID string) error {
	e, err := s.Marks.Enrolment(ctx, enrolmentID)
	if err != nil {
		return err
	}
	return s.handOver(ctx, e)
}

func (s *Service) handOver(ctx context.Context, e *learning.Enrolment) error {
	if e.Completion == nil {
		return nil
	}
	if slices.Contains(e.Pending, learning.PendingCertificate) {
		if _, err := s.Certs.Issue(ctx, e.ID); err != nil {
			return fmt.Errorf("handover: certificate: %w", err)
		}
	}
	if slices.Contains(e.Pending, learning.PendingCPD) {
		if _, err := s.Comply.RecordCourseCompletion(ctx, e); err != nil {
			return fmt.Errorf("handover: CPD: %w", err)
		}
		if err := s.Marks.ClearPending(ctx, e.ID, learning.PendingCPD); err != nil {
			return fmt.Errorf("handover: CPD marker: %w", err)
		}
	}
	if slices.Contains(e.Pending, learning.PendingImpact) {
		if s.Impact != nil {
			if err := s.Impact.Completed(ctx, e); err != nil {
				return fmt.Errorf("handover: evaluation: %w", err)
			}
		}
		if err := s.Marks.ClearPending(ctx, e.ID, learning.PendingImpact); err != nil {
			return fmt.Errorf("handover: evaluation marker: %w", err)
		}
	}
	return nil
}

// Reconcile hands over every completion still marked, from the markers'
// queues (empty when there is nothing to do), leaving completions younger
// than Grace to their requests. It returns how many it handed over.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	done := map[string]bool{}
	for _, marker := range learning.PendingMarkers {
		pending, err := s.Marks.PendingEnrolments(ctx, marker, s.Now(), 500)
		if err != nil {
			return len(done), err
		}
		for i := range pending {
			e := &pending[i]
			if done[e.ID] || e.Completion != nil && s.Now().Sub(e.Completion.At) < Grace {
				continue
			}
			if err := s.handOver(ctx, e); err != nil {
				return len(done), fmt.Errorf("%s: %w", e.ID, err)
			}
			done[e.ID] = true
		}
	}
	return len(done), nil
}
