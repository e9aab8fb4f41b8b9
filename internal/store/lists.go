package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

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
// bucket documents of the "lists" collection, one bucket per sort-key prefix
// (a day, a month, the first letters of a name), optionally spread over a
// few shard documents by a hash of the row's key so that no document grows
// large. A directory document per list counts the rows of every bucket, so
// a page at any offset is one directory read plus the one or two buckets it
// falls in, and a count is the directory alone.
//
//	_id "<list>"                     directory: [{bucket, rows}], by bucket
//	_id "<list>|<bucket>/<shard>"    bucket: [{key, sort, row}], by sort
//
// Each document keeps its content as one opaque BSON binary value and is
// changed by reading it, changing it in Go and writing it back (under the
// store's write lock on the embedded database; conditional on its version
// on MongoDB). FerretDB parses every field of a document on each read and
// write, and looks fields up one by one, so a document of n fields costs
// n² to read or change: as fields, a directory of 3,200 buckets took 50 ms
// to read and a retention pass 47 ms per message; as one binary value they
// cost almost nothing to parse.
//
// Rows are written before the record they point to and removed after it:
// a reader treats a row whose record is missing as absent, so a crash
// between the two leaves a harmless row, not a record no list knows. A
// bucket is entered in the directory before its first row is written.
// Adding and removing a row are idempotent, and each ends by writing the
// bucket's true count into the directory, so a count a crash left stale is
// corrected by the next write to that bucket.
const colLists = "lists"

// listSpec is the shape of a kind of list.
type listSpec struct {
	prefix int  // bytes of the sort key naming the bucket (0: a single bucket)
	shards int  // documents per bucket (≥ 1)
	desc   bool // pages run from the greatest sort key down
	// uncounted lists are only read in order (Scan, or a first page), never
	// counted or paged by offset: their directory names their buckets but
	// does not count rows, which saves two of an add's four writes.
	uncounted bool
}

// list is one ordered list.
type list struct {
	db   *DB
	name string
	spec listSpec
}

func (db *DB) list(name string, spec listSpec) list {
	if spec.shards < 1 {
		spec.shards = 1
	}
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
	N    int    `bson:"n"` // rows in a bucket; buckets in a directory
	Blob []byte `bson:"b"`
}

type bucketBlob struct {
	Rows []storedRow `bson:"r"` // by sort key, then key
}

type dirEntry struct {
	Bucket string `bson:"k"` // "<prefix>/<shard>"
	N      int    `bson:"n"`
}

type dirBlob struct {
	Buckets []dirEntry `bson:"b"` // by bucket
}

// bucketOf returns the bucket (prefix/shard) of a row.
func (l list) bucketOf(sort, key string) string {
	p := sort
	if len(p) > l.spec.prefix {
		p = p[:l.spec.prefix]
	}
	shard := 0
	if l.spec.shards > 1 {
		h := fnv.New32a()
		h.Write([]byte(key))
		shard = int(h.Sum32() % uint32(l.spec.shards))
	}
	return p + "/" + strconv.Itoa(shard)
}

func (l list) bucketID(bucket string) string { return l.name + "|" + bucket }

