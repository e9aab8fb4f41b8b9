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

// EnsureIndexes creates every index in the list; existing ones are left alone.
func (db *DB) EnsureIndexes(ctx context.Context) error {
	for coll, models := range indexes {
		if len(models) == 0 {
			continue
		}
		if _, err := db.DB.Collection(coll).Indexes().CreateMany(ctx, models); err != nil {
			return fmt.Errorf("store: indexes on %s: %w", coll, err)
		}
	}
	return nil
}
