package store

import (
	"context"

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
