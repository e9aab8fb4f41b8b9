package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/auth"
)

// Throttle documents are keyed by "acct:<email>", "addr:<ip>" or "mfa:<user>",
// so every instance sees the same counts.
const colThrottle = "throttle"

// RecordFailure counts a failure within the window (starting a new window
// when the old one has passed) and returns the updated counts.
func (db *DB) RecordFailure(ctx context.Context, key string, now time.Time, window time.Duration) (auth.Throttle, error) {
	coll := db.coll(colThrottle)
	var t auth.Throttle
	err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&t)
	if err == nil && now.Sub(t.WindowStart) <= window {
		return t, nil
	}
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return t, err
	}
	// No document, or its window has passed: start again at one, keeping
	// any lock still running.
	t = auth.Throttle{Key: key, Failures: 1, WindowStart: now, LockedUntil: t.LockedUntil}
	if err := db.expireAt(ctx, colThrottle, key, "", throttleExpiry(t)); err != nil {
		return t, err
	}
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: key}}, t, options.Replace().SetUpsert(true))
	return t, err
}

// LockThrottle locks a key until the given time.
func (db *DB) LockThrottle(ctx context.Context, key string, until time.Time) error {
	_, err := db.coll(colThrottle).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{{Key: "$set", Value: bson.D{{Key: "locked_until", Value: until}}}})
	return err
}

// Throttle returns the counts for a key.
func (db *DB) Throttle(ctx context.Context, key string) (auth.Throttle, error) {
	var t auth.Throttle
	err := db.coll(colThrottle).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&t)
	return t, notFound(err, "throttle")
}

// ClearThrottle forgets the failures of a key.
func (db *DB) ClearThrottle(ctx context.Context, key string) error {
	_, err := db.coll(colThrottle).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}
