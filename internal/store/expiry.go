package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/auth"
)

// Records that only live for a while (sessions, password resets, request
// counters, sign-in throttles, data downloads) are entered, when written,
// in the "expire" list under the hour they expire in. The hourly sweep
// reads only the buckets of hours that have passed and deletes what they
// name, one point delete at a time, instead of scanning the collections
// for old records under the write lock.
var expireSpec = listSpec{prefix: len("2006-01-02T15"), uncounted: true}

const expireList = "expire"

// expiryRow names a record to delete: the row's key is "<collection>/<id>".
type expiryRow struct {
	Collection string `bson:"-"`
	ID         string `bson:"-"`
	UserID     string `bson:"u,omitempty"` // whose list (sessions@, person/) names it too
}

func expirySort(at time.Time, coll, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05") + "/" + coll + "/" + id
}

// expireAt schedules the deletion of record id of coll at (or soon after) at.
func (db *DB) expireAt(ctx context.Context, coll, id, userID string, at time.Time) error {
	key := coll + "/" + id
	return db.list(expireList, expireSpec).Add(ctx, key, expirySort(at, coll, id), expiryRow{UserID: userID})
}

// SweepExpired deletes the records whose time has come and returns how
// many it deleted. Each is re-read first where its life can be extended
// (a sign-in throttle locked for longer), and scheduled again if it lives
// on. It is idempotent and safe on several instances at once.
func (db *DB) SweepExpired(ctx context.Context, now time.Time) (int64, error) {
	l := db.list(expireList, expireSpec)
	hour := now.UTC().Format("2006-01-02T15")
	var deleted int64
	var stop error
	err := l.ScanBuckets(ctx, func(prefix string) bool { return prefix < hour }, func(prefix string, rows []Row) (bool, error) {
		for _, r := range rows {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			var e expiryRow
			if err := r.Decode(&e); err != nil {
				return false, err
			}
			e.Collection, e.ID, _ = strings.Cut(r.Key, "/")
			n, err := db.expire(ctx, e, now)
			if err != nil {
				stop = err
				return false, nil
			}
			deleted += n
		}
		return true, l.DropBucket(ctx, prefix)
	})
	if err == nil {
		err = stop
	}
	if err != nil {
		return deleted, fmt.Errorf("store: sweep: %w", err)
	}
	return deleted, nil
}

// expire deletes one expired record, or schedules it again if it lives on.
func (db *DB) expire(ctx context.Context, e expiryRow, now time.Time) (int64, error) {
	if e.Collection == colThrottle {
		var t auth.Throttle
		err := db.coll(colThrottle).FindOne(ctx, bson.D{{Key: "_id", Value: e.ID}}).Decode(&t)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if until := throttleExpiry(t); until.After(now) {
			return 0, db.expireAt(ctx, colThrottle, e.ID, "", until)
		}
	}
	res, err := db.coll(e.Collection).DeleteOne(ctx, bson.D{{Key: "_id", Value: e.ID}})
	if err != nil {
		return 0, err
	}
	switch {
	case e.UserID == "":
	case e.Collection == colSessions:
		err = db.userSessions(e.UserID).Remove(ctx, e.ID, e.ID)
	default:
		err = db.forgetPerson(ctx, e.UserID, Ref{Collection: e.Collection, ID: e.ID})
	}
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

// throttleExpiry is when a throttle record can go: a day after its window
// started, and not while a lock runs.
func throttleExpiry(t auth.Throttle) time.Time {
	until := t.WindowStart.Add(24 * time.Hour)
	if t.LockedUntil.After(until) {
		until = t.LockedUntil
	}
	return until
}
