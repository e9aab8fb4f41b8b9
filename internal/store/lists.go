package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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

// lockList serialises the writes of one list, so that a split (three
// documents) is never interleaved with another write of the list: on the
// embedded database, which one process serves, with a mutex; on MongoDB,
// where several instances write, with a lease document that a crashed
// holder's successor takes over after leaseListFor.
func (l list) lockList(ctx context.Context) (func(), error) {
	if l.db.listMu != nil {
		h := fnv.New32a()
		h.Write([]byte(l.name))
		mu := &l.db.listMu[h.Sum32()%uint32(len(l.db.listMu))]
		mu.Lock()
		return mu.Unlock, nil
	}
	id, token := l.name+"!lock", randomToken()
	for {
		now := time.Now().UTC()
		_, err := l.db.coll(colLists).UpdateOne(ctx,
			bson.D{{Key: "_id", Value: id}, {Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: now.Add(leaseListFor)}, {Key: "owner", Value: token}}}},
			options.UpdateOne().SetUpsert(true))
		if err == nil {
			return func() {
				_, _ = l.db.coll(colLists).DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: token}})
			}, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("store: list %s: lock: %w", l.name, err)
		}
		select { // held by another writer: try again shortly
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

const leaseListFor = 30 * time.Second

func randomToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type prefixDir = dirBlob

type splitting struct {
	Low    string `bson:"l"` // the bucket being split
	NewLow string `bson:"n"` // the new bucket's low key
}

// readPrefixDir reads a prefix's directory; one bucket named by the prefix
// when it has none.
func (l list) readPrefixDir(ctx context.Context, prefix string) (prefixDir, error) {
	var d listDoc
	err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.prefixDirID(prefix)}}).Decode(&d)
	var pd prefixDir
	if err == nil {
		err = bson.Unmarshal(d.Blob, &pd)
	} else if errors.Is(err, mongo.ErrNoDocuments) {
		err = nil
	}
	if err != nil {
		return pd, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if len(pd.Entries) == 0 {
		pd.Entries = []dirEntry{{Key: prefix}}
	}
	return pd, nil
}

