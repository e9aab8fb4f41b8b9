package store

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
)

// Password resets are keyed by the SHA-256 of the emailed token and used up
// by deleting them, so a token works once.
const colResets = "password_resets"

// InsertReset stores a pending reset, entered first in its user's list
// and in the expiry schedule (which takes it out of the list again).
func (db *DB) InsertReset(ctx context.Context, r *auth.Reset) error {
	if err := db.notePerson(ctx, r.UserID, Ref{Collection: colResets, ID: r.ID}); err != nil {
		return err
	}
	if err := db.expireAt(ctx, colResets, r.ID, r.UserID, r.Expires); err != nil {
		return err
	}
	_, err := db.coll(colResets).InsertOne(ctx, r)
	return err
}

// Reset returns a pending reset.
func (db *DB) Reset(ctx context.Context, id string) (*auth.Reset, error) {
	var r auth.Reset
	if err := db.coll(colResets).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r); err != nil {
		return nil, notFound(err, "reset")
	}
	return &r, nil
}

// DeleteReset uses up a reset; it reports whether this call removed it.
func (db *DB) DeleteReset(ctx context.Context, id string) (bool, error) {
	res, err := db.coll(colResets).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return false, err
	}
	return res.DeletedCount == 1, nil
}

// DeleteUserResets deletes the user's pending resets except keep (""
// keeps none): when a newer link is sent, and when the password changes.
// They are found through the user's person/ list, never by a scan; each
// is deleted, then taken out of the list (its expiry row, when its time
// comes, finds nothing left to do).
func (db *DB) DeleteUserResets(ctx context.Context, userID, keep string) error {
	if userID == "" {
		return nil
	}
	prefix := colResets + "/"
	var ids []string
	err := db.personList(userID).Scan(ctx, prefix, func(r Row) (bool, error) {
		id, ok := strings.CutPrefix(r.Key, prefix)
		if !ok {
			return false, nil // past the resets
		}
		if id != keep {
			ids = append(ids, id)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("store: resets of %s: %w", userID, err)
	}
	for _, id := range ids {
		if _, err := db.DeleteReset(ctx, id); err != nil {
			return fmt.Errorf("store: delete reset: %w", err)
		}
		if err := db.forgetPerson(ctx, userID, Ref{Collection: colResets, ID: id}); err != nil {
			return err
		}
	}
	return nil
}
