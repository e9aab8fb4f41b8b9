package learning

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"github.com/family-advocacy/lms/internal/civil"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
)

// Service runs the learning journey. Its store stays inside: other
// packages use the methods.
type Service struct {
	store     Store
	Catalogue *Catalogue
	Now       func() time.Time
	Log       *slog.Logger

	// Observer, when set, is told of lessons completed and attempts
	// submitted, for the course's evaluation (package impact). Its errors
	// are logged: they never stand between a learner and their result.
	Observer Observer

	cache enrolmentCache
}

// Observer is told of a learner's progress.
type Observer interface {
	Progress(ctx context.Context, e *Enrolment, lessons int) error
	Attempted(ctx context.Context, e *Enrolment, n int, answers courses.Answers, passed bool) error
}

// NewService returns the service on st.
func NewService(st Store, cat *Catalogue, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: st, Catalogue: cat, Now: now, Log: log}
}

// Enrol enrols a learner; enrolling twice is harmless.
func (s *Service) Enrol(ctx context.Context, userID, slug string) (*Enrolment, error) {
	c, err := s.Catalogue.Get(slug)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	e := &Enrolment{ID: EnrolmentID(userID, slug), UserID: userID, Course: slug, CourseVersion: c.Version, Enrolled: now, Updated: now,
		Lessons: map[string]time.Time{}, Attempts: map[string]AttemptSummary{}, Pending: []string{}}
	if err := s.store.InsertEnrolment(ctx, e); err != nil && !errs.Is(err, errs.ECONFLICT) {
		return nil, err
	}
	s.cache.drop(e.ID)
	return s.store.Enrolment(ctx, e.ID)
}

// Enrolment returns a learner's enrolment, finishing any submission whose
// result was not yet recorded on it.
func (s *Service) Enrolment(ctx context.Context, userID, slug string) (*Enrolment, error) {
	e, err := s.store.Enrolment(ctx, EnrolmentID(userID, slug))
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, notEnrolled(slug)
	}
	if err != nil {
		return nil, err
	}
	if e.OpenAttempt > 0 {
		if sub, err := s.store.Submission(ctx, AttemptID(userID, slug, e.OpenAttempt)); err == nil {
			if err := s.record(ctx, e, sub); err != nil {
				return nil, err
			}
			return s.store.Enrolment(ctx, e.ID)
		}
	}
	return e, nil
}

// ViewLesson returns the lesson and the learner's progress, remembering it as
// the place to resume.
func (s *Service) ViewLesson(ctx context.Context, userID, slug, lesson string) (*courses.Course, *courses.Lesson, Progress, error) {
	c, err := s.Catalogue.Get(slug)
	if err != nil {
		return nil, nil, Progress{}, err
	}
	l, _, ok := c.Lesson(lesson)
	if !ok {
		return nil, nil, Progress{}, errs.E(errs.ENOTFOUND, "We could not find that lesson.")
	}
	now := s.Now()
	id := EnrolmentID(userID, slug)
	e, ok := s.cache.get(id, now)

	if !ok {
		e, err = s.store.Enrolment(ctx, id)
		if errs.Is(err, errs.ENOTFOUND) {
			return nil, nil, Progress{}, notEnrolled(slug)
		}
		if err != nil {
			return nil, nil, Progress{}, err
		}
		s.cache.put(e, now)
	}
	if e.LastLesson != lesson {
		if err := s.store.SetLastLesson(ctx, e.ID, lesson, now.UTC()); err != nil {
			return nil, nil, Progress{}, err
		}
		e = e.clone()
		e.LastLesson = lesson
		s.cache.put(e, now)
	}
	return c, l, ProgressOf(c, e), nil
}

