package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Installation identifies a database: created once, on first start.
type Installation struct {
	ID        string    `bson:"installation_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// EnsureInstallation returns the database's installation record, creating it
// on first start (an upsert, so concurrent first starts agree).
func (db *DB) EnsureInstallation(ctx context.Context, now time.Time) (Installation, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var inst Installation
	err := db.coll("meta").FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: "installation"}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{
			{Key: "installation_id", Value: hex.EncodeToString(b)},
			{Key: "created_at", Value: now.UTC()},
			{Key: "layout", Value: Layout}, // a new database has its lists from the start
		}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
	).Decode(&inst)
	if err != nil {
		return inst, fmt.Errorf("store: installation record: %w", err)
	}
	return inst, nil
}
