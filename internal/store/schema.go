package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/mongo"
	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// Collections lists every collection the application uses. EnsureSchema
// creates them all at start-up, and the personal-data export test checks
// the database holds no other.
var Collections = []string{
	colUsers, colUserEmails, colTOTPSteps, colOrgs, colSessions, colThrottle, colResets, colOutbox,
	colEnrolments, colAttempts, colSubmissions,
	colCertificates, colCertClaims, colCertRevs, colCertHashes, colJobs, colRateLimits,
	colAudit, colAdvocates, colRollups, colTrends, colDBSScans, colNotifications, colLeases, "meta",
	colLists, colExports, colRights, colEvaluations, colFollowUpsDue, colLive, colLiveFeeds,
}

func init() {
	for _, q := range queues {
		Collections = append(Collections, workCollection(q))
	}
}

// EnsureSchema creates the collections; on MongoDB the secondary indexes,
// and on the embedded database the _id indexes FerretDB's queries can use.
func (db *DB) EnsureSchema(ctx context.Context) error {
	existing, err := db.DB.ListCollectionNames(ctx, map[string]any{})
	if err != nil {
		return fmt.Errorf("store: list collections: %w", err)
	}
	have := map[string]bool{}
	for _, c := range existing {
		have[c] = true
	}
	for _, c := range Collections {
		if have[c] {
			continue
		}
		if err := db.DB.CreateCollection(ctx, c); err != nil {
			var ce mongo.CommandError
			if !errors.As(err, &ce) || ce.Code != 48 { // 48: NamespaceExists (another instance made it)
				return fmt.Errorf("store: create collection %s: %w", c, err)
			}
		}
	}
	// FerretDB never uses secondary indexes for reads, but maintains them on
	// every write (parsing the document once per index), so on the embedded
	// database only MongoDB gets them.
	if db.sqliteDir == "" {
		if err := db.EnsureIndexes(ctx); err != nil {
			return err
		}
	}
	return db.EnsureIDIndexes(ctx)
}

// EnsureIDIndexes works around a FerretDB v1.24 (SQLite) defect: it looks
// documents up by _id with the expression _ferretdb_sjson->'$._id', but
// indexes _id as _ferretdb_sjson->"_id", so SQLite never uses the index and
// every "point read" parses every document of the collection (1.9 ms at 20k
// documents, growing linearly). An index on the exact expression the queries
// use makes them constant-time (0.45 ms). It opens FerretDB's SQLite file
// directly; it does nothing when connected to MongoDB.
func (db *DB) EnsureIDIndexes(ctx context.Context) error {
	if db.sqliteDir == "" {
		return nil
	}
	file := filepath.Join(db.sqliteDir, db.DB.Name()+".sqlite")
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return fmt.Errorf("store: open %s: %w", file, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("store: list FerretDB tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_lms_id", t)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: _id index on %s: %w", t, err)
		}
	}
	return nil
}
