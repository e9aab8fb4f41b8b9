package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/errs"
)

// Data downloads ("Download my data") are built in the background. Each
// is an exports document keyed by a random ID, in three lists:
//
//	exports@<user>    the user's downloads, newest first (their page)
//	exports@expiry    downloads by the hour they expire: the hourly job
//	                  reads only the hours that have passed
//	work_exports      (a queue) downloads not yet built
const colExports = "exports"

// Data download states.
const (
	ExportBuilding = "building"
	ExportReady    = "ready"
	ExportFailed   = "failed"
)

var (
	userExportsSpec  = listSpec{prefix: 0, desc: true}
	exportExpirySpec = listSpec{prefix: len("2006-01-02T15"), uncounted: true}
)

// DataExport is one data download: its progress while it is built, then
// where the file is and until when.
type DataExport struct {
	ID       string    `bson:"_id"`
	UserID   string    `bson:"user_id"`
	Status   string    `bson:"status"`
	Done     int       `bson:"done"`  // records and files written so far
	Total    int       `bson:"total"` // records and files to write (0: not counted yet)
	Key      string    `bson:"key"`   // the object in storage, once built
	Size     int64     `bson:"size,omitempty"`
	Created  time.Time `bson:"created_at"`
	Finished time.Time `bson:"finished_at,omitempty"`
	Expires  time.Time `bson:"expires_at"`
	Owner    string    `bson:"owner,omitempty"` // the instance building it
	Until    time.Time `bson:"lease_until"`     // its lease
	Runs     int       `bson:"runs"`
	Error    string    `bson:"error,omitempty"`
}

func (db *DB) userExports(userID string) list { return db.list("exports@"+userID, userExportsSpec) }
func (db *DB) exportExpiry() list             { return db.list("exports@expiry", exportExpirySpec) }

func exportSort(e *DataExport) string { return timeKey(e.Created) + "/" + e.ID }
func exportExpirySort(at time.Time, id string) string {
	return at.UTC().Format("2006-01-02T15:04:05") + "/" + id
}

// InsertDataExport records a new download, entered first in its user's
// list, the expiry schedule and the queue of downloads to build.
func (db *DB) InsertDataExport(ctx context.Context, e *DataExport) error {
	if err := db.userExports(e.UserID).Add(ctx, e.ID, exportSort(e), struct{}{}); err != nil {
		return err
	}
	if err := db.exportExpiry().Add(ctx, e.ID, exportExpirySort(e.Expires, e.ID), struct{}{}); err != nil {
		return err
	}
	if err := db.PutWork(ctx, QueueExports, e.ID, e.Created); err != nil {
		return err
	}
	return insertOnce(ctx, db.coll(colExports), e, "data download")
}

// DataExport returns one download.
func (db *DB) DataExport(ctx context.Context, id string) (*DataExport, error) {
	return findByID[DataExport](ctx, db.coll(colExports), id, "data download")
}

// UserDataExports returns a user's downloads, newest first.
func (db *DB) UserDataExports(ctx context.Context, userID string) ([]DataExport, error) {
	var out []DataExport
	err := db.userExports(userID).Scan(ctx, "", func(r Row) (bool, error) {
		e, err := db.DataExport(ctx, r.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			return true, nil // not written yet, or deleted
		}
		if err != nil {
			return false, err
		}
		out = append(out, *e)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: data downloads of %s: %w", userID, err)
	}
	return out, nil
}

// ClaimDataExport gives owner the building of a download until the given
// time, unless it is built already or another owner's lease runs (one
// conditional single-document write); nil when it was not claimed.
func (db *DB) ClaimDataExport(ctx context.Context, id, owner string, now, until time.Time) (*DataExport, error) {
	e, err := updateByIDIf(ctx, db, colExports, id,
		bson.D{{Key: "status", Value: ExportBuilding}, {Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now}}}},
		func(e *DataExport) bool { return e.Status == ExportBuilding && e.Until.Before(now) },
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "lease_until", Value: until}}}, {Key: "$inc", Value: bson.D{{Key: "runs", Value: 1}}}})
	if err != nil || e == nil {
		return nil, err
	}
	e.Owner, e.Until, e.Runs = owner, until, e.Runs+1
	return e, nil
}

