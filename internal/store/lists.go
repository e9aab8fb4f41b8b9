package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/family-advocacy/lms/internal/errs"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"
)

// Ordered lists are how the store answers "the newest 25 messages", "users
// by name from the 51st", "certificates expiring next month" or "everything
// held about this person" without reading a collection that grows with
// people or time. FerretDB answers only {_id: v} from its key and scans the
// whole collection for anything else, whatever the limit.
//
// A list keeps small rows in the order of a string sort key. Rows live in
// bucket documents of the "lists" collection. Each bucket holds a range of
// sort keys within one prefix of the key (a day, a month, the first
// letters of a name; the whole key when the prefix length is 0), and a
// bucket whose content outgrows splitBytes (8 KB) is split in two at its middle
// key, so no document grows large however the rows fall: a hot day of
// mail or a common first name gets more buckets, not bigger ones. Two
// levels of directory name the buckets:
//
//	_id "<list>"            the prefixes: [{prefix, rows}], by prefix
//	_id "<list>#<prefix>"   the prefix's buckets: [{low key, rows}], by key
//	                        (absent while the prefix has one bucket)
//	_id "<list>|<low key>"  a bucket: [{key, sort, row}], by sort; its
//	                        first bucket's low key is the prefix itself
//
// A page at any offset is the prefix directory, one bucket directory and
// the one or two buckets it falls in; a count is the prefix directory.
// Lists that are only read in order (uncounted) write no counts: adding a
// row is one bucket write, plus a directory write when a prefix or a
// bucket is new.
//
// Each document keeps its content as one opaque BSON binary value and is
// changed by reading it, changing it in Go and writing it back (under the
// store's write lock on the embedded database; conditional on its version
// on MongoDB). FerretDB parses every field of a document on each read and
// write and stores it as JSON text, so a document of n fields costs n² to
// read or change and every write costs in proportion to its size (a
// 260 KB bucket took 20 ms to read and 33 ms to write back): as one binary
// value of at most splitBytes, a bucket costs a millisecond or so.
//
// Rows are written before the record they point to and removed after it:
// a reader treats a row whose record is missing as absent, so a crash
// between the two leaves a harmless row, not a record no list knows. A
// prefix is entered in the directory before its first row is written, and
// a split writes the new bucket before the directory names it and takes
// the moved rows out of the old bucket last; an add that raced with a
// split finds, when it checks the directory again, that its row fell in
// the wrong bucket and moves it. Adding and removing a row are idempotent,
// and each ends by writing its bucket's true count into the directories,
// so a count a crash left stale is corrected by the next write there.
const colLists = "lists"

// splitBytes is the content size past which a bucket is split (a
// variable for the tests).
var splitBytes = 8 << 10

// listSpec is the shape of a kind of list.
type listSpec struct {
	prefix int  // bytes of the sort key naming the prefix (0: one prefix)
	desc   bool // pages run from the greatest sort key down
	// uncounted lists are only read in order (Scan, or a first page), never
	// counted or paged by offset: their directories name buckets but do not
	// count rows, which saves two of an add's three writes.
	uncounted bool
}

// list is one ordered list.
type list struct {
	db   *DB
	name string
	spec listSpec
}

func (db *DB) list(name string, spec listSpec) list {
	return list{db: db, name: name, spec: spec}
}

// Row is one row of a list.
type Row struct {
	Key  string   // unique in the list: usually the record's _id
	Sort string   // the sort key
	Data bson.Raw // the row's payload
}

// Decode decodes the row's payload.
func (r Row) Decode(v any) error { return bson.Unmarshal(r.Data, v) }

type storedRow struct {
	Key  string   `bson:"k"`
	Sort string   `bson:"s"`
	Data bson.Raw `bson:"d"`
}

// listDoc is a stored bucket or directory: its content is one BSON value.
type listDoc struct {
	ID   string `bson:"_id"`
	N    int    `bson:"n"` // rows in a bucket; entries in a directory
	Blob []byte `bson:"b"`
}

type bucketBlob struct {
	Rows []storedRow `bson:"r"` // by sort key, then key
}

// dirEntry names a prefix (in the list's directory) or a bucket by its
// low key (in a prefix's directory), with its row count.
type dirEntry struct {
	Key string `bson:"k"`
	N   int    `bson:"n"`
}

