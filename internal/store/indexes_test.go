package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// EnsureIndexes runs at every start-up, so it must succeed on a database
// that already has the indexes.
func TestEnsureIndexesTwice(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := e.DB.EnsureIndexes(ctx); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
}

// TestIDLookupsUseAnIndexOnTheEmbeddedDatabase checks the workaround for
// FerretDB's unused _id index: SQLite's plan for the query FerretDB runs on
// a point read must search an index, not scan the table.
func TestIDLookupsUseAnIndexOnTheEmbeddedDatabase(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	db, err := store.Connect(ctx, e.MongoURI, e.DBName, testenv.DataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(testenv.DataDir(t), e.DBName+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var table string
	if err := conn.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'enrolments'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	var id, parent, unused int
	var plan string
	if err := conn.QueryRow(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`).Scan(&id, &parent, &unused, &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "USING INDEX") {
		t.Fatalf("query plan for a point read: %q, want an index search", plan)
	}
}