// CompleteLesson marks a lesson done and returns the updated progress.
func (s *Service) CompleteLesson(ctx context.Context, userID, slug, lesson string) (Progress, error) {
	c, err := s.Catalogue.Get(slug)
	if err != nil {
		return Progress{}, err
	}
	if _, _, ok := c.Lesson(lesson); !ok {
		return Progress{}, errs.E(errs.ENOTFOUND, "We could not find that lesson.")
	}
	e, err := s.Enrolment(ctx, userID, slug)
	if err != nil {
		return Progress{}, err
	}
	if _, done := e.Lessons[lesson]; !done {
		now := s.Now().UTC()
		if err := s.store.SetLessonDone(ctx, e.ID, lesson, now); err != nil {
			return Progress{}, err
		}
		e.Lessons[lesson] = now
		e.LastLesson = lesson
		if s.Observer != nil {
			if err := s.Observer.Progress(ctx, e, len(e.Lessons)); err != nil {
				s.Log.Warn("learning: evaluation progress", "enrolment", e.ID, "err", err)
			}
		}
	}
	s.cache.put(e.clone(), s.Now())
	return ProgressOf(c, e), nil
}

// AssessmentState is what the assessment page shows.
type AssessmentState struct {
	Course     *courses.Course
	Enrolment  *Enrolment
	Progress   Progress
	Open       *Attempt    // the attempt in progress, if any
	Last       *Submission // the latest submitted attempt, if any
	Used       int         // attempts submitted
	CanStart   bool
	RetryAt    time.Time // when a new attempt may start, if waiting
	NoAttempts bool      // all attempts used without a pass
	Locked     bool      // lessons not all complete
	Voided     bool      // an open paper was withdrawn just now: the course changed under it
	Attempts   Attempts  // attempts used and left, and the wait after a fail
}

// errPaperChanged is what submitting a withdrawn paper says.
var errPaperChanged = errs.E(errs.ECONFLICT, "This course was updated while your paper was open and some of its questions changed, so that paper no longer counts. Please start a new one.")

// Assessment returns the state of a learner's assessment.
func (s *Service) Assessment(ctx context.Context, userID, slug string) (*AssessmentState, error) {
	c, err := s.Catalogue.Get(slug)
	if err != nil {
		return nil, err
	}
	e, err := s.Enrolment(ctx, userID, slug)
	if err != nil {
		return nil, err
	}
	st := &AssessmentState{Course: c, Enrolment: e, Progress: ProgressOf(c, e)}
	st.Locked = !st.Progress.AllLessonsDone()
	st.Attempts = AttemptsOf(c, e, s.Now())
	st.Used = st.Attempts.Used
	if n := st.Attempts.Last.No; n > 0 {
		if st.Last, err = s.store.Submission(ctx, AttemptID(userID, slug, n)); err != nil {
			return nil, err
		}
	}
	if e.OpenAttempt > 0 {
		if st.Open, err = s.store.Attempt(ctx, AttemptID(userID, slug, e.OpenAttempt)); err != nil {
			return nil, err
		}
		if courses.PaperFits(&c.Assessment, st.Open.Paper) {
			return st, nil
		}
		// A new version of the course changed questions on the open paper:
		// withdraw it (it does not count as an attempt) and carry on as if
		// none were open.
		void := AttemptSummary{No: st.Open.No, Started: st.Open.Started, Void: true}
		s.cache.drop(e.ID)
		if err := s.store.RecordResult(ctx, e.ID, void, nil, nil, s.Now().UTC()); err != nil {
			return nil, err
		}
		e.Attempts[strconv.Itoa(void.No)], e.OpenAttempt, st.Open, st.Voided = void, 0, nil, true
		st.Attempts = AttemptsOf(c, e, s.Now())
	}
	if e.Completion != nil || st.Locked {
		return st, nil
	}
	switch {
	case st.Attempts.NoneLeft:
		st.NoAttempts = true
	case st.Attempts.Waiting():
		st.RetryAt = st.Attempts.RetryAt
	default:
		st.CanStart = true
	}
	return st, nil
}

