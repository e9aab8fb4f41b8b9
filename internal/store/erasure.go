package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetFields sets fields of one document by _id. It is for tests that
// arrange a state the app cannot reach on its own; the app writes through
// the typed methods.
func (db *DB) SetFields(ctx context.Context, collection, id string, set bson.D) error {
	_, err := db.coll(collection).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// Compact makes deleted data unrecoverable from the embedded database's
// files: FerretDB's SQLite runs with secure_delete, which overwrites freed
// content, and this moves the write-ahead log (which may still hold older
// page images) into the database and truncates it. No-op on MongoDB.
func (db *DB) Compact(ctx context.Context) error {
	if db.sqliteDir == "" {
		return nil
	}
	if db.wmu != nil {
		if err := db.wmu.Lock(ctx); err != nil {
			return err
		}
		defer db.wmu.Unlock()
	}
	file := filepath.Join(db.sqliteDir, db.DB.Name()+".sqlite")
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=secure_delete(on)")
	if err != nil {
		return err
	}
	defer conn.Close()
	var busy, logFrames, checkpointed int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("store: checkpoint: the database was busy; run it again")
	}
	return nil
}
