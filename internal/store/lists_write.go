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
)

// Writing lists: the per-list lock, adding and removing rows, splitting
// buckets, and the directories' counts (see lists.go for the layout).

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
		if err := mu.Lock(ctx); err != nil {
			return nil, err
		}
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

// removeAt takes the row of key listed under sort out of the list (as
// Remove), but only that row: after Add listed the key under a new sort in
// the same bucket, it is left.
func (l list) removeAt(ctx context.Context, key, sort string) error {
	return l.change(ctx, sort, entrySet, func(rows []storedRow) ([]storedRow, bool) {
		i := slices.IndexFunc(rows, func(r storedRow) bool { return r.Key == key && r.Sort == sort })
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
