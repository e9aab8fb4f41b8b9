package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/auth"
)

const colOrgs = "organisations"

// InsertOrg inserts an organisation.
func (db *DB) InsertOrg(ctx context.Context, o *auth.Organisation) error {
	_, err := db.coll(colOrgs).InsertOne(ctx, o)
	return err
}

// Org returns one organisation.
func (db *DB) Org(ctx context.Context, id string) (*auth.Organisation, error) {
	var o auth.Organisation
	if err := db.coll(colOrgs).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&o); err != nil {
		return nil, notFound(err, "organisation")
	}
	return &o, nil
}

// Orgs returns every organisation by name (a short list).
func (db *DB) Orgs(ctx context.Context) ([]auth.Organisation, error) {
	cur, err := db.coll(colOrgs).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(1000))
	if err != nil {
		return nil, fmt.Errorf("store: organisations: %w", err)
	}
	var out []auth.Organisation
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: organisations: %w", err)
	}
	return out, nil
}
