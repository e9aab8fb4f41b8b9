package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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

func init() {
	indexes[colEnrolments] = append(indexes[colEnrolments],
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "pending", Value: 1}}},
	)
}

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

// InsertEnrolment inserts an enrolment; ECONFLICT when it exists.
func (db *DB) InsertEnrolment(ctx context.Context, e *learning.Enrolment) error {
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

// RecordResult records a submitted attempt and, on a pass, the completion
// and its pending hand-over markers: one idempotent update.
func (db *DB) RecordResult(ctx context.Context, id string, s learning.AttemptSummary, c *learning.Completion, pending []string, at time.Time) error {
	set := bson.D{{Key: "attempts." + strconv.Itoa(s.No), Value: s}, {Key: "open_attempt", Value: 0}, {Key: "updated_at", Value: at}}
	update := bson.D{}
	if c != nil {
		set = append(set, bson.E{Key: "completion", Value: c})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	if len(pending) > 0 {
		update = append(update, bson.E{Key: "$addToSet", Value: bson.D{{Key: "pending", Value: bson.D{{Key: "$each", Value: pending}}}}})
	}
	return db.updateByID(ctx, colEnrolments, id, update)
}

// EnrolmentsWithOpenAttempt returns up to limit enrolments with an attempt
// in progress (a scan; used by the reconciler only).
func (db *DB) EnrolmentsWithOpenAttempt(ctx context.Context, limit int) ([]learning.Enrolment, error) {
	cur, err := db.coll(colEnrolments).Find(ctx, bson.D{{Key: "open_attempt", Value: bson.D{{Key: "$gt", Value: 0}}}}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: open attempts: %w", err)
	}
	var out []learning.Enrolment
	return out, cur.All(ctx, &out)
}

// CourseCompletions returns the enrolments in a course that have a
// completion, newest completion first, with only what the admin report
// needs (a scan of the enrolments).
func (db *DB) CourseCompletions(ctx context.Context, course string) ([]learning.Enrolment, error) {
	filter := bson.D{{Key: "course", Value: course}, {Key: "completion", Value: bson.D{{Key: "$exists", Value: true}}}}
	proj := bson.D{{Key: "user_id", Value: 1}, {Key: "course", Value: 1}, {Key: "completion", Value: 1}, {Key: "certificate_codes", Value: 1}}
	cur, err := db.coll(colEnrolments).Find(ctx, filter, options.Find().SetProjection(proj))
	if err != nil {
		return nil, fmt.Errorf("store: completions of %s: %w", course, err)
	}
	var out []learning.Enrolment
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: completions of %s: %w", course, err)
	}
	slices.SortStableFunc(out, func(a, b learning.Enrolment) int { return b.Completion.At.Compare(a.Completion.At) })
	return out, nil
}

// InsertAttempt inserts a drawn paper; ECONFLICT when attempt n exists.
func (db *DB) InsertAttempt(ctx context.Context, a *learning.Attempt) error {
	return insertOnce(ctx, db.coll(colAttempts), a, "attempt")
}

// Attempt returns one paper.
func (db *DB) Attempt(ctx context.Context, id string) (*learning.Attempt, error) {
	return findByID[learning.Attempt](ctx, db.coll(colAttempts), id, "attempt")
}

// InsertSubmission inserts a result; ECONFLICT when the attempt was already submitted.
func (db *DB) InsertSubmission(ctx context.Context, s *learning.Submission) error {
	return insertOnce(ctx, db.coll(colSubmissions), s, "submission")
}

// Submission returns one submitted attempt.
func (db *DB) Submission(ctx context.Context, id string) (*learning.Submission, error) {
	return findByID[learning.Submission](ctx, db.coll(colSubmissions), id, "submission")
}

// AttachCertificate records an issued certificate on its enrolment and
// clears the certificate hand-over marker (idempotent).
func (db *DB) AttachCertificate(ctx context.Context, enrolmentID, code string) error {
	return db.updateByID(ctx, colEnrolments, enrolmentID, bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "certificate_codes", Value: code}}},
		{Key: "$pull", Value: bson.D{{Key: "pending", Value: learning.PendingCertificate}}},
	})
}

// PendingEnrolments returns up to limit enrolments waiting for the given
// hand-over (a scan; reconcilers only).
func (db *DB) PendingEnrolments(ctx context.Context, marker string, limit int) ([]learning.Enrolment, error) {
	cur, err := db.coll(colEnrolments).Find(ctx, bson.D{{Key: "pending", Value: marker}}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: pending %s: %w", marker, err)
	}
	var out []learning.Enrolment
	return out, cur.All(ctx, &out)
}
