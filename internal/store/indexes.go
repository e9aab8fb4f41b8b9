package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// indexes lists the secondary indexes per collection. On the embedded
// FerretDB they only enforce uniqueness (reads by them are scans); on
// MongoDB they serve the listing queries.
var indexes = map[string][]mongo.IndexModel{}

// EnsureIndexes creates every index in the list; existing ones are left
// alone. Indexes are created one at a time: FerretDB v1.24's createIndexes
// panics when a single command names two or more indexes that already exist
// (validateIndexesForCreation deletes from a slice by stale position).
func (db *DB) EnsureIndexes(ctx context.Context) error {
	for coll, models := range indexes {
		for _, m := range models {
			if _, err := db.coll(coll).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("store: index on %s: %w", coll, err)
			}
		}
	}
	return nil
}
