package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/auth"
)

// Throttle documents are keyed by a keyed hash of what they count ("acct:",
// "addr:" or "mfa:" and the hash: see auth.Service.throttleKey), so every
// instance sees the same counts and the database holds neither email nor
// network addresses.
const colThrottle = "throttle"

// UpdateThrottle applies change to the throttle of key as one conditional
// single-document write (see updateByIDIf for the two ways): change sees
// the document as stored (its zero value and false when there is none);
// when it says true, its result is written if the document is still as
// change saw it, and otherwise change runs again on what is there now. It
// returns the throttle as stored and whether this call changed it.
//
// A new document's deletion is scheduled before it is written.
func (db *DB) UpdateThrottle(ctx context.Context, key string, change func(t auth.Throttle, exists bool) (auth.Throttle, bool)) (auth.Throttle, bool, error) {
	var scheduled time.Time // the deletion this call scheduled, if any
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return auth.Throttle{}, false, err
		}
		if round == maxThrottleRounds {
			return auth.Throttle{}, false, fmt.Errorf("store: throttle %s: still changing after %d tries", key, round)
		}
		t, ok, next, err := db.tryThrottle(ctx, key, scheduled, change)
		if err != nil {
			return t, false, fmt.Errorf("store: throttle: %w", err)
		}
		switch next {
		case throttleDone:
			return t, ok, nil
		case throttleSchedule:
			// Outside the write lock, which the expiry list takes.
			scheduled = throttleExpiry(t)
			if err := db.expireAt(ctx, colThrottle, key, "", scheduled); err != nil {
				return t, false, fmt.Errorf("store: throttle: %w", err)
			}
		}
	}
}

// maxThrottleRounds bounds the tries of one UpdateThrottle (each round
// that fails does so because another write won).
const maxThrottleRounds = 1000

// throttleNext is what UpdateThrottle does after a round.
type throttleNext int

const (
	throttleDone     throttleNext = iota // written, or nothing to write
	throttleRetry                        // the document changed meanwhile
	throttleSchedule                     // a new document: schedule its deletion first
)

// tryThrottle is one round of UpdateThrottle; scheduled is the deletion
// scheduled already (zero: none).
func (db *DB) tryThrottle(ctx context.Context, key string, scheduled time.Time,
	change func(auth.Throttle, bool) (auth.Throttle, bool)) (auth.Throttle, bool, throttleNext, error) {
	raw := db.DB.Collection(colThrottle)
	if db.wmu != nil {
		// Embedded: read, decide and write by _id under the lock that
		// orders every write, so nothing changes in between.
		if err := db.wmu.Lock(ctx); err != nil {
			return auth.Throttle{}, false, throttleDone, err
		}
		defer db.wmu.Unlock()
	}
	cur := auth.Throttle{Key: key}
	err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&cur)
	exists := err == nil
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return cur, false, throttleDone, err
	}
	next, ok := change(cur, exists)
	if !ok {
		return cur, false, throttleDone, nil
	}
	next.Key = key
	if !exists {
		if scheduled.IsZero() || scheduled.After(throttleExpiry(next)) {
			return next, false, throttleSchedule, nil
		}
		_, err := raw.InsertOne(ctx, next)
		if mongo.IsDuplicateKeyError(err) { // created meanwhile (MongoDB)
			return next, false, throttleRetry, nil
		}
		return next, err == nil, throttleDone, err
	}
	// On MongoDB the document must still be as read: the condition is in
	// the filter. (Times read back compare equal: they are stored to the
	// millisecond.)
	filter := bson.D{{Key: "_id", Value: key}}
	if db.wmu == nil {
		filter = append(filter, bson.E{Key: "failures", Value: cur.Failures}, bson.E{Key: "window_start", Value: cur.WindowStart},
			bson.E{Key: "locked_until", Value: cur.LockedUntil})
	}
	res, err := raw.ReplaceOne(ctx, filter, next)
	if err != nil {
		return next, false, throttleDone, err
	}
	if res.MatchedCount == 0 { // changed or deleted meanwhile
		return next, false, throttleRetry, nil
	}
	return next, true, throttleDone, nil
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
