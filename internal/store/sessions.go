package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Sessions are keyed by the SHA-256 of the cookie token.
const colSessions = "sessions"

func init() {
	// FerretDB v1 has no TTL indexes; SweepExpired removes old sessions.
	indexes[colSessions] = append(indexes[colSessions], mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}})
}

// SweepExpired deletes sessions past their absolute lifetime or idle for
// longer than the idle limit, and used-up throttles and resets.
func (db *DB) SweepExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []struct {
		coll   string
		filter bson.D
	}{
		{colSessions, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}},
			bson.D{{Key: "last_seen_at", Value: bson.D{{Key: "$lt", Value: now.Add(-auth.SessionIdle)}}}},
		}}}},
		{colResets, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}}},
		{colRateLimits, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}}},
		{colThrottle, bson.D{{Key: "window_start", Value: bson.D{{Key: "$lt", Value: now.Add(-24 * time.Hour)}}}, {Key: "locked_until", Value: bson.D{{Key: "$lt", Value: now}}}}},
	} {
		res, err := db.coll(q.coll).DeleteMany(ctx, q.filter)
		if err != nil {
			return total, fmt.Errorf("store: sweep %s: %w", q.coll, err)
		}
		total += res.DeletedCount
	}
	return total, nil
}

// InsertSession inserts a session.
func (db *DB) InsertSession(ctx context.Context, s *auth.Session) error {
	_, err := db.coll(colSessions).InsertOne(ctx, s)
	return err
}

// Session returns one session.
func (db *DB) Session(ctx context.Context, id string) (*auth.Session, error) {
	var s auth.Session
	if err := db.coll(colSessions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&s); err != nil {
		return nil, notFound(err, "session")
	}
	return &s, nil
}

// TouchSession records activity on a session.
func (db *DB) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := db.coll(colSessions).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "last_seen_at", Value: now}}}})
	return err
}

// ClearMFAPending marks a session as having passed the second factor.
func (db *DB) ClearMFAPending(ctx context.Context, id string) error {
	res, err := db.coll(colSessions).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "mfa_pending", Value: false}}}})
	if err == nil && res.MatchedCount == 0 {
		return errs.E(errs.ENOTFOUND, "session not found")
	}
	return err
}

// DeleteSession removes a session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.coll(colSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// DeleteUserSessions removes every session of a user except exceptID.
func (db *DB) DeleteUserSessions(ctx context.Context, userID, exceptID string) error {
	filter := bson.D{{Key: "user_id", Value: userID}}
	if exceptID != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: exceptID}}})
	}
	if _, err := db.coll(colSessions).DeleteMany(ctx, filter); err != nil {
		return fmt.Errorf("store: delete sessions of %s: %w", userID, err)
	}
	return nil
}

// UserSessions lists a user's sessions, newest first.
func (db *DB) UserSessions(ctx context.Context, userID string) ([]auth.Session, error) {
	cur, err := db.coll(colSessions).Find(ctx, bson.D{{Key: "user_id", Value: userID}}, options.Find().SetSort(bson.D{{Key: "last_seen_at", Value: -1}}).SetLimit(100))
	if err != nil {
		return nil, err
	}
	var out []auth.Session
	return out, cur.All(ctx, &out)
}
