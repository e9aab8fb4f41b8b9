package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/errs"
)

// versioned adds a version to a document for optimistic updates on MongoDB.
type versioned[T any] struct {
	Doc     T     `bson:",inline"`
	Version int64 `bson:"version"`
}

var errRetry = errors.New("retry")

// errNoChange, returned by an update function, leaves the document as it
// is (no write) and is passed back to the caller.
var errNoChange = errors.New("no change")

// errDelete, returned by an update function, deletes the document (on
// MongoDB, if it is still at the version read).
var errDelete = errors.New("delete")

// updateVersioned reads document id, applies fn and writes it back in one
// replace. On the embedded database the read and the write happen under
// the write lock, so nothing comes between them; on MongoDB the replace is
// conditional on the version read, and retried if another write came first.
// With create, a missing document is passed to fn as the zero T (exists
// false) and inserted.
func updateVersioned[T any](ctx context.Context, db *DB, coll, id, what string, create bool, fn func(doc *T, exists bool) error) (*T, error) {
	raw := db.DB.Collection(coll)
	for attempt := 0; attempt < 5; attempt++ {
		if db.wmu != nil {
			if err := db.wmu.Lock(ctx); err != nil {
				return nil, err
			}
		}
		doc, err := func() (*T, error) {
			var d versioned[T]
			exists := true
			if err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); errors.Is(err, mongo.ErrNoDocuments) && create {
				exists = false
			} else if err != nil {
				return nil, notFound(err, what)
			}
			if err := fn(&d.Doc, exists); errors.Is(err, errDelete) {
				if !exists {
					return nil, nil
				}
				filter := bson.D{{Key: "_id", Value: id}}
				if db.wmu == nil {
					filter = append(filter, bson.E{Key: "version", Value: d.Version})
				}
				res, err := raw.DeleteOne(ctx, filter)
				if err != nil {
					return nil, fmt.Errorf("store: delete %s %s: %w", what, id, err)
				}
				if res.DeletedCount == 0 {
					return nil, errRetry
				}
				return nil, nil
			} else if err != nil {
				return nil, err
			}
			d.Version++
			if !exists {
				if _, err := raw.InsertOne(ctx, d); mongo.IsDuplicateKeyError(err) {
					return nil, errRetry
				} else if err != nil {
					return nil, fmt.Errorf("store: save %s %s: %w", what, id, err)
				}
				return &d.Doc, nil
			}
			filter := bson.D{{Key: "_id", Value: id}}
			if db.wmu == nil {
				filter = append(filter, bson.E{Key: "version", Value: d.Version - 1})
			}
			res, err := raw.ReplaceOne(ctx, filter, d)
			if err != nil {
				return nil, fmt.Errorf("store: save %s %s: %w", what, id, err)
			}
			if res.MatchedCount == 0 {
				return nil, errRetry
			}
			return &d.Doc, nil
		}()
		if db.wmu != nil {
			db.wmu.Unlock()
		}
		if !errors.Is(err, errRetry) {
			return doc, err
		}
	}
	return nil, errs.E(errs.ECONFLICT, "This record is being changed by someone else; please try again.")
}
