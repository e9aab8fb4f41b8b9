package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/notify"
)

// colOutbox holds every message the service has sent or would send.
const colOutbox = "outbox"

func init() {
	indexes[colOutbox] = append(indexes[colOutbox],
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "next_try", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "created_at", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}})
}

// InsertMessage records a message unless one with its ID exists.
func (db *DB) InsertMessage(ctx context.Context, m *notify.Message) (bool, error) {
	_, err := db.coll(colOutbox).InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

// ClaimMessage takes a queued message whose next try has come for one
// delivery attempt (a conditional single-document update).
func (db *DB) ClaimMessage(ctx context.Context, id string, now, until time.Time) (*notify.Message, error) {
	m, err := updateByIDIf(ctx, db, colOutbox, id,
		bson.D{{Key: "status", Value: notify.StatusQueued}, {Key: "next_try", Value: bson.D{{Key: "$lte", Value: now}}}},
		func(m *notify.Message) bool { return m.Status == notify.StatusQueued && !m.NextTry.After(now) },
		bson.D{{Key: "$set", Value: bson.D{{Key: "next_try", Value: until}}}, {Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}}})
	if err != nil || m == nil {
		return nil, err
	}
	m.NextTry, m.Attempts = until, m.Attempts+1
	return m, nil
}

// FinishAttempt records the outcome of a delivery attempt.
func (db *DB) FinishAttempt(ctx context.Context, id string, o notify.AttemptOutcome) error {
	_, err := db.coll(colOutbox).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, attemptOutcome(o).doc())
	return err
}

// DueMessages lists queued messages whose next try has come (a scan of the
// outbox; the retention sweep keeps it bounded).
func (db *DB) DueMessages(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ids, err := findIDs(ctx, db.coll(colOutbox), bson.D{{Key: "status", Value: notify.StatusQueued}, {Key: "next_try", Value: bson.D{{Key: "$lte", Value: now}}}}, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due messages: %w", err)
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

// Messages returns a page of messages, newest first, and the total; to
// filters by recipient when not empty.
func (db *DB) Messages(ctx context.Context, to string, offset, limit int) ([]notify.Message, int, error) {
	filter := bson.D{}
	if to != "" {
		filter = append(filter, bson.E{Key: "to", Value: to})
	}
	coll := db.coll(colOutbox)
	total, err := coll.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("store: count outbox: %w", err)
	}
	cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, fmt.Errorf("store: outbox: %w", err)
	}
	var out []notify.Message
	return out, int(total), cur.All(ctx, &out)
}
