package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/compliance"
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

// InsertAdvocate inserts an advocate; ECONFLICT when the user is one already.
func (db *DB) InsertAdvocate(ctx context.Context, a *compliance.Advocate) error {
	return insertOnce(ctx, db.coll(colAdvocates), advocateDoc{Doc: *a, Version: 1}, "advocate")
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
	return updateVersioned(ctx, db, colAdvocates, id, "advocate", false, func(a *compliance.Advocate, _ bool) error { return fn(a) })
}

// AdvocateIDs lists every advocate's ID (a scan returning IDs only).
func (db *DB) AdvocateIDs(ctx context.Context) ([]string, error) {
	return findIDs(ctx, db.coll(colAdvocates), bson.D{}, 0)
}

// findIDs returns the _id of every document matching filter (up to limit
// when limit > 0).
func findIDs(ctx context.Context, c collection, filter bson.D, limit int) ([]string, error) {
	opts := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// rollupDoc is the stored form of an organisation's dashboard. Each row is
// kept as one BSON binary value rather than a nested document: the embedded
// database re-parses every field of a document on each read, and 1,000 rows
// of ~40 fields each cost ~300 ms that way; as 1,000 opaque values they cost
// a few milliseconds, and the driver still decodes each row in-process.
type rollupDoc struct {
	OrgID string            `bson:"_id"`
	Rows  map[string][]byte `bson:"rows"`
}

// PutRollupRow sets one advocate's row of their organisation's dashboard.
func (db *DB) PutRollupRow(ctx context.Context, orgID string, r compliance.Row) error {
	raw, err := bson.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: dashboard row: %w", err)
	}
	_, err = db.coll(colRollups).UpdateOne(ctx, bson.D{{Key: "_id", Value: orgID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "rows." + r.ID, Value: raw}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: dashboard row: %w", err)
	}
	return nil
}

// PutRollup replaces an organisation's whole dashboard (used when seeding).
func (db *DB) PutRollup(ctx context.Context, ru *compliance.Rollup) error {
	doc := rollupDoc{OrgID: ru.OrgID, Rows: make(map[string][]byte, len(ru.Rows))}
	for id, r := range ru.Rows {
		raw, err := bson.Marshal(r)
		if err != nil {
			return fmt.Errorf("store: dashboard row: %w", err)
		}
		doc.Rows[id] = raw
	}
	_, err := db.coll(colRollups).ReplaceOne(ctx, bson.D{{Key: "_id", Value: ru.OrgID}}, doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: dashboard: %w", err)
	}
	return nil
}

// DeleteRollupRow removes an advocate's row.
func (db *DB) DeleteRollupRow(ctx context.Context, orgID, id string) error {
	_, err := db.coll(colRollups).UpdateOne(ctx, bson.D{{Key: "_id", Value: orgID}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "rows." + id, Value: ""}}}})
	return err
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
	ru := &compliance.Rollup{OrgID: doc.OrgID, Rows: make(map[string]compliance.Row, len(doc.Rows))}
	for id, raw := range doc.Rows {
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