func rowLess(a, b storedRow) int {
	if c := cmp.Compare(a.Sort, b.Sort); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// Add puts a row in the list, replacing the row with the same key in the
// same bucket. Callers give the same sort key for the same row; a row whose
// sort key changes is removed under its old key first.
func (l list) Add(ctx context.Context, key, sort string, data any) error {
	raw, err := bson.Marshal(data)
	if err != nil {
		return fmt.Errorf("store: list %s row: %w", l.name, err)
	}
	row := storedRow{Key: key, Sort: sort, Data: raw}
	if l.db.ldr != nil {
		l.db.ldr.addRow(l, row)
		return nil
	}
	bucket := l.bucketOf(sort, key)
	n, err := l.db.changeBucket(ctx, l.bucketID(bucket), func(rows []storedRow) ([]storedRow, bool) {
		i := slices.IndexFunc(rows, func(r storedRow) bool { return r.Key == key })
		if i >= 0 {
			if rows[i].Sort == sort && string(rows[i].Data) == string(raw) {
				return rows, false // there already
			}
			rows = slices.Delete(rows, i, i+1)
		}
		j, _ := slices.BinarySearchFunc(rows, row, rowLess)
		return slices.Insert(rows, j, row), true
	}, func() error { return l.db.setCount(ctx, l.name, bucket, 0, true) })
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if l.spec.uncounted {
		return nil
	}
	return l.db.setCount(ctx, l.name, bucket, n, true)
}

// Remove takes a row out of the list (nothing when it is not there).
func (l list) Remove(ctx context.Context, key, sort string) error {
	bucket := l.bucketOf(sort, key)
	found := false
	n, err := l.db.changeBucket(ctx, l.bucketID(bucket), func(rows []storedRow) ([]storedRow, bool) {
		i := slices.IndexFunc(rows, func(r storedRow) bool { return r.Key == key })
		if i < 0 {
			return rows, false
		}
		found = true
		return slices.Delete(rows, i, i+1), true
	}, nil)
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if !found || l.spec.uncounted && n > 0 {
		return nil
	}
	return l.db.setCount(ctx, l.name, bucket, n, false)
}

// changeBucket reads bucket document id, lets fn change its rows, and
// writes it back if fn says it changed (deleting it when it is left
// empty); it returns how many rows it holds afterwards. Before a bucket
// that does not exist yet is written, enter (if not nil) is called: the
// directory names a bucket before it holds a row.
func (db *DB) changeBucket(ctx context.Context, id string, fn func([]storedRow) ([]storedRow, bool), enter func() error) (int, error) {
	n := 0
	entered := enter == nil
again:
	_, err := updateVersioned(ctx, db, colLists, id, "list", true, func(d *listDoc, exists bool) error {
		var b bucketBlob
		if exists && len(d.Blob) > 0 {
			if err := bson.Unmarshal(d.Blob, &b); err != nil {
				return err
			}
		}
		rows, changed := fn(b.Rows)
		n = len(rows)
		switch {
		case !changed || !exists && n == 0:
			return errNoChange
		case n == 0:
			return errDelete
		case !exists && !entered:
			return errEnter // outside the write lock, then again
		}
		blob, err := bson.Marshal(bucketBlob{Rows: rows})
		if err != nil {
			return err
		}
		d.ID, d.N, d.Blob = id, n, blob
		return nil
	})
	if errors.Is(err, errEnter) {
		if err := enter(); err != nil {
			return 0, err
		}
		entered = true
		goto again
	}
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return n, err
}

// errEnter asks changeBucket to enter a new bucket in the directory first.
var errEnter = errors.New("enter the bucket first")

// setCount records a bucket's row count in the list's directory. After an
// add the count only grows (so that of two concurrent adds the later count
// wins whatever order their directory writes arrive in); after a removal
// it is set, and an empty bucket leaves the directory.
func (db *DB) setCount(ctx context.Context, name, bucket string, n int, grew bool) error {
	_, err := updateVersioned(ctx, db, colLists, name, "list", true, func(d *listDoc, exists bool) error {
		var dir dirBlob
		if exists && len(d.Blob) > 0 {
			if err := bson.Unmarshal(d.Blob, &dir); err != nil {
				return err
			}
		}
		i, found := slices.BinarySearchFunc(dir.Buckets, bucket, func(e dirEntry, b string) int { return cmp.Compare(e.Bucket, b) })
		switch {
		case found && grew && dir.Buckets[i].N >= n && (n > 0 || dir.Buckets[i].N == 0):
			return errNoChange
		case found && !grew && n <= 0:
			dir.Buckets = slices.Delete(dir.Buckets, i, i+1)
		case found && dir.Buckets[i].N == n:
			return errNoChange
		case found:
			dir.Buckets[i].N = n
		case !grew:
			return errNoChange
		default:
			dir.Buckets = slices.Insert(dir.Buckets, i, dirEntry{Bucket: bucket, N: n})
		}
		blob, err := bson.Marshal(dir)
		if err != nil {
			return err
		}
		d.ID, d.N, d.Blob = name, len(dir.Buckets), blob
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: list %s directory: %w", name, err)
	}
	return nil
}

// bucketCount is one bucket of the directory (all its shards).
type bucketCount struct {
	prefix string
	shards []string // bucket names, "<prefix>/<shard>"
	n      int
}

// directory returns the list's buckets in list order.
func (l list) directory(ctx context.Context) ([]bucketCount, error) {
	var d listDoc
	err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.name}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	var dir dirBlob
	if err := bson.Unmarshal(d.Blob, &dir); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	by := map[string]*bucketCount{}
	for _, e := range dir.Buckets {
		i := strings.LastIndexByte(e.Bucket, '/')
		if i < 0 || e.N < 0 {
			continue
		}
		p := e.Bucket[:i]
		bc := by[p]
		if bc == nil {
			bc = &bucketCount{prefix: p}
			by[p] = bc
		}
		bc.shards = append(bc.shards, e.Bucket)
		bc.n += e.N
	}
	out := make([]bucketCount, 0, len(by))
	for _, bc := range by {
		slices.Sort(bc.shards)
		out = append(out, *bc)
	}
	slices.SortFunc(out, func(a, b bucketCount) int { return l.order(a.prefix, b.prefix) })
	return out, nil
}

// order compares two sort keys in list order.
func (l list) order(a, b string) int {
	if l.spec.desc {
		return cmp.Compare(b, a)
	}
	return cmp.Compare(a, b)
}

// Count returns the number of rows in the list.
func (l list) Count(ctx context.Context) (int, error) {
	dir, err := l.directory(ctx)
	n := 0
	for _, b := range dir {
		n += b.n
	}
	return n, err
}

// readBucket returns every row of a bucket (all shards) in list order.
func (l list) readBucket(ctx context.Context, b bucketCount) ([]Row, error) {
	var rows []Row
	for _, shard := range b.shards {
		var d listDoc
		err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(shard)}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: list %s bucket %s: %w", l.name, shard, err)
		}
		var bb bucketBlob
		if err := bson.Unmarshal(d.Blob, &bb); err != nil {
			return nil, fmt.Errorf("store: list %s bucket %s: %w", l.name, shard, err)
		}
		for _, r := range bb.Rows {
			rows = append(rows, Row{Key: r.Key, Sort: r.Sort, Data: r.Data})
		}
	}
	slices.SortFunc(rows, func(a, b Row) int {
		if c := l.order(a.Sort, b.Sort); c != 0 {
			return c
		}
		return l.order(a.Key, b.Key)
	})
	return rows, nil
}

