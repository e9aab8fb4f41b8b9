package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// Enrolments are keyed "<user>/<course>"; attempts and submissions
// "<user>/<course>/<n>", inserted once.
const (
	colEnrolments  = "enrolments"
	colAttempts    = "attempts"
	colSubmissions = "submissions"
)

func insertOnce(ctx context.Context, coll collection, doc any, what string) error {
	_, err := coll.InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return errs.Wrap(errs.ECONFLICT, err, "%s already exists", what)
	}
	if err != nil {
		return fmt.Errorf("store: insert %s: %w", what, err)
	}
	return nil
}

func findByID[T any](ctx context.Context, coll collection, id, what string) (*T, error) {
	var v T
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&v); err != nil {
		return nil, notFound(err, what)
	}
	return &v, nil
}

func (db *DB) updateByID(ctx context.Context, coll, id string, update bson.D) error {
	res, err := db.coll(coll).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return fmt.Errorf("store: update %s %s: %w", coll, id, err)
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.ENOTFOUND, "not found")
	}
	return nil
}

// InsertEnrolment inserts an enrolment, entered first in its learner's
// list; ECONFLICT when it exists.
func (db *DB) InsertEnrolment(ctx context.Context, e *learning.Enrolment) error {
	if err := db.indexEnrolment(ctx, e); err != nil {
		return err
	}
	return insertOnce(ctx, db.coll(colEnrolments), e, "enrolment")
}

// Enrolment returns one enrolment.
func (db *DB) Enrolment(ctx context.Context, id string) (*learning.Enrolment, error) {
	return findByID[learning.Enrolment](ctx, db.coll(colEnrolments), id, "enrolment")
}

// SetLessonDone records a completed lesson.
func (db *DB) SetLessonDone(ctx context.Context, id, lesson string, at time.Time) error {
	return db.updateByID(ctx, colEnrolments, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "lessons." + lesson, Value: at}, {Key: "last_lesson", Value: lesson}, {Key: "updated_at", Value: at},
	}}})
}

// SetLastLesson records where the learner is.
func (db *DB) SetLastLesson(ctx context.Context, id, lesson string, at time.Time) error {
	return db.updateByID(ctx, colEnrolments, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "last_lesson", Value: lesson}, {Key: "updated_at", Value: at},
	}}})
}

// SetOpenAttempt records that attempt s.No is in progress.
func (db *DB) SetOpenAttempt(ctx context.Context, id string, s learning.AttemptSummary, at time.Time) error {
	return db.updateByID(ctx, colEnrolments, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "attempts." + strconv.Itoa(s.No), Value: s}, {Key: "open_attempt", Value: s.No}, {Key: "updated_at", Value: at},
	}}})
}

// handoverQueue is the work queue of one hand-over marker.
func handoverQueue(marker string) string { return "handover_" + marker }