// changePrefixDir changes a prefix's directory.
func (l list) changePrefixDir(ctx context.Context, prefix string, fn func(*prefixDir) error) error {
	id := l.prefixDirID(prefix)
	_, err := updateVersioned(ctx, l.db, colLists, id, "list", true, func(d *listDoc, exists bool) error {
		var pd prefixDir
		if exists && len(d.Blob) > 0 {
			if err := bson.Unmarshal(d.Blob, &pd); err != nil {
				return err
			}
		}
		if len(pd.Entries) == 0 {
			pd.Entries = []dirEntry{{Key: prefix}}
		}
		if err := fn(&pd); err != nil {
			return err
		}
		blob, err := bson.Marshal(pd)
		if err != nil {
			return err
		}
		d.ID, d.N, d.Blob = id, len(pd.Entries), blob
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: list %s directory: %w", l.name, err)
	}
	return nil
}

// locate returns the bucket holding sort, the bucket after it ("" for
// none) and whether the prefix has more than one (a directory of its own),
// finishing first a split a crash interrupted. The list is locked.
func (l list) locate(ctx context.Context, prefix, sort string) (low, next string, split bool, err error) {
	pd, err := l.readPrefixDir(ctx, prefix)
	if err != nil {
		return "", "", false, err
	}
	if pd.Split != nil {
		if err := l.finishSplit(ctx, prefix, *pd.Split); err != nil {
			return "", "", false, err
		}
		if pd, err = l.readPrefixDir(ctx, prefix); err != nil {
			return "", "", false, err
		}
	}
	i := covering(pd.Entries, sort)
	if i+1 < len(pd.Entries) {
		next = pd.Entries[i+1].Key
	}
	return pd.Entries[i].Key, next, len(pd.Entries) > 1, nil
}

// inRange reports whether sort lies in [low, next) (next "" is unbounded).
func inRange(sort, low, next string) bool {
	return sort >= low && (next == "" || sort < next)
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
	return l.change(ctx, sort, entryGrew, func(rows []storedRow) ([]storedRow, bool) {
		i := slices.IndexFunc(rows, func(r storedRow) bool { return r.Key == key })
		if i >= 0 {
			if rows[i].Sort == sort && string(rows[i].Data) == string(raw) {
				return rows, false // there already
			}
			rows = slices.Delete(rows, i, i+1)
		}
		j, _ := slices.BinarySearchFunc(rows, row, rowLess)
		return slices.Insert(rows, j, row), true
	})
}

// Remove takes a row out of the list (nothing when it is not there).
func (l list) Remove(ctx context.Context, key, sort string) error {
	return l.change(ctx, sort, entrySet, func(rows []storedRow) ([]storedRow, bool) {
		i := slices.IndexFunc(rows, func(r storedRow) bool { return r.Key == key })
		if i < 0 {
			return rows, false
		}
		return slices.Delete(rows, i, i+1), true
	})
}

// change locks the list, lets fn change the rows of the bucket holding
// sort (dropping first any a split left outside its range), records its
// count, and splits it if it has grown too large.
func (l list) change(ctx context.Context, sort string, mode entryMode, fn func([]storedRow) ([]storedRow, bool)) error {
	unlock, err := l.lockList(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	prefix := l.prefixOf(sort)
	low, next, split, err := l.locate(ctx, prefix, sort)
	if err != nil {
		return err
	}
	n, size, err := l.db.changeBucket(ctx, l.bucketID(low), func(rows []storedRow) ([]storedRow, bool) {
		rows, stray := dropStray(rows, low, next)
		rows, changed := fn(rows)
		return rows, changed || stray
	}, func() error {
		if low != prefix || l.whole() {
			return nil
		}
		return l.db.setEntry(ctx, l.name, prefix, 0, entryEnter)
	})
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if err := l.recount(ctx, prefix, low, n, mode, split); err != nil {
		return err
	}
	if size > splitBytes {
		return l.split(ctx, prefix, low, next)
	}
	return nil
}

// dropStray drops the rows outside [low, next): copies a split left behind
// when it stopped after publishing the new bucket (they are in it).
func dropStray(rows []storedRow, low, next string) ([]storedRow, bool) {
	n := len(rows)
	rows = slices.DeleteFunc(rows, func(r storedRow) bool { return !inRange(r.Sort, low, next) })
	return rows, len(rows) != n
}

// split splits a bucket that has grown past splitBytes at its middle key.
// It records its intent in the prefix's directory, writes the upper rows
// to the new bucket, names the new bucket in the directory (and clears the
// intent), and last drops the upper rows from the old bucket. Readers keep
// to each bucket's range, so they see every row once throughout; a crash
// leaves either an intent, which the next write of the prefix finishes,
// or copies outside the old bucket's range, which its next write drops.
// The list is locked.
func (l list) split(ctx context.Context, prefix, low, next string) error {
	rows, _, err := l.bucketRows(ctx, low)
	if err != nil {
		return err
	}
	rows, _ = dropStray(rows, low, next)
	m := splitPoint(rows)
	if m <= 0 {
		return nil // one sort key throughout: it cannot be split
	}
	sp := splitting{Low: low, NewLow: separator(rows[m-1].Sort, rows[m].Sort)}
	if err := l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = &sp
		pd.Entries[covering(pd.Entries, low)].N = l.counted(len(rows))
		return nil
	}); err != nil {
		return err
	}
	return l.finishSplit(ctx, prefix, sp)
}