// dirBlob is a directory: entries by key, and in a prefix's directory a
// split that was started and not finished (a crash), which the next write
// of the prefix finishes.
type dirBlob struct {
	Entries []dirEntry `bson:"b"`
	Split   *splitting `bson:"p,omitempty"`
}

func (l list) prefixOf(sort string) string {
	if len(sort) > l.spec.prefix {
		return sort[:l.spec.prefix]
	}
	return sort
}

func (l list) prefixDirID(prefix string) string { return l.name + "#" + prefix }

// whole reports whether the list has one prefix and no counts: then it
// needs no directory of prefixes (a person's records, a user's sessions).
func (l list) whole() bool                { return l.spec.prefix == 0 && l.spec.uncounted }
func (l list) bucketID(low string) string { return l.name + "|" + low }

func rowLess(a, b storedRow) int {
	if c := cmp.Compare(a.Sort, b.Sort); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// order compares two sort keys in list order.
func (l list) order(a, b string) int {
	if l.spec.desc {
		return cmp.Compare(b, a)
	}
	return cmp.Compare(a, b)
}

// readDir reads a directory's entries (ok false when it does not exist).
func (db *DB) readDir(ctx context.Context, id string) (entries []dirEntry, ok bool, err error) {
	var d listDoc
	err = db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var dir dirBlob
	if err := bson.Unmarshal(d.Blob, &dir); err != nil {
		return nil, false, err
	}
	return dir.Entries, true, nil
}

// buckets returns a prefix's buckets by low key; a prefix without a
// directory of its own has one bucket, whose count n the caller gives.
func (l list) buckets(ctx context.Context, prefix string, n int) ([]dirEntry, error) {
	es, ok, err := l.db.readDir(ctx, l.prefixDirID(prefix))
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if !ok || len(es) == 0 {
		return []dirEntry{{Key: prefix, N: n}}, nil
	}
	return es, nil
}

// covering returns the index of the bucket (of buckets by low key) whose
// range holds sort.
func covering(bs []dirEntry, sort string) int {
	i, found := slices.BinarySearchFunc(bs, sort, func(e dirEntry, s string) int { return cmp.Compare(e.Key, s) })
	if found {
		return i
	}
	return max(i-1, 0)
}

// prefixes returns the list's prefixes in list order.
func (l list) prefixes(ctx context.Context) ([]dirEntry, error) {
	if l.whole() {
		return []dirEntry{{Key: ""}}, nil
	}
	es, _, err := l.db.readDir(ctx, l.name)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if l.spec.desc {
		slices.Reverse(es)
	}
	return es, nil
}

// exists reports whether the list has a document.
func (l list) exists(ctx context.Context) (bool, error) {
	id := l.name
	if l.whole() {
		id = l.prefixDirID("")
		if _, ok, err := l.db.readDir(ctx, id); ok || err != nil {
			return ok, err
		}
		id = l.bucketID("")
	}
	err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// Count returns the number of rows in the list.
func (l list) Count(ctx context.Context) (int, error) {
	ps, err := l.prefixes(ctx)
	n := 0
	for _, p := range ps {
		n += p.N
	}
	return n, err
}

// span is a bucket and the range of sort keys it holds, [low, next).
type span struct {
	low, next string
	n         int
}

// spans returns a prefix's buckets in list order, with their ranges.
func (l list) spans(ctx context.Context, p dirEntry) ([]span, error) {
	bs, err := l.buckets(ctx, p.Key, p.N)
	if err != nil {
		return nil, err
	}
	out := make([]span, len(bs))
	for i, b := range bs {
		out[i] = span{low: b.Key, n: b.N}
		if i+1 < len(bs) {
			out[i].next = bs[i+1].Key
		}
	}
	if l.spec.desc {
		slices.Reverse(out)
	}
	return out, nil
}

// readBuckets returns the rows of buckets (read a few at a time) that lie
// in each bucket's range, each bucket's in list order, in the order the
// buckets are given.
func (l list) readBuckets(ctx context.Context, spans []span) ([]Row, error) {
	got := make([][]storedRow, len(spans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReads)
	for i, sp := range spans {
		g.Go(func() error {
			var err error
			got[i], _, err = l.bucketRows(gctx, sp.low)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []Row
	for i, rows := range got {
		if l.spec.desc {
			slices.Reverse(rows)
		}
		for _, r := range rows {
			if inRange(r.Sort, spans[i].low, spans[i].next) {
				out = append(out, Row{Key: r.Key, Sort: r.Sort, Data: r.Data})
			}
		}
	}
	return out, nil
}

// Page returns up to limit rows from the offset-th (in list order) and the
// number of rows in the list. It reads the directory, the directory of the
// prefix the page starts in and only the buckets the page falls in.
func (l list) Page(ctx context.Context, offset, limit int) ([]Row, int, error) {
	ps, err := l.prefixes(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for _, p := range ps {
		total += p.N
	}
	counted := !l.spec.uncounted
	var out []Row
	skip := max(offset, 0)
	for _, p := range ps {
		if len(out) >= limit {
			break
		}
		if counted && p.N > 0 && skip >= p.N {
			skip -= p.N // the page starts after this prefix
			continue
		}
		spans, err := l.spans(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		for _, sp := range spans {
			if len(out) >= limit {
				break
			}
			if counted && sp.n > 0 && skip >= sp.n {
				skip -= sp.n
				continue
			}
			rows, err := l.readBuckets(ctx, []span{sp})
			if err != nil {
				return nil, 0, err
			}
			if skip >= len(rows) {
				skip -= len(rows)
				continue
			}
			rows = rows[skip:]
			skip = 0
			out = append(out, rows[:min(len(rows), limit-len(out))]...)
		}
	}
	return out, total, nil
}

// Scan calls fn with the rows whose sort key comes at or after from in list
// order (from "" starts at the beginning), bucket by bucket, until fn
// returns false. It reads only the buckets it passes through.
func (l list) Scan(ctx context.Context, from string, fn func(Row) (bool, error)) error {
	ps, err := l.prefixes(ctx)
	if err != nil {
		return err
	}
	fp := l.prefixOf(from)
	for _, p := range ps {
		if from != "" && l.order(p.Key, fp) < 0 {
			continue // wholly before from
		}
		spans, err := l.spans(ctx, p)
		if err != nil {
			return err
		}
		for _, sp := range spans {
			if from != "" && (!l.spec.desc && sp.next != "" && sp.next <= from || l.spec.desc && sp.low > from) {
				continue // wholly before from
			}
			rows, err := l.readBuckets(ctx, []span{sp})
			if err != nil {
				return err
			}
			for _, r := range rows {
				if from != "" && l.order(r.Sort, from) < 0 {
					continue
				}
				if more, err := fn(r); err != nil || !more {
					return err
				}
			}
		}
	}
	return nil
}

// ScanBuckets calls fn with each prefix for which keep returns true and
// all its rows, in list order, until fn returns false.
func (l list) ScanBuckets(ctx context.Context, keep func(prefix string) bool, fn func(prefix string, rows []Row) (bool, error)) error {
	ps, err := l.prefixes(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if !keep(p.Key) {
			continue
		}
		spans, err := l.spans(ctx, p)
		if err != nil {
			return err
		}
		rows, err := l.readBuckets(ctx, spans)
		if err != nil {
			return err
		}
		if more, err := fn(p.Key, rows); err != nil || !more {
			return err
		}
	}
	return nil
}

// pointReads is how many point reads a page makes at once: FerretDB
// answers each on its own connection, and SQLite's readers do not wait for
// one another.
const pointReads = 8

// readRows point-reads the record of each row from coll (nil where it is
// missing), a few at a time, in the rows' order.
func readRows[T any](ctx context.Context, db *DB, coll string, rows []Row) ([]*T, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.Key
	}
	return readIDs[T](ctx, db, coll, ids)
}

// readIDs point-reads documents of coll by _id (nil where one is missing),
// a few at a time, in the order given.
func readIDs[T any](ctx context.Context, db *DB, coll string, ids []string) ([]*T, error) {
	out := make([]*T, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pointReads)
	for i, id := range ids {
		g.Go(func() error {
			v, err := findByID[T](gctx, db.coll(coll), id, coll)
			if errs.Is(err, errs.ENOTFOUND) {
				return nil
			}
			out[i] = v
			return err
		})
	}
	return out, g.Wait()
}
