package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestingList is a list for the store's own tests.
type TestingList struct{ l list }

// TestingList returns the named list with the given shape.
func (db *DB) TestingList(name string, prefix, shards int, desc bool) TestingList {
	return TestingList{db.list(name, listSpec{prefix: prefix, shards: shards, desc: desc})}
}

func (t TestingList) Add(ctx context.Context, key, sort string, data any) error {
	return t.l.Add(ctx, key, sort, data)
}
func (t TestingList) Remove(ctx context.Context, key, sort string) error {
	return t.l.Remove(ctx, key, sort)
}
func (t TestingList) Page(ctx context.Context, offset, limit int) ([]Row, int, error) {
	return t.l.Page(ctx, offset, limit)
}
func (t TestingList) Count(ctx context.Context) (int, error) { return t.l.Count(ctx) }
func (t TestingList) Scan(ctx context.Context, from string, fn func(Row) (bool, error)) error {
	return t.l.Scan(ctx, from, fn)
}
func (t TestingList) DropBucket(ctx context.Context, prefix string) error {
	return t.l.DropBucket(ctx, prefix)
}
func (t TestingList) Drop(ctx context.Context) error { return t.l.Drop(ctx) }

// AddRowOnly writes a row as Add does but stops before the directory's
// count, as a crash there would.
func (t TestingList) AddRowOnly(ctx context.Context, key, sort string, data any) error {
	d, err := bson.Marshal(data)
	if err != nil {
		return err
	}
	row := storedRow{Key: key, Sort: sort, Data: d}
	b := t.l.bucketOf(sort, key)
	_, err = t.l.db.changeBucket(ctx, t.l.bucketID(b), func(rows []storedRow) ([]storedRow, bool) {
		return append(rows, row), true
	}, func() error { return t.l.db.setCount(ctx, t.l.name, b, 0, true) })
	return err
}

// TestingEvents runs the audit view's query, returning the cursor too.
var TestingEvents = (*DB).events

// SetAuditScanBudget changes how many rows one audit page examines, until
// the returned function restores it.
func SetAuditScanBudget(n int) func() {
	old := auditScanBudget
	auditScanBudget = n
	return func() { auditScanBudget = old }
}