// Page returns up to limit rows from the offset-th (in list order) and the
// number of rows in the list. It reads the directory and only the buckets
// the page falls in.
func (l list) Page(ctx context.Context, offset, limit int) ([]Row, int, error) {
	dir, err := l.directory(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for _, b := range dir {
		total += b.n
	}
	var out []Row
	skip := max(offset, 0)
	for _, b := range dir {
		if len(out) >= limit {
			break
		}
		if b.n > 0 && skip >= b.n {
			skip -= b.n // the page starts after this bucket
			continue
		}
		rows, err := l.readBucket(ctx, b)
		if err != nil {
			return nil, 0, err
		}
		if skip > len(rows) {
			skip -= len(rows)
			continue
		}
		rows = rows[skip:]
		skip = 0
		out = append(out, rows[:min(len(rows), limit-len(out))]...)
	}
	return out, total, nil
}

// Scan calls fn with the rows whose sort key comes at or after from in list
// order (from "" starts at the beginning), bucket by bucket, until fn
// returns false. It reads only the buckets it passes through.
func (l list) Scan(ctx context.Context, from string, fn func(Row) (bool, error)) error {
	dir, err := l.directory(ctx)
	if err != nil {
		return err
	}
	for _, b := range dir {
		if from != "" {
			fp := from
			if len(fp) > l.spec.prefix {
				fp = fp[:l.spec.prefix]
			}
			if l.order(b.prefix, fp) < 0 {
				continue // wholly before from
			}
		}
		rows, err := l.readBucket(ctx, b)
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
	return nil
}

// ScanBuckets calls fn with the prefix and rows of each bucket for which
// keep returns true, in list order, until fn returns false.
func (l list) ScanBuckets(ctx context.Context, keep func(prefix string) bool, fn func(prefix string, rows []Row) (bool, error)) error {
	dir, err := l.directory(ctx)
	if err != nil {
		return err
	}
	for _, b := range dir {
		if !keep(b.prefix) {
			continue
		}
		rows, err := l.readBucket(ctx, b)
		if err != nil {
			return err
		}
		if more, err := fn(b.prefix, rows); err != nil || !more {
			return err
		}
	}
	return nil
}

// DropBucket deletes a whole bucket (every shard the directory names, and
// every shard the list's shape gives) and its directory entries.
func (l list) DropBucket(ctx context.Context, prefix string) error {
	shards := map[string]bool{}
	for s := 0; s < l.spec.shards; s++ {
		shards[prefix+"/"+strconv.Itoa(s)] = true
	}
	dir, err := l.directory(ctx)
	if err != nil {
		return err
	}
	for _, b := range dir {
		if b.prefix == prefix {
			for _, s := range b.shards {
				shards[s] = true
			}
		}
	}
	for _, b := range slices.Sorted(maps.Keys(shards)) {
		if _, err := l.db.coll(colLists).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(b)}}); err != nil {
			return fmt.Errorf("store: list %s: %w", l.name, err)
		}
		if err := l.db.setCount(ctx, l.name, b, 0, false); err != nil {
			return err
		}
	}
	return nil
}

// Drop deletes the whole list.
func (l list) Drop(ctx context.Context) error {
	dir, err := l.directory(ctx)
	if err != nil {
		return err
	}
	for _, b := range dir {
		for _, s := range b.shards {
			if _, err := l.db.coll(colLists).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(s)}}); err != nil {
				return fmt.Errorf("store: list %s: %w", l.name, err)
			}
		}
	}
	_, err = l.db.coll(colLists).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.name}})
	return err
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
