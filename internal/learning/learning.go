// Package learning holds enrolments, lesson progress, assessment attempts
// and completions.
//
// An enrolment is one document per learner and course (_id "<user>/<slug>"),
// so the lesson path is point reads. Attempt papers and submitted results are
// separate insert-only documents keyed "<user>/<slug>/<n>": inserting one is
// the claim (a second insert of the same key fails), which makes starting an
// attempt and submitting it safe against double clicks without transactions.
// The enrolment then records a summary with idempotent $set updates; a
// reconciler finishes that step if the process died in between.
package learning

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
)

// Work handed over when a course is completed; later stages remove their
// marker once done.
const (
	PendingCertificate = "certificate"
	PendingCPD         = "cpd"
	PendingImpact      = "impact" // the pass joins the course's evaluation, and its follow-up is scheduled
)

// PendingMarkers lists every hand-over marker.
var PendingMarkers = []string{PendingCertificate, PendingCPD, PendingImpact}

// Enrolment is a learner's progress in one course.
type Enrolment struct {
	ID            string                    `bson:"_id"` // <userID>/<slug>
	UserID        string                    `bson:"user_id"`
	Course        string                    `bson:"course"`
	CourseVersion string                    `bson:"course_version"` // version when enrolled
	Enrolled      time.Time                 `bson:"enrolled_at"`
	Updated       time.Time                 `bson:"updated_at"`
	Lessons       map[string]time.Time      `bson:"lessons"` // completed lessons by name
	LastLesson    string                    `bson:"last_lesson"`
	Attempts      map[string]AttemptSummary `bson:"attempts"` // by attempt number
	OpenAttempt   int                       `bson:"open_attempt"`
	Completion    *Completion               `bson:"completion,omitempty"`
	// Pending lists work to hand over after completion (PendingCertificate,
	// PendingCPD). It is set in the same write as the completion.
	Pending []string `bson:"pending"`
	// CertificateCodes lists the certificates issued for completions of
	// this enrolment, oldest first.
	CertificateCodes []string `bson:"certificate_codes,omitempty"`
}

// AttemptSummary is the enrolment's record of one attempt.
type AttemptSummary struct {
	No        int       `bson:"no"`
	Started   time.Time `bson:"started_at"`
	Submitted time.Time `bson:"submitted_at,omitempty"`
	Correct   int       `bson:"correct"`
	Total     int       `bson:"total"`
	Percent   int       `bson:"percent"`
	Passed    bool      `bson:"passed"`
	// Void is set on an attempt withdrawn because a new version of the
	// course changed its questions while it was open; it does not count.
	Void bool `bson:"void,omitempty"`
}

// Completion records a pass: what was passed, when and with what score.
type Completion struct {
	At            time.Time `bson:"at"`
	CourseVersion string    `bson:"course_version"`
	CourseTitle   string    `bson:"course_title"`
	Percent       int       `bson:"percent"`
	CPDHours      float64   `bson:"cpd_hours"`
	Attempt       int       `bson:"attempt"`
}

// Attempt is a drawn paper; it never changes once inserted.
type Attempt struct {
	ID            string              `bson:"_id"` // <userID>/<slug>/<n>
	UserID        string              `bson:"user_id"`
	Course        string              `bson:"course"`
	No            int                 `bson:"no"`
	CourseVersion string              `bson:"course_version"`
	Started       time.Time           `bson:"started_at"`
	Paper         []courses.PaperItem `bson:"paper"`
}

// Submission is a submitted attempt and its result; inserted once.
type Submission struct {
	ID     string    `bson:"_id"` // same as the attempt's
	UserID string    `bson:"user_id"`
	Course string    `bson:"course"`
	No     int       `bson:"no"`
	At     time.Time `bson:"submitted_at"`
	// CourseVersion is the version the paper was drawn from (the attempt's).
	CourseVersion string          `bson:"course_version,omitempty"`
	Answers       courses.Answers `bson:"answers"`
	Result        courses.Result  `bson:"result"`
}

// EnrolmentID returns the key of a learner's enrolment in a course.
func EnrolmentID(userID, slug string) string { return userID + "/" + slug }

// AttemptID returns the key of attempt n.
func AttemptID(userID, slug string, n int) string {
	return EnrolmentID(userID, slug) + "/" + strconv.Itoa(n)
}

