package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// colOutbox holds every message the service has sent or would send.
const colOutbox = "outbox"

// InsertMessage records a message unless one with its ID exists. A
// message already there costs one point read (reminder runs offer the same
// message every day until its stage passes); a new one is entered in its
// lists, and queued for delivery if it is to be sent, before it is written.
func (db *DB) InsertMessage(ctx context.Context, m *notify.Message) (bool, error) {
	if _, err := db.Message(ctx, m.ID); err == nil {
		return false, nil
	} else if !errs.Is(err, errs.ENOTFOUND) {
		return false, err
	}
	if err := db.indexMessage(ctx, m); err != nil {
		return false, err
	}
	if m.Status == notify.StatusQueued {
		if err := db.PutWork(ctx, QueueMail, m.ID, m.NextTry); err != nil {
			return false, err
		}
	}
	_, err := db.coll(colOutbox).InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

// ClaimMessage takes a queued message whose next try has come for one
// delivery attempt (a conditional single-document update). Its delivery
// queue item moves to the end of the attempt's lease, so a crash mid-way
// makes it due again then; a message that turns out not to be claimable
// has its item brought in line with it.
func (db *DB) ClaimMessage(ctx context.Context, id string, now, until time.Time) (*notify.Message, error) {
	m, err := updateByIDIf(ctx, db, colOutbox, id,
		bson.D{{Key: "status", Value: notify.StatusQueued}, {Key: "next_try", Value: bson.D{{Key: "$lte", Value: now}}}},
		func(m *notify.Message) bool { return m.Status == notify.StatusQueued && !m.NextTry.After(now) },
		bson.D{{Key: "$set", Value: bson.D{{Key: "next_try", Value: until}}}, {Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}})
	if err != nil {
		return nil, err
	}
	if m == nil {
		cur, err := db.Message(ctx, id)
		switch {
		case errs.Is(err, errs.ENOTFOUND):
			return nil, nil // not written yet, or deleted
		case err != nil:
			return nil, err
		case cur.Status != notify.StatusQueued:
			return nil, db.DoneWork(ctx, QueueMail, id)
		default:
			return nil, db.PutWork(ctx, QueueMail, id, cur.NextTry)
		}
	}
	if err := db.PutWork(ctx, QueueMail, id, until); err != nil {
		return nil, err
	}
	m.NextTry, m.Attempts = until, m.Attempts+1
	return m, nil
}

// FinishAttempt records the outcome of a delivery attempt: a message sent,
// or given up on, leaves the delivery queue; one to retry moves in it.
func (db *DB) FinishAttempt(ctx context.Context, id string, o notify.AttemptOutcome) error {
	if o.Status == notify.StatusQueued && o.NextTry != nil {
		if err := db.RetryWork(ctx, QueueMail, id, *o.NextTry, o.Error); err != nil {
			return err
		}
	}
	if _, err := db.coll(colOutbox).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, attemptOutcome(o).doc()); err != nil {
		return err
	}
	if o.Status != notify.StatusQueued {
		return db.DoneWork(ctx, QueueMail, id)
	}
	return nil
}

// DueMessages lists up to limit queued messages whose next try has come,
// from the delivery queue (empty when nothing waits).
func (db *DB) DueMessages(ctx context.Context, now time.Time, limit int) ([]string, error) {
	items, err := db.Work(ctx, QueueMail, 100000)
	if err != nil {
		return nil, fmt.Errorf("store: due messages: %w", err)
	}
	var ids []string
	for _, it := range items {
		if !it.Due.After(now) && len(ids) < limit {
			ids = append(ids, it.Key)
		}
	}
	return ids, nil
}

// Message returns one message.
func (db *DB) Message(ctx context.Context, id string) (*notify.Message, error) {
	var m notify.Message
	if err := db.coll(colOutbox).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		return nil, notFound(err, "message")
	}
	return &m, nil
}
