package store

import (
	"cmp"
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestingList is a list for the store's own tests.
type TestingList struct{ l list }

// TestingList returns the named list with the given shape.
func (db *DB) TestingList(name string, prefix int, desc bool) TestingList {
	return TestingList{db.list(name, listSpec{prefix: prefix, desc: desc})}
}

// SetListSplit changes the size past which list buckets split, until the
// returned function restores it.
func SetListSplit(n int) func() {
	old := splitBytes
	splitBytes = n
	return func() { splitBytes = old }
}

// Buckets returns how many buckets the list has (all prefixes).
func (t TestingList) Buckets(ctx context.Context) (int, error) {
	ps, err := t.l.prefixes(ctx)
	n := 0
	for _, p := range ps {
		bs, err := t.l.buckets(ctx, p.Key, p.N)
		if err != nil {
			return 0, err
		}
		n += len(bs)
	}
	return n, err
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
	prefix := t.l.prefixOf(sort)
	bs, err := t.l.buckets(ctx, prefix, 0)
	if err != nil {
		return err
	}
	low := bs[covering(bs, sort)].Key
	_, _, err = t.l.db.changeBucket(ctx, t.l.bucketID(low), func(rows []storedRow) ([]storedRow, bool) {
		return mergeRows(rows, []storedRow{row}), true
	}, func() error { return t.l.db.setEntry(ctx, t.l.name, prefix, 0, entryEnter) })
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

// CrashSplit starts splitting the first bucket of a prefix and stops where
// a crash would: after recording the intent (stage 1), after writing the
// new bucket (2), or after naming it in the directory (3).
func (t TestingList) CrashSplit(ctx context.Context, prefix string, stage int) error {
	l := t.l
	low, next, _, err := l.locate(ctx, prefix, prefix)
	if err != nil {
		return err
	}
	rows, _, err := l.bucketRows(ctx, low)
	if err != nil {
		return err
	}
	m := splitPoint(rows)
	sp := splitting{Low: low, NewLow: separator(rows[m-1].Sort, rows[m].Sort)}
	if err := l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = &sp
		pd.Entries[covering(pd.Entries, low)].N = len(rows)
		return nil
	}); err != nil || stage == 1 {
		return err
	}
	var upper []storedRow
	for _, r := range rows {
		if inRange(r.Sort, sp.NewLow, next) {
			upper = append(upper, r)
		}
	}
	if _, _, err := l.db.changeBucket(ctx, l.bucketID(sp.NewLow), func(have []storedRow) ([]storedRow, bool) {
		return mergeRows(have, upper), true
	}, nil); err != nil || stage == 2 {
		return err
	}
	return l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = nil
		i, _ := slices.BinarySearchFunc(pd.Entries, sp.NewLow, func(e dirEntry, k string) int { return cmp.Compare(e.Key, k) })
		pd.Entries = slices.Insert(pd.Entries, i, dirEntry{Key: sp.NewLow, N: len(upper)})
		pd.Entries[i-1].N = len(rows) - len(upper)
		return nil
	})
}
