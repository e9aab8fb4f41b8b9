package impact

import (
	"context"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// Answers is a learner's own evaluation of one course, as their data
// download shows it (free text decrypted).
type Answers struct {
	Course            string     `json:"course"`
	Enrolled          time.Time  `json:"enrolled"`
	ConfidenceBefore  []int      `json:"confidence_before,omitempty"`
	BeforeSkipped     bool       `json:"before_skipped,omitempty"`
	ConfidenceAfter   []int      `json:"confidence_after,omitempty"`
	AfterSkipped      bool       `json:"after_skipped,omitempty"`
	Helpful           int        `json:"helpful,omitempty"`
	Relevant          int        `json:"relevant,omitempty"`
	WillDoDifferently string     `json:"will_do_differently,omitempty"`
	WouldRecommend    string     `json:"would_recommend,omitempty"`
	FollowUpSent      *time.Time `json:"follow_up_sent,omitempty"`
	ChangedPractice   string     `json:"follow_up_changed_practice,omitempty"`
	Example           string     `json:"follow_up_example,omitempty"`
	DifferenceFamily  string     `json:"follow_up_difference_for_a_family,omitempty"`
	FollowUpSkipped   bool       `json:"follow_up_skipped,omitempty"`
}

// PersonAnswers returns the learner's own answers, found from their
// enrolments (one point read each).
func (s *Service) PersonAnswers(ctx context.Context, enrolments []learning.Enrolment) ([]Answers, error) {
	var out []Answers
	for i := range enrolments {
		e := &enrolments[i]
		doc, pid := s.where(e)
		row, err := s.Store.Evaluation(ctx, doc, pid)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return nil, err
		}
		a := Answers{Course: e.Course, Enrolled: row.Enrolled, FollowUpSent: row.FollowUpSent}
		if b := row.Before; b != nil {
			a.ConfidenceBefore, a.BeforeSkipped = b.Confidence, b.Skipped
		}
		if x := row.After; x != nil {
			a.ConfidenceAfter, a.AfterSkipped, a.Helpful, a.Relevant, a.WouldRecommend = x.Confidence, x.Skipped, x.Helpful, x.Relevant, x.Recommend
			a.WillDoDifferently = s.Open(doc, pid, "different", x.Different)
		}
		if f := row.FollowUp; f != nil {
			a.ChangedPractice, a.DifferenceFamily, a.FollowUpSkipped = f.Changed, f.Family, f.Skipped
			a.Example = s.Open(doc, pid, "example", f.Example)
		}
		out = append(out, a)
	}
	return out, nil
}

// ErasePerson deletes the learner's rows and takes their follow-ups off
// the days they were due. Run before their enrolments go (it finds the
// rows from them); repeating it is harmless.
func (s *Service) ErasePerson(ctx context.Context, enrolments []learning.Enrolment) error {
	for i := range enrolments {
		e := &enrolments[i]
		doc, pid := s.where(e)
		if err := s.Store.DeleteEvaluation(ctx, doc, pid); err != nil {
			return err
		}
		if e.Completion != nil {
			if err := s.Store.RemoveFollowUpDue(ctx, s.FollowUpDay(e).String(), e.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
