package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// collection is a MongoDB collection whose writes, on the embedded
// database, go one at a time.
//
// SQLite allows one writer at a time. When several of FerretDB's
// connections write at once, the losers get SQLITE_BUSY and SQLite's busy
// handler sleeps (1, 2, 5, 10 … ms) before retrying, so under concurrent
// writes most time is spent asleep: a bulk job with 16 workers saw 50 ms per
// write. Taking turns in the process first costs nothing on an idle database
// and removes the sleeps. Reads are not affected (WAL readers never wait).
type collection struct {
	*mongo.Collection
	wmu *writeLock // nil: no serialisation (MongoDB)
}

// coll returns a collection of the application's database.
func (db *DB) coll(name string) collection {
	return collection{Collection: db.DB.Collection(name), wmu: db.wmu}
}

// lock takes the write lock (embedded) for one write; the error is the
// context's, when it ended first.
func (c collection) lock(ctx context.Context) (func(), error) {
	if c.wmu == nil {
		return func() {}, nil
	}
	if err := c.wmu.Lock(ctx); err != nil {
		return nil, err
	}
	return c.wmu.Unlock, nil
}

// InsertOne inserts a document.
func (c collection) InsertOne(ctx context.Context, doc any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.InsertOne(ctx, doc, opts...)
}

// InsertMany inserts documents.
func (c collection) InsertMany(ctx context.Context, docs any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.InsertMany(ctx, docs, opts...)
}

// UpdateOne updates a document.
func (c collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.UpdateOne(ctx, filter, update, opts...)
}

// ReplaceOne replaces a document.
func (c collection) ReplaceOne(ctx context.Context, filter, doc any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.ReplaceOne(ctx, filter, doc, opts...)
}

// DeleteOne deletes a document.
func (c collection) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.DeleteOne(ctx, filter, opts...)
}

// DeleteMany deletes documents.
func (c collection) DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.DeleteMany(ctx, filter, opts...)
}

// FindOneAndUpdate updates a document and returns it.
func (c collection) FindOneAndUpdate(ctx context.Context, filter, update any, opts ...options.Lister[options.FindOneAndUpdateOptions]) *mongo.SingleResult {
	unlock, err := c.lock(ctx)
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	defer unlock()
	return c.Collection.FindOneAndUpdate(ctx, filter, update, opts...)
}

// UpdateMany updates every matching document.
func (c collection) UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error) {
	unlock, err := c.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.Collection.UpdateMany(ctx, filter, update, opts...)
}
