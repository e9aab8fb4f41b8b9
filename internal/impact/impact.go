// Package impact collects what learners say a course did for them — a
// confidence self-rating against the course's outcomes before and after,
// how helpful and relevant it was, and months later whether it changed how
// they work — and reports it per course and period without naming anyone.
//
// Privacy by design: a learner's answers are kept under a per-course
// pseudonym (a keyed hash of their account ID, which only this service can
// make), never with their name or email; free text is encrypted at rest;
// a figure describing fewer than MinGroup people is not shown. Their own
// answers are found again from their enrolments, for their data download
// and for erasure.
//
// Storage fits the embedded engine's rules: the rows of one course's
// learners who enrolled in one month are spread over Shards documents
// keyed "<course>/<YYYY-MM>/<shard>", each row a field named by the
// pseudonym. Every write sets one row's fields in one document, with the
// document's tally of its rows (idempotent, so a retry or a reconciler may
// repeat it), and a report reads the tallies of months × Shards documents
// by _id, whatever the number of learners, decoding no row.
package impact

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
)

// Shards is how many documents one course-month's rows are spread over.
const Shards = 16

// MinGroup is the smallest number of people a figure may describe.
const MinGroup = 5

// FollowUpDays is how long after completion the follow-up is sent, unless
// the course says otherwise (follow_up_days in course.yaml).
const FollowUpDays = 90

// Row is one learner's evaluation of one course, under their pseudonym.
type Row struct {
	Org      string     `bson:"org,omitempty"` // their organisation when last written (partner managers see their own)
	Enrolled time.Time  `bson:"enrolled"`
	Lessons  int        `bson:"lessons,omitempty"`   // lessons completed so far
	Attempts int        `bson:"attempts,omitempty"`  // attempts submitted
	First    *First     `bson:"first,omitempty"`     // the first attempt's answers
	Passed   *time.Time `bson:"completed,omitempty"` // when they passed

	Before       *Ratings   `bson:"before,omitempty"`
	After        *After     `bson:"after,omitempty"`
	FollowUpSent *time.Time `bson:"followup_sent,omitempty"`
	FollowUp     *FollowUp  `bson:"followup,omitempty"`

	// Publish lists the comments an admin marked publishable: "different"
	// (what they will do differently) and "example" (the follow-up's).
	Publish []string `bson:"publish,omitempty"`
}

// First is the first attempt's answers: question ID to the chosen option
// indexes (into the bank question's options).
type First struct {
	Answers map[string][]int `bson:"answers"`
	Passed  bool             `bson:"passed"`
}

// Ratings is a confidence self-rating, 1–5 per course outcome (0: not
// answered), or a skip.
type Ratings struct {
	At         time.Time `bson:"at"`
	Skipped    bool      `bson:"skipped,omitempty"`
	Confidence []int     `bson:"confidence,omitempty"`
}

// After is what a learner says after passing.
type After struct {
	Ratings   `bson:",inline"`
	Helpful   int    `bson:"helpful,omitempty"`   // 1 (not at all) – 5 (very)
	Relevant  int    `bson:"relevant,omitempty"`  // 1 – 5
	Different string `bson:"different,omitempty"` // sealed: what they will do differently
	Recommend string `bson:"recommend,omitempty"` // yes, no, not-sure
}

// FollowUp is the answer to "Has this course changed how you work?".
type FollowUp struct {
	At      time.Time `bson:"at"`
	Skipped bool      `bson:"skipped,omitempty"`
	Changed string    `bson:"changed,omitempty"` // yes, somewhat, no
	Example string    `bson:"example,omitempty"` // sealed
	Family  string    `bson:"family,omitempty"`  // yes, no, not-sure: a difference for a family they supported
}

// Choices offered on the forms.
var (
	ChangedChoices   = []string{"yes", "somewhat", "no"}
	FamilyChoices    = []string{"yes", "no", "not-sure"}
	RecommendChoices = []string{"yes", "no", "not-sure"}
)

// Label is the words for a stored choice.
func Label(v string) string {
	switch v {
	case "yes":
		return "Yes"
	case "somewhat":
		return "Somewhat"
	case "no":
		return "No"
	case "not-sure":
		return "Not sure"
	}
	return v
}

// Update is one write to a row: each field set replaces that part of the
// row; Lessons and Attempts only ever grow.
type Update struct {
	Org          *string
	Enrolled     time.Time // always set: the row's month comes from it
	Lessons      int
	Attempts     int
	First        *First
	Passed       *time.Time
	Before       *Ratings
	After        *After
	FollowUpSent *time.Time
	FollowUp     *FollowUp
	Publish      []string // set when not nil
}

// Apply makes the change to a row.
func (u Update) Apply(r *Row) {
	r.Enrolled = u.Enrolled
	if u.Org != nil {
		r.Org = *u.Org
	}
	r.Lessons = max(r.Lessons, u.Lessons)
	r.Attempts = max(r.Attempts, u.Attempts)
	setIf(&r.First, u.First)
	setIf(&r.Passed, u.Passed)
	setIf(&r.Before, u.Before)
	setIf(&r.After, u.After)
	setIf(&r.FollowUpSent, u.FollowUpSent)
	setIf(&r.FollowUp, u.FollowUp)
	if u.Publish != nil {
		r.Publish = u.Publish
	}
}

// setIf sets *dst to v unless v is nil.
func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// Store keeps the rows and the follow-ups' due dates.
type Store interface {
	// UpdateEvaluation applies u to one row of a shard document, creating
	// either if missing.
	UpdateEvaluation(ctx context.Context, docID, pseudonym string, u Update) error
	// Evaluation returns one row (ENOTFOUND: none).
	Evaluation(ctx context.Context, docID, pseudonym string) (*Row, error)
	// EvaluationDoc returns a shard document's rows (none: empty).
	EvaluationDoc(ctx context.Context, docID string) (map[string]Row, error)
	// EvaluationTally returns the tally of a shard document's rows, kept
	// with them (none: empty).
	EvaluationTally(ctx context.Context, docID string) (*Tally, error)
	// DeleteEvaluation removes one row.
	DeleteEvaluation(ctx context.Context, docID, pseudonym string) error
	// AddFollowUpDue lists an enrolment under the day its follow-up is due.
	AddFollowUpDue(ctx context.Context, day, enrolmentID string) error
	// FollowUpsDue returns the enrolments listed under a day.
	FollowUpsDue(ctx context.Context, day string) ([]string, error)
	// RemoveFollowUpDue takes one enrolment off a day's list.
	RemoveFollowUpDue(ctx context.Context, day, enrolmentID string) error
	// DropFollowUpDay deletes a day's list.
	DropFollowUpDay(ctx context.Context, day string) error
}

// DocID is the shard document of a course's rows of learners who enrolled
// in the month of enrolled (London time).
func DocID(course string, enrolled time.Time, pseudonym string) string {
	return fmt.Sprintf("%s/%s/%s", course, Month(enrolled), strconv.Itoa(shardOf(pseudonym)))
}

// Month is "YYYY-MM" of t in London.
func Month(t time.Time) string { return t.In(civil.London).Format("2006-01") }

func shardOf(pseudonym string) int {
	h := 0
	for i := 0; i < len(pseudonym) && i < 4; i++ {
		h = h*31 + int(pseudonym[i])
	}
	return h % Shards
}