// StartAttempt draws a new paper, or returns the one already open.
func (s *Service) StartAttempt(ctx context.Context, userID, slug string) (*Attempt, error) {
	st, err := s.Assessment(ctx, userID, slug)
	if err != nil {
		return nil, err
	}
	switch {
	case st.Open != nil:
		return st.Open, nil
	case st.Enrolment.Completion != nil:
		return nil, errs.E(errs.ECONFLICT, "You have already passed this course.")
	case st.Locked:
		return nil, errs.E(errs.ECONFLICT, "Complete every lesson before you take the assessment.")
	case st.NoAttempts:
		return nil, errs.E(errs.ECONFLICT, "You have used all your attempts at this assessment. Please contact us to arrange another.")
	case !st.RetryAt.IsZero():
		return nil, errs.E(errs.ECONFLICT, "You can try the assessment again from %s.", Moment(st.RetryAt))
	}
	n := len(st.Enrolment.Attempts) + 1
	now := s.Now().UTC()
	a := &Attempt{ID: AttemptID(userID, slug, n), UserID: userID, Course: slug, No: n, CourseVersion: st.Course.Version, Started: now,
		Paper: courses.Draw(&st.Course.Assessment, newRand())}
	if err := s.store.InsertAttempt(ctx, a); err != nil {
		if !errs.Is(err, errs.ECONFLICT) {
			return nil, err
		}
		// Someone (a double click) started attempt n first: use theirs.
		if a, err = s.store.Attempt(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	if err := s.store.SetOpenAttempt(ctx, st.Enrolment.ID, AttemptSummary{No: a.No, Started: a.Started}, now); err != nil {
		return nil, err
	}
	return a, nil
}

// Submit grades answers to attempt n. The first submission is recorded;
// any later one returns it unchanged. Answers that do not fit the paper are
// an EINVALID error wrapping a *courses.AnswerError.
func (s *Service) Submit(ctx context.Context, userID, slug string, n int, answers courses.Answers) (*Submission, error) {
	c, err := s.Catalogue.Get(slug)
	if err != nil {
		return nil, err
	}
	id := AttemptID(userID, slug, n)
	if sub, err := s.store.Submission(ctx, id); err == nil {
		return sub, nil // already submitted
	}
	a, err := s.store.Attempt(ctx, id)
	if err != nil {
		return nil, err
	}
	if !courses.PaperFits(&c.Assessment, a.Paper) {
		if _, err := s.Assessment(ctx, userID, slug); err != nil { // withdraws the paper
			return nil, err
		}
		return nil, errPaperChanged
	}
	res, err := courses.Grade(&c.Assessment, a.Paper, answers)
	if err != nil {
		if _, ok := err.(*courses.AnswerError); ok {
			return nil, errs.Wrap(errs.EINVALID, err, "Your answers did not match this paper. Please answer the questions shown.")
		}
		return nil, err
	}
	sub := &Submission{ID: id, UserID: userID, Course: slug, No: n, At: s.Now().UTC(), CourseVersion: a.CourseVersion, Answers: answers, Result: res}
	if err := s.store.InsertSubmission(ctx, sub); err != nil {
		if !errs.Is(err, errs.ECONFLICT) {
			return nil, err
		}
		// A concurrent submission won: that is the one result.
		return s.store.Submission(ctx, id)
	}
	e, err := s.store.Enrolment(ctx, EnrolmentID(userID, slug))
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, e, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// record writes a submission's summary onto the enrolment and, on a pass,
// the completion with its hand-over markers, in one idempotent update.
func (s *Service) record(ctx context.Context, e *Enrolment, sub *Submission) error {
	c, err := s.Catalogue.Get(e.Course)
	if err != nil {
		return err
	}
	prev := e.Attempts[strconv.Itoa(sub.No)]
	sum := AttemptSummary{No: sub.No, Started: prev.Started, Submitted: sub.At,
		Correct: sub.Result.Correct, Total: sub.Result.Total, Percent: sub.Result.Percent, Passed: sub.Result.Passed}
	var comp *Completion
	var pending []string
	if sub.Result.Passed && e.Completion == nil {
		version := sub.CourseVersion // the version the paper was drawn from
		if version == "" {
			version = c.Version
		}
		comp = &Completion{At: sub.At, CourseVersion: version, CourseTitle: c.Title, Percent: sub.Result.Percent, CPDHours: c.CPDHours, Attempt: sub.No}
		pending = PendingMarkers
	}
	// Told before the result is recorded: a crash between the two is
	// repeated by Reconcile, and telling twice is harmless.
	if s.Observer != nil {
		if err := s.Observer.Attempted(ctx, e, sub.No, sub.Answers, sub.Result.Passed); err != nil {
			s.Log.Warn("learning: evaluation attempt", "enrolment", e.ID, "err", err)
		}
	}
	s.cache.drop(e.ID)
	return s.store.RecordResult(ctx, e.ID, sum, comp, pending, s.Now().UTC())
}

// Reconcile records every submission that an enrolment does not show yet
// (the process died between inserting it and updating the enrolment).
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	subs, err := s.store.UnrecordedSubmissions(ctx, s.Now(), 1000)
	if err != nil {
		return 0, err
	}
	fixed := 0
	for i := range subs {
		sub := &subs[i]
		e, err := s.store.Enrolment(ctx, EnrolmentID(sub.UserID, sub.Course))
		if err != nil {
			return fixed, err
		}
		if err := s.record(ctx, e, sub); err != nil {
			return fixed, fmt.Errorf("reconcile %s: %w", e.ID, err)
		}
		fixed++
	}
	return fixed, nil
}

// EnrolmentByID returns an enrolment as stored (unlike Enrolment, it does
// not finish a submission whose result is not recorded yet).
func (s *Service) EnrolmentByID(ctx context.Context, id string) (*Enrolment, error) {
	return s.store.Enrolment(ctx, id)
}

// CourseCompletions returns a page of the enrolments that completed a
// course (one version of it, unless version is ""), newest completion
// first, and how many there are; limit 0 returns all.
func (s *Service) CourseCompletions(ctx context.Context, slug, version string, offset, limit int) ([]Enrolment, int, error) {
	return s.store.CourseCompletions(ctx, slug, version, offset, limit)
}

// Submission returns attempt n's submission.
func (s *Service) Submission(ctx context.Context, userID, slug string, n int) (*Submission, error) {
	return s.store.Submission(ctx, AttemptID(userID, slug, n))
}

// OpenPaper returns attempt n if it is the learner's open attempt.
func (s *Service) OpenPaper(ctx context.Context, userID, slug string, n int) (*Attempt, error) {
	return s.store.Attempt(ctx, AttemptID(userID, slug, n))
}

// MyLearning returns the learner's enrolments (in progress first) and the
// CPD hours of completed courses. One point read per catalogue course.
func (s *Service) MyLearning(ctx context.Context, userID string) (inProgress, completed []Progress, cpdHours float64, err error) {
	for _, c := range s.Catalogue.All() {
		e, err := s.store.Enrolment(ctx, EnrolmentID(userID, c.Slug))
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return nil, nil, 0, err
		}
		p := ProgressOf(c, e)
		if e.Completion != nil {
			completed = append(completed, p)
			cpdHours += e.Completion.CPDHours
		} else {
			inProgress = append(inProgress, p)
		}
	}
	sort.SliceStable(inProgress, func(i, j int) bool { return inProgress[i].Enrolment.Updated.After(inProgress[j].Enrolment.Updated) })
	sort.SliceStable(completed, func(i, j int) bool {
		return completed[i].Enrolment.Completion.At.After(completed[j].Enrolment.Completion.At)
	})
	return inProgress, completed, cpdHours, nil
}

var london = civil.London

// newRand returns a generator seeded from the operating system, so papers
// cannot be predicted.
func newRand() *rand.Rand {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))
}

// CompletionVersions counts a course's completions per version, newest
// version first.
func (s *Service) CompletionVersions(ctx context.Context, slug string) ([]VersionCount, error) {
	return s.store.CompletionVersions(ctx, slug)
}