// DataExportProgress records how far the building has gone and renews
// its owner's lease.
func (db *DB) DataExportProgress(ctx context.Context, id string, done, total int, until time.Time) error {
	return db.updateByID(ctx, colExports, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "done", Value: done}, {Key: "total", Value: total}, {Key: "lease_until", Value: until}}}})
}

// ReleaseDataExport ends owner's lease early (a building that stopped), so
// the next run need not wait for it.
func (db *DB) ReleaseDataExport(ctx context.Context, id, owner string) error {
	_, err := updateByIDIf(ctx, db, colExports, id, bson.D{{Key: "owner", Value: owner}},
		func(e *DataExport) bool { return e.Owner == owner },
		bson.D{{Key: "$set", Value: bson.D{{Key: "lease_until", Value: time.Time{}}}}})
	return err
}

// FinishDataExport records a built download: where its file is, and that
// it expires at expires (scheduled first). ENOTFOUND when the download
// was deleted meanwhile.
func (db *DB) FinishDataExport(ctx context.Context, id, key string, size int64, finished, expires time.Time) error {
	if err := db.exportExpiry().Add(ctx, id, exportExpirySort(expires, id), struct{}{}); err != nil {
		return err
	}
	return db.updateByID(ctx, colExports, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: ExportReady}, {Key: "key", Value: key}, {Key: "size", Value: size},
		{Key: "finished_at", Value: finished.UTC()}, {Key: "expires_at", Value: expires.UTC()}, {Key: "lease_until", Value: time.Time{}}}}})
}

// FailDataExport records that a download could not be built.
func (db *DB) FailDataExport(ctx context.Context, id, why string, at time.Time) error {
	return db.updateByID(ctx, colExports, id, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: ExportFailed}, {Key: "error", Value: why}, {Key: "finished_at", Value: at.UTC()}}}})
}

// DeleteDataExport deletes a download's record (its file first, by the
// caller), then its rows and queue item.
func (db *DB) DeleteDataExport(ctx context.Context, e *DataExport) error {
	if _, err := db.coll(colExports).DeleteOne(ctx, bson.D{{Key: "_id", Value: e.ID}}); err != nil {
		return fmt.Errorf("store: delete data download %s: %w", e.ID, err)
	}
	if err := db.userExports(e.UserID).Remove(ctx, e.ID, exportSort(e)); err != nil {
		return err
	}
	return db.DoneWork(ctx, QueueExports, e.ID)
}

// DropUserExportList deletes a user's list of downloads (erasure, once
// each download is deleted).
func (db *DB) DropUserExportList(ctx context.Context, userID string) error {
	return db.userExports(userID).Drop(ctx)
}

// ExpireDataExports deletes the downloads whose time has come: for each,
// deleteFile removes its file, then the record goes. It reads only the
// hours of the schedule that have passed; a download whose expiry moved
// later stays (its new hour is scheduled already). It returns how many it
// deleted, is idempotent, and a run that stops is finished by the next.
func (db *DB) ExpireDataExports(ctx context.Context, now time.Time, deleteFile func(context.Context, *DataExport) error) (int, error) {
	l := db.exportExpiry()
	hour := now.UTC().Format("2006-01-02T15")
	deleted := 0
	err := l.ScanBuckets(ctx, func(prefix string) bool { return prefix < hour }, func(prefix string, rows []Row) (bool, error) {
		for _, r := range rows {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			e, err := db.DataExport(ctx, r.Key)
			if errs.Is(err, errs.ENOTFOUND) {
				continue
			}
			if err != nil {
				return false, err
			}
			if e.Expires.After(now) {
				continue // lives on: scheduled again for when it expires
			}
			if err := deleteFile(ctx, e); err != nil {
				return false, err
			}
			if err := db.DeleteDataExport(ctx, e); err != nil {
				return false, err
			}
			deleted++
		}
		return true, l.DropBucket(ctx, prefix)
	})
	if err != nil {
		return deleted, fmt.Errorf("store: expire data downloads: %w", err)
	}
	return deleted, nil
}