// finishSplit does the rest of a split whose intent is recorded.
func (l list) finishSplit(ctx context.Context, prefix string, sp splitting) error {
	pd, err := l.readPrefixDir(ctx, prefix)
	if err != nil {
		return err
	}
	next := ""
	if i := covering(pd.Entries, sp.Low); i+1 < len(pd.Entries) {
		next = pd.Entries[i+1].Key
	}
	rows, _, err := l.bucketRows(ctx, sp.Low)
	if err != nil {
		return err
	}
	var upper []storedRow
	for _, r := range rows {
		if inRange(r.Sort, sp.NewLow, next) {
			upper = append(upper, r)
		}
	}
	nUpper := 0
	if len(upper) > 0 {
		if nUpper, _, err = l.db.changeBucket(ctx, l.bucketID(sp.NewLow), func(have []storedRow) ([]storedRow, bool) {
			return mergeRows(have, upper), true
		}, nil); err != nil {
			return fmt.Errorf("store: list %s: %w", l.name, err)
		}
	}
	if err := l.changePrefixDir(ctx, prefix, func(pd *prefixDir) error {
		pd.Split = nil
		i, found := slices.BinarySearchFunc(pd.Entries, sp.NewLow, func(e dirEntry, k string) int { return cmp.Compare(e.Key, k) })
		if !found {
			pd.Entries = slices.Insert(pd.Entries, i, dirEntry{Key: sp.NewLow, N: l.counted(nUpper)})
			if i > 0 { // the old bucket keeps the rest
				pd.Entries[i-1].N = l.counted(max(len(rows)-len(upper), 0))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	n, _, err := l.db.changeBucket(ctx, l.bucketID(sp.Low), func(rows []storedRow) ([]storedRow, bool) {
		return dropStray(rows, sp.Low, sp.NewLow)
	}, nil)
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	return l.recount(ctx, prefix, sp.Low, n, entrySet, true)
}

// mergeRows adds rows to a bucket's rows, replacing those with the same key.
func mergeRows(have, add []storedRow) []storedRow {
	have = slices.DeleteFunc(have, func(r storedRow) bool {
		return slices.ContainsFunc(add, func(a storedRow) bool { return a.Key == r.Key })
	})
	have = append(have, add...)
	slices.SortFunc(have, rowLess)
	return have
}

// splitPoint returns the index nearest the middle of rows at which the sort
// key changes (0 when it never does).
func splitPoint(rows []storedRow) int {
	mid := len(rows) / 2
	for d := 0; d <= mid+1; d++ {
		for _, i := range []int{mid + d, mid - d} {
			if i > 0 && i < len(rows) && rows[i].Sort != rows[i-1].Sort {
				return i
			}
		}
	}
	return 0
}

// separator returns the shortest prefix of b that sorts after a (a < b).
func separator(a, b string) string {
	for i := 0; i < len(b); i++ {
		if i >= len(a) || a[i] != b[i] {
			return b[:i+1]
		}
	}
	return b
}

// bucketRows reads a bucket's rows (by sort key) and its content's size.
func (l list) bucketRows(ctx context.Context, low string) ([]storedRow, int, error) {
	var d listDoc
	err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(low)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	var b bucketBlob
	if err := bson.Unmarshal(d.Blob, &b); err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	return b.Rows, len(d.Blob), nil
}

func (d *listDoc) setDir(id string, dir dirBlob) error {
	blob, err := bson.Marshal(&dir)
	if err != nil {
		return err
	}
	d.ID, d.N, d.Blob = id, len(dir.Entries), blob
	return nil
}

// changeBucket reads bucket document id, lets fn change its rows, and
// writes it back if fn says it changed (deleting it when it is left
// empty); it returns how many rows it holds afterwards and the size of its
// content. Before a bucket that does not exist yet is written, enter (if
// not nil) is called: the directory names a prefix before it holds a row.
func (db *DB) changeBucket(ctx context.Context, id string, fn func([]storedRow) ([]storedRow, bool), enter func() error) (n, size int, err error) {
	entered := enter == nil
again:
	_, err = updateVersioned(ctx, db, colLists, id, "list", true, func(d *listDoc, exists bool) error {
		var b bucketBlob
		if exists && len(d.Blob) > 0 {
			if err := bson.Unmarshal(d.Blob, &b); err != nil {
				return err
			}
		}
		size = len(d.Blob)
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
		size = len(blob)
		return nil
	})
	if errors.Is(err, errEnter) {
		if err := enter(); err != nil {
			return 0, 0, err
		}
		entered = true
		goto again
	}
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return n, size, err
}

// errEnter asks changeBucket to enter a new prefix in the directory first.
var errEnter = errors.New("enter the prefix first")

// How setEntry changes an entry's count.
type entryMode int

const (
	entryEnter entryMode = iota // add the entry (count 0) if it is missing
	entryGrew                   // after an add: the count only grows, so of two concurrent adds the later count wins
	entrySet                    // after a removal or a move: set it
	entryDrop                   // remove the entry
)

// setEntry changes one entry of directory id and returns the directory's
// entries afterwards.
func (db *DB) setEntry(ctx context.Context, id, key string, n int, mode entryMode) error {
	_, err := db.setEntries(ctx, id, key, n, mode, true)
	return err
}

func (db *DB) setEntries(ctx context.Context, id, key string, n int, mode entryMode, create bool) ([]dirEntry, error) {
	var after []dirEntry
	_, err := updateVersioned(ctx, db, colLists, id, "list", create, func(d *listDoc, exists bool) error {
		var dir dirBlob
		if exists && len(d.Blob) > 0 {
			if err := bson.Unmarshal(d.Blob, &dir); err != nil {
				return err
			}
		}
		after = dir.Entries
		i, found := slices.BinarySearchFunc(dir.Entries, key, func(e dirEntry, k string) int { return cmp.Compare(e.Key, k) })
		switch {
		case mode == entryDrop && !found, mode == entryEnter && found,
			mode == entryGrew && found && dir.Entries[i].N >= n,
			mode == entrySet && found && dir.Entries[i].N == n:
			return errNoChange
		case mode == entryDrop:
			dir.Entries = slices.Delete(dir.Entries, i, i+1)
		case found:
			dir.Entries[i].N = n
		default:
			dir.Entries = slices.Insert(dir.Entries, i, dirEntry{Key: key, N: n})
		}
		after = dir.Entries
		return d.setDir(id, dir)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list directory %s: %w", id, err)
	}
	return after, nil
}

// recount records a bucket's row count in its prefix's directory (when
// the prefix has one: split) and the prefix's total in the list's
// directory. Nothing for an uncounted list.
func (l list) recount(ctx context.Context, prefix, low string, n int, mode entryMode, split bool) error {
	if l.spec.uncounted {
		return nil
	}
	total := n
	if split {
		es, err := l.db.setEntries(ctx, l.prefixDirID(prefix), low, n, mode, false)
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return err
		}
		if err == nil {
			total = 0
			for _, e := range es {
				total += e.N
			}
		}
	}
	return l.db.setEntry(ctx, l.name, prefix, total, mode)
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

// DropBucket deletes every row of a prefix: its buckets, then its
// directory, then its entry in the list's directory.
func (l list) DropBucket(ctx context.Context, prefix string) error {
	unlock, err := l.lockList(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return l.dropPrefix(ctx, prefix)
}

func (l list) dropPrefix(ctx context.Context, prefix string) error {
	pd, err := l.readPrefixDir(ctx, prefix)
	if err != nil {
		return err
	}
	bs := pd.Entries
	if pd.Split != nil {
		bs = append(bs, dirEntry{Key: pd.Split.NewLow})
	}
	if err != nil {
		return err
	}
	for _, b := range bs {
		if _, err := l.db.coll(colLists).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(b.Key)}}); err != nil {
			return fmt.Errorf("store: list %s: %w", l.name, err)
		}
	}
	if _, err := l.db.coll(colLists).DeleteOne(ctx, bson.D{{Key: "_id", Value: l.prefixDirID(prefix)}}); err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if l.whole() {
		return nil
	}
	return l.db.setEntry(ctx, l.name, prefix, 0, entryDrop)
}

// Drop deletes the whole list.
func (l list) Drop(ctx context.Context) error {
	unlock, err := l.lockList(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	ps, err := l.prefixes(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := l.dropPrefix(ctx, p.Key); err != nil {
			return err
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