// Store is the persistence learning needs.
type Store interface {
	InsertEnrolment(ctx context.Context, e *Enrolment) error // ECONFLICT when it exists
	Enrolment(ctx context.Context, id string) (*Enrolment, error)
	SetLessonDone(ctx context.Context, id, lesson string, at time.Time) error
	SetLastLesson(ctx context.Context, id, lesson string, at time.Time) error
	SetOpenAttempt(ctx context.Context, id string, s AttemptSummary, at time.Time) error
	RecordResult(ctx context.Context, id string, s AttemptSummary, c *Completion, pending []string, at time.Time) error
	// UnrecordedSubmissions returns submissions not yet recorded on their
	// enrolment, from the queue InsertSubmission adds them to.
	UnrecordedSubmissions(ctx context.Context, now time.Time, limit int) ([]Submission, error)
	// CourseCompletions returns a page of a course's completions (of one
	// version, unless it is ""), newest first, and how many there are;
	// limit 0 returns all.
	CourseCompletions(ctx context.Context, course, version string, offset, limit int) ([]Enrolment, int, error)
	// CompletionVersions counts a course's completions per version, newest first.
	CompletionVersions(ctx context.Context, course string) ([]VersionCount, error)

	InsertAttempt(ctx context.Context, a *Attempt) error // ECONFLICT when it exists
	Attempt(ctx context.Context, id string) (*Attempt, error)
	InsertSubmission(ctx context.Context, s *Submission) error // ECONFLICT when it exists
	Submission(ctx context.Context, id string) (*Submission, error)

	// Erasure (see personal.go): each deletes the record, then the rows
	// and queue items that name it.
	DeleteEnrolment(ctx context.Context, e *Enrolment) error
	DeleteAttempt(ctx context.Context, id string) error
	DeleteSubmission(ctx context.Context, id string) error
}

// Catalogue is the set of courses, loaded once at start-up.
type Catalogue struct {
	list   []*courses.Course
	bySlug map[string]*courses.Course
	index  *searchIndex // the words of every course (search.go)
}

// NewCatalogue indexes a loaded catalogue.
func NewCatalogue(cs []*courses.Course) *Catalogue {
	c := &Catalogue{list: cs, bySlug: map[string]*courses.Course{}, index: newSearchIndex(cs)}
	for _, x := range cs {
		c.bySlug[x.Slug] = x
	}
	return c
}

// All returns every course in display order.
func (c *Catalogue) All() []*courses.Course { return c.list }

// Get returns one course; ENOTFOUND when there is none.
func (c *Catalogue) Get(slug string) (*courses.Course, error) {
	x, ok := c.bySlug[slug]
	if !ok {
		return nil, errs.E(errs.ENOTFOUND, "We could not find that course.")
	}
	return x, nil
}

// Progress summarises an enrolment for lists and progress bars.
type Progress struct {
	Course     *courses.Course
	Enrolment  *Enrolment
	Done       int // lessons completed
	Total      int // lessons
	Percent    int
	NextLesson string // where to resume: the last lesson viewed, or the first not done
}

// ProgressOf computes the progress of an enrolment.
func ProgressOf(c *courses.Course, e *Enrolment) Progress {
	p := Progress{Course: c, Enrolment: e, Total: len(c.Lessons)}
	for _, l := range c.Lessons {
		if _, ok := e.Lessons[l.Name]; ok {
			p.Done++
		} else if p.NextLesson == "" {
			p.NextLesson = l.Name
		}
	}
	if e.LastLesson != "" {
		if _, ok := e.Lessons[e.LastLesson]; !ok {
			p.NextLesson = e.LastLesson
		}
	}
	if p.Total > 0 {
		p.Percent = p.Done * 100 / p.Total
	}
	return p
}

// AllLessonsDone reports whether every lesson of c is complete.
func (p Progress) AllLessonsDone() bool { return p.Done == p.Total }

// ErrNotEnrolled is returned (wrapped) when a learner is not enrolled on the course.
var ErrNotEnrolled = errs.E(errs.ENOTFOUND, "You are not enrolled on this course.")

func notEnrolled(slug string) error {
	return fmt.Errorf("course %s: %w", slug, ErrNotEnrolled)
}

// VersionCount is how many people completed one version of a course.
type VersionCount struct {
	Version string
	Count   int
}
