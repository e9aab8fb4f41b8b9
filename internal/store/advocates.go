package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// Advocates are keyed by their user's ID; each organisation's dashboard rows
// live in one compliance_rollups document keyed by the organisation; DBS
// scans awaiting deletion in dbs_scans keyed by object key.
const (
	colAdvocates = "advocates"
	colRollups   = "compliance_rollups"
	colDBSScans  = "dbs_scans"
)

// advocateDoc adds a version for optimistic updates on MongoDB.
type advocateDoc = versioned[compliance.Advocate]

// Advocates are listed, so that the jobs that go through all of them and
// retention do not read every advocate's (large) record to find them:
//
//	advocates          every advocate, by ID (bucket: its first character)
//	advocates@ended    advocates whose contract ended, by the date it ended
var (
	advocatesSpec = listSpec{prefix: 1, uncounted: true}
	endedSpec     = listSpec{prefix: len("2006"), uncounted: true}
)

func (db *DB) advocateList() list { return db.list("advocates", advocatesSpec) }
func (db *DB) endedList() list    { return db.list("advocates@ended", endedSpec) }

// endedSort is an advocate's place in advocates@ended ("" when not ended).
func endedSort(a *compliance.Advocate) string {
	if a.Status != compliance.StatusEnded || a.EndedAt == nil {
		return ""
	}
	return a.EndedAt.UTC().Format(time.RFC3339) + "/" + a.ID
}

// InsertAdvocate inserts an advocate, entered first in the list of
// advocates; ECONFLICT when the user is one already.
func (db *DB) InsertAdvocate(ctx context.Context, a *compliance.Advocate) error {
	if err := db.advocateList().Add(ctx, a.ID, a.ID, struct{}{}); err != nil {
		return err
	}
	if err := db.syncEnded(ctx, "", a); err != nil {
		return err
	}
	return insertOnce(ctx, db.coll(colAdvocates), advocateDoc{Doc: *a, Version: 1}, "advocate")
}

// syncEnded keeps an advocate's row in advocates@ended in step with the
// record (before: its place before the change). It runs after the record
// is written; a row a crash left out is put back by the next change to
// the record, which the six-hourly recompute of every advocate makes.
func (db *DB) syncEnded(ctx context.Context, before string, a *compliance.Advocate) error {
	after := endedSort(a)
	if after != "" {
		if err := db.endedList().Add(ctx, a.ID, after, struct{}{}); err != nil {
			return err
		}
	}
	if before != "" && before != after {
		return db.endedList().Remove(ctx, a.ID, before)
	}
	return nil
}

// Advocate returns one advocate.
func (db *DB) Advocate(ctx context.Context, id string) (*compliance.Advocate, error) {
	d, err := findByID[advocateDoc](ctx, db.coll(colAdvocates), id, "advocate")
	if err != nil {
		return nil, err
	}
	return &d.Doc, nil
}

// UpdateAdvocate applies fn and saves the advocate in one write (see
// updateVersioned).
func (db *DB) UpdateAdvocate(ctx context.Context, id string, fn func(*compliance.Advocate) error) (*compliance.Advocate, error) {
	before := ""
	a, err := updateVersioned(ctx, db, colAdvocates, id, "advocate", false, func(a *compliance.Advocate, _ bool) error {
		before = endedSort(a)
		return fn(a)
	})
	if err != nil {
		return a, err
	}
	if err := db.syncEnded(ctx, before, a); err != nil {
		return a, fmt.Errorf("%w: %w", compliance.ErrSaved, err)
	}
	return a, nil
}

// PutFollowUp queues a compliance follow-up (before the change it follows).
func (db *DB) PutFollowUp(ctx context.Context, f *compliance.FollowUp) error {
	_, err := db.coll(workCollection(QueueCompliance)).ReplaceOne(ctx, bson.D{{Key: "_id", Value: f.Key}}, f, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: follow-up %s: %w", f.Key, err)
	}
	return nil
}

// DoneFollowUp drops a finished follow-up.
func (db *DB) DoneFollowUp(ctx context.Context, key string) error {
	return db.DoneWork(ctx, QueueCompliance, key)
}

// FollowUps returns up to limit follow-ups (the queue is empty when no
// change is being made).
func (db *DB) FollowUps(ctx context.Context, limit int) ([]compliance.FollowUp, error) {
	cur, err := db.coll(workCollection(QueueCompliance)).Find(ctx, bson.D{}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: follow-ups: %w", err)
	}
	var out []compliance.FollowUp
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: follow-ups: %w", err)
	}
	return out, nil
}

// AdvocateIDs lists every advocate's ID (the list of advocates: a few
// point reads).
func (db *DB) AdvocateIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.advocateList().Scan(ctx, "", func(r Row) (bool, error) { ids = append(ids, r.Key); return true, nil })
	return ids, err
}