// RecordResult records a submitted attempt and, on a pass, the completion
// and its pending hand-over markers: one idempotent update. The hand-overs
// are queued and the completion entered in the course's lists before it;
// the submission leaves its queue after it.
func (db *DB) RecordResult(ctx context.Context, id string, s learning.AttemptSummary, c *learning.Completion, pending []string, at time.Time) error {
	var old *learning.Enrolment
	if c != nil {
		var err error
		if old, err = db.Enrolment(ctx, id); err != nil {
			return err
		}
		if err := db.indexCompletion(ctx, old, c); err != nil {
			return err
		}
	}
	for _, marker := range pending {
		if err := db.PutWork(ctx, handoverQueue(marker), id, at); err != nil {
			return err
		}
	}
	set := bson.D{{Key: "attempts." + strconv.Itoa(s.No), Value: s}, {Key: "open_attempt", Value: 0}, {Key: "updated_at", Value: at}}
	update := bson.D{}
	if c != nil {
		set = append(set, bson.E{Key: "completion", Value: c})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	if len(pending) > 0 {
		update = append(update, bson.E{Key: "$addToSet", Value: bson.D{{Key: "pending", Value: bson.D{{Key: "$each", Value: pending}}}}})
	}
	if err := db.updateByID(ctx, colEnrolments, id, update); err != nil {
		return err
	}
	if old != nil && old.Completion != nil && completionSort(old, old.Completion) != completionSort(old, c) {
		if err := db.unindexCompletion(ctx, old, old.Completion); err != nil {
			return err
		}
	}
	return db.DoneWork(ctx, QueueSubmissions, id+"/"+strconv.Itoa(s.No))
}

// staleWork is how long an item may wait in a queue before a reader that
// finds its record shows nothing to do drops it: longer than any request
// takes between queueing work and writing the record that creates it.
const staleWork = 10 * time.Minute

// UnrecordedSubmissions returns up to limit submissions whose result is not
// yet on the enrolment (the process stopped between the two writes), from
// the submissions queue; items whose submission is recorded, or was never
// made, leave the queue.
func (db *DB) UnrecordedSubmissions(ctx context.Context, now time.Time, limit int) ([]learning.Submission, error) {
	items, err := db.Work(ctx, QueueSubmissions, limit)
	if err != nil {
		return nil, err
	}
	var out []learning.Submission
	for _, it := range items {
		sub, err := db.Submission(ctx, it.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			if now.Sub(it.Created) > staleWork {
				err = db.DoneWork(ctx, QueueSubmissions, it.Key)
			} else {
				err = nil
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		e, err := db.Enrolment(ctx, learning.EnrolmentID(sub.UserID, sub.Course))
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return nil, err
		}
		if e == nil || !e.Attempts[strconv.Itoa(sub.No)].Submitted.IsZero() {
			if err := db.DoneWork(ctx, QueueSubmissions, it.Key); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, *sub)
	}
	return out, nil
}

// CourseCompletions returns a page of the enrolments in a course (of one
// version, unless it is "") that have a completion, newest first, and how
// many there are (see certificates_index.go). limit 0 returns all.
func (db *DB) CourseCompletions(ctx context.Context, course, version string, offset, limit int) ([]learning.Enrolment, int, error) {
	return db.CompletionsPage(ctx, course, version, offset, limit)
}

// InsertAttempt inserts a drawn paper; ECONFLICT when attempt n exists.
func (db *DB) InsertAttempt(ctx context.Context, a *learning.Attempt) error {
	return insertOnce(ctx, db.coll(colAttempts), a, "attempt")
}

// Attempt returns one paper.
func (db *DB) Attempt(ctx context.Context, id string) (*learning.Attempt, error) {
	return findByID[learning.Attempt](ctx, db.coll(colAttempts), id, "attempt")
}

// InsertSubmission inserts a result; ECONFLICT when the attempt was
// already submitted. It is queued first, until RecordResult records it on
// the enrolment.
func (db *DB) InsertSubmission(ctx context.Context, s *learning.Submission) error {
	if err := db.PutWork(ctx, QueueSubmissions, s.ID, s.At); err != nil {
		return err
	}
	return insertOnce(ctx, db.coll(colSubmissions), s, "submission")
}

// Submission returns one submitted attempt.
func (db *DB) Submission(ctx context.Context, id string) (*learning.Submission, error) {
	return findByID[learning.Submission](ctx, db.coll(colSubmissions), id, "submission")
}

// AttachCertificate records an issued certificate on its enrolment and
// clears the certificate hand-over marker (idempotent).
func (db *DB) AttachCertificate(ctx context.Context, enrolmentID, code string) error {
	if err := db.updateByID(ctx, colEnrolments, enrolmentID, bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "certificate_codes", Value: code}}},
		{Key: "$pull", Value: bson.D{{Key: "pending", Value: learning.PendingCertificate}}},
	}); err != nil {
		return err
	}
	return db.DoneWork(ctx, handoverQueue(learning.PendingCertificate), enrolmentID)
}

// ClearPending removes a hand-over marker from an enrolment, and the
// enrolment from the marker's queue.
func (db *DB) ClearPending(ctx context.Context, enrolmentID, marker string) error {
	if err := db.updateByID(ctx, colEnrolments, enrolmentID, bson.D{{Key: "$pull", Value: bson.D{{Key: "pending", Value: marker}}}}); err != nil {
		return err
	}
	return db.DoneWork(ctx, handoverQueue(marker), enrolmentID)
}

// PendingEnrolments returns up to limit enrolments waiting for the given
// hand-over, from its queue (a point read each); items whose enrolment no
// longer has the marker leave the queue.
func (db *DB) PendingEnrolments(ctx context.Context, marker string, now time.Time, limit int) ([]learning.Enrolment, error) {
	q := handoverQueue(marker)
	items, err := db.Work(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending %s: %w", marker, err)
	}
	var out []learning.Enrolment
	for _, it := range items {
		e, err := db.Enrolment(ctx, it.Key)
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return nil, err
		}
		if e != nil && slices.Contains(e.Pending, marker) {
			out = append(out, *e)
			continue
		}
		if e != nil && e.Completion != nil && now.Sub(it.Created) > time.Minute || now.Sub(it.Created) > staleWork {
			// Handed over already, or the completion was never recorded.
			if err := db.DoneWork(ctx, q, it.Key); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
