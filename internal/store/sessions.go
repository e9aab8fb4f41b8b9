package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Sessions are keyed by the SHA-256 of the cookie token.
const colSessions = "sessions"

// userSessions is the list of a user's sessions (keyed and sorted by the
// session's ID): the account page's list, and how "sign out everywhere"
// finds them.
func (db *DB) userSessions(userID string) list {
	return db.list("sessions@"+userID, listSpec{uncounted: true})
}

// InsertSession inserts a session, entered first in its user's list and
// in the expiry schedule.
func (db *DB) InsertSession(ctx context.Context, s *auth.Session) error {
	if err := db.userSessions(s.UserID).Add(ctx, s.ID, s.ID, bson.D{}); err != nil {
		return err
	}
	if err := db.expireAt(ctx, colSessions, s.ID, s.UserID, s.Expires); err != nil {
		return err
	}
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
	s, err := db.Session(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := db.coll(colSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return err
	}
	return db.userSessions(s.UserID).Remove(ctx, id, id)
}

// DeleteUserSessions removes every session of a user except exceptID, one
// point delete each.
func (db *DB) DeleteUserSessions(ctx context.Context, userID, exceptID string) error {
	l := db.userSessions(userID)
	rows, _, err := l.Page(ctx, 0, 10000)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Key == exceptID {
			continue
		}
		if _, err := db.coll(colSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: r.Key}}); err != nil {
			return fmt.Errorf("store: delete sessions of %s: %w", userID, err)
		}
		if err := l.Remove(ctx, r.Key, r.Key); err != nil {
			return err
		}
	}
	return nil
}

// UserSessions lists a user's sessions, most recently used first.
func (db *DB) UserSessions(ctx context.Context, userID string) ([]auth.Session, error) {
	rows, _, err := db.userSessions(userID).Page(ctx, 0, 100)
	if err != nil {
		return nil, err
	}
	out := make([]auth.Session, 0, len(rows))
	for _, r := range rows {
		s, err := db.Session(ctx, r.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			continue // ended; the sweep removes the row
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b auth.Session) int { return b.LastSeen.Compare(a.LastSeen) })
	return out, nil
}