// EndedAdvocates returns advocates whose contract ended before the given
// time (the advocates@ended list, and a point read each; for retention).
func (db *DB) EndedAdvocates(ctx context.Context, before time.Time) ([]compliance.Advocate, error) {
	var out []compliance.Advocate
	end := before.UTC().Format(time.RFC3339)
	err := db.endedList().Scan(ctx, "", func(r Row) (bool, error) {
		if r.Sort >= end {
			return false, nil
		}
		a, err := db.Advocate(ctx, r.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if a.Status == compliance.StatusEnded && a.EndedAt != nil && a.EndedAt.Before(before) {
			out = append(out, *a)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ended advocates: %w", err)
	}
	return out, nil
}

// rollupDoc is the stored form of an organisation's dashboard: its rows,
// each one BSON value, kept together as one opaque BSON binary value. The
// embedded database parses every field of a document on each read and
// write, at a cost that grows with the square of the number of fields: 1,000
// rows as nested documents took ~300 ms to read, as 1,000 binary fields
// ~30 ms, as one value a few milliseconds. A row is changed by reading the
// document and writing it back (see updateVersioned).
type rollupDoc struct {
	OrgID string `bson:"_id"`
	Blob  []byte `bson:"b"`
	// Legacy is the layout before the blob: one binary field per row
	// (read, and converted on the next write).
	Legacy map[string][]byte `bson:"rows,omitempty"`
}

type rollupRows struct {
	Rows map[string][]byte `bson:"r"`
}

// rows returns the document's rows, each as stored.
func (d *rollupDoc) rows() (map[string][]byte, error) {
	if len(d.Blob) == 0 {
		if d.Legacy == nil {
			return map[string][]byte{}, nil
		}
		return d.Legacy, nil
	}
	var rr rollupRows
	if err := bson.Unmarshal(d.Blob, &rr); err != nil {
		return nil, fmt.Errorf("store: dashboard %s: %w", d.OrgID, err)
	}
	if rr.Rows == nil {
		rr.Rows = map[string][]byte{}
	}
	return rr.Rows, nil
}

// setRows stores rows in the document, in the current layout.
func (d *rollupDoc) setRows(rows map[string][]byte) error {
	blob, err := bson.Marshal(rollupRows{Rows: rows})
	if err != nil {
		return err
	}
	d.Blob, d.Legacy = blob, nil
	return nil
}

// changeRollup applies fn to an organisation's dashboard rows in one write.
func (db *DB) changeRollup(ctx context.Context, orgID string, fn func(rows map[string][]byte) bool) error {
	_, err := updateVersioned(ctx, db, colRollups, orgID, "dashboard", true, func(d *rollupDoc, exists bool) error {
		rows, err := d.rows()
		if err != nil {
			return err
		}
		if !fn(rows) {
			return errNoChange
		}
		d.OrgID = orgID
		return d.setRows(rows)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: dashboard %s: %w", orgID, err)
	}
	return nil
}

// PutRollupRow sets one advocate's row of their organisation's dashboard.
func (db *DB) PutRollupRow(ctx context.Context, orgID string, r compliance.Row) error {
	raw, err := bson.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: dashboard row: %w", err)
	}
	return db.changeRollup(ctx, orgID, func(rows map[string][]byte) bool {
		if string(rows[r.ID]) == string(raw) {
			return false
		}
		rows[r.ID] = raw
		return true
	})
}

// PutRollup replaces an organisation's whole dashboard (used when seeding).
func (db *DB) PutRollup(ctx context.Context, ru *compliance.Rollup) error {
	all := make(map[string][]byte, len(ru.Rows))
	for id, r := range ru.Rows {
		raw, err := bson.Marshal(r)
		if err != nil {
			return fmt.Errorf("store: dashboard row: %w", err)
		}
		all[id] = raw
	}
	return db.changeRollup(ctx, ru.OrgID, func(rows map[string][]byte) bool {
		clear(rows)
		maps.Copy(rows, all)
		return true
	})
}

// DeleteRollupRow removes an advocate's row.
func (db *DB) DeleteRollupRow(ctx context.Context, orgID, id string) error {
	return db.changeRollup(ctx, orgID, func(rows map[string][]byte) bool {
		if _, ok := rows[id]; !ok {
			return false
		}
		delete(rows, id)
		return true
	})
}

// Rollup returns an organisation's dashboard rows.
func (db *DB) Rollup(ctx context.Context, orgID string) (*compliance.Rollup, error) {
	doc, err := findByID[rollupDoc](ctx, db.coll(colRollups), orgID, "dashboard")
	if err != nil {
		return nil, err
	}
	return doc.decode()
}

func (doc *rollupDoc) decode() (*compliance.Rollup, error) {
	rows, err := doc.rows()
	if err != nil {
		return nil, err
	}
	ru := &compliance.Rollup{OrgID: doc.OrgID, Rows: make(map[string]compliance.Row, len(rows))}
	for id, raw := range rows {
		var r compliance.Row
		if err := bson.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("store: dashboard row %s: %w", id, err)
		}
		ru.Rows[id] = r
	}
	return ru, nil
}

// Rollups returns every organisation's dashboard rows (a scan of one small
// document per organisation).
func (db *DB) Rollups(ctx context.Context) ([]compliance.Rollup, error) {
	cur, err := db.coll(colRollups).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("store: dashboards: %w", err)
	}
	var docs []rollupDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("store: dashboards: %w", err)
	}
	out := make([]compliance.Rollup, 0, len(docs))
	for _, d := range docs {
		ru, err := d.decode()
		if err != nil {
			return nil, err
		}
		out = append(out, *ru)
	}
	return out, nil
}

// InsertScan schedules a scan's deletion.
func (db *DB) InsertScan(ctx context.Context, s *compliance.ScanRecord) error {
	_, err := db.coll(colDBSScans).InsertOne(ctx, s)
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

// DueScans returns scans whose deletion date has come (a scan of a small collection).
func (db *DB) DueScans(ctx context.Context, now time.Time) ([]compliance.ScanRecord, error) {
	cur, err := db.coll(colDBSScans).Find(ctx, bson.D{{Key: "delete_after", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return nil, err
	}
	var out []compliance.ScanRecord
	return out, cur.All(ctx, &out)
}

// DeleteScan forgets a deleted scan.
func (db *DB) DeleteScan(ctx context.Context, key string) error {
	_, err := db.coll(colDBSScans).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return err
}
