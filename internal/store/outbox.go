package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/notify"
)

// colOutbox holds every message the service has sent or would send.
const colOutbox = "outbox"

// InsertMessage records a message.
func (db *DB) InsertMessage(ctx context.Context, m *notify.Message) error {
	_, err := db.coll(colOutbox).InsertOne(ctx, m)
	return err
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
