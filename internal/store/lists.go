package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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
//	_id "<list>"                     {b: {"<bucket>/<shard>": rows}}
//	_id "<list>|<bucket>/<shard>"    {n: rows, r: {"<row key>": <row>}}
//
// Each row is kept as one opaque BSON binary value (FerretDB re-parses
// every field of a document on each read; opaque values cost almost
// nothing). Rows are written before the record they point to and removed
// after it: a reader treats a row whose record is missing as absent, so a
// crash between the two leaves a harmless row, not a record no list knows.
// Adding and removing a row are idempotent, and each ends by writing the
// bucket's true count into the directory, so a count a crash left stale is
// corrected by the next write to that bucket.
const colLists = "lists"

// listSpec is the shape of a kind of list.
type listSpec struct {
	prefix int  // bytes of the sort key naming the bucket (0: a single bucket)
	shards int  // documents per bucket (≥ 1)
	desc   bool // pages run from the greatest sort key down
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
	Sort string   `bson:"s"`
	Data bson.Raw `bson:"d"`
}

type bucketDoc struct {
	ID   string            `bson:"_id"`
	N    int               `bson:"n"`
	Rows map[string][]byte `bson:"r"`
}

type dirDoc struct {
	ID      string         `bson:"_id"`
	Buckets map[string]int `bson:"b"`
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

// fieldKey makes s usable as a field name: MongoDB field names may not
// contain "." or NUL or start with "$". Escaping keeps the order of keys
// that share no escaped bytes, which is all the directory needs.
func fieldKey(s string) string {
	if s == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c == '.' || c == '$' || c < 0x20 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unfieldKey(s string) string {
	if s == "%" {
		return ""
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Add puts a row in the list, replacing the row with the same key in the
// same bucket. Callers give the same sort key for the same row; a row whose
// sort key changes is removed under its old key first.
func (l list) Add(ctx context.Context, key, sort string, data any) error {
	raw, err := bson.Marshal(data)
	if err != nil {
		return fmt.Errorf("store: list %s row: %w", l.name, err)
	}
	row, err := bson.Marshal(storedRow{Sort: sort, Data: raw})
	if err != nil {
		return fmt.Errorf("store: list %s row: %w", l.name, err)
	}
	if l.db.ldr != nil {
		l.db.ldr.addRow(l, key, sort, row)
		return nil
	}
	bucket := l.bucketOf(sort, key)
	n, err := l.db.setRow(ctx, l.name, bucket, l.bucketID(bucket), fieldKey(key), row)
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	return l.db.setCount(ctx, l.name, bucket, n, true)
}

// Remove takes a row out of the list (nothing when it is not there).
func (l list) Remove(ctx context.Context, key, sort string) error {
	bucket := l.bucketOf(sort, key)
	n, err := l.db.unsetRow(ctx, l.bucketID(bucket), fieldKey(key))
	if err != nil {
		return fmt.Errorf("store: list %s: %w", l.name, err)
	}
	if n < 0 {
		return nil // not there
	}
	return l.db.setCount(ctx, l.name, bucket, n, false)
}

// setRow sets row k of bucket document id and returns the bucket's row
// count afterwards. A bucket new to the list is entered in the directory
// (count 0, "look here") before its first row is written, so no row can
// exist in a bucket the directory does not name.
func (db *DB) setRow(ctx context.Context, name, bucket, id, k string, row []byte) (int, error) {
	raw := db.DB.Collection(colLists)
	enter := func() error {
		_, err := raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "b." + fieldKey(bucket), Value: 0}}}}, options.UpdateOne().SetUpsert(true))
		return err
	}
	if db.wmu == nil {
		// The findAndModify calls here return the whole bucket: FerretDB
		// (which the browser tests reach as a MongoDB server) does not
		// implement their projection ("fields").
		if err := enter(); err != nil {
			return 0, err
		}
		res := raw.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: id}, {Key: "r." + k, Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "r." + k, Value: row}}}, {Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After))
		var d struct {
			N int `bson:"n"`
		}
		err := res.Decode(&d)
		if mongo.IsDuplicateKeyError(err) {
			// The row is there already: replace its content.
			err = raw.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "r." + k, Value: row}}}},
				options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		}
		return d.N, err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var cur bson.Raw
	err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, err
	}
	n := 0
	if cur == nil {
		if err := enter(); err != nil {
			return 0, err
		}
	} else {
		n = rawInt(cur.Lookup("n"))
		if v, err := cur.LookupErr("r", k); err == nil {
			if _, old, ok := v.BinaryOK(); ok && string(old) == string(row) {
				return n, nil // already there, unchanged
			}
			_, err := raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "r." + k, Value: row}}}})
			return n, err
		}
	}
	_, err = raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "r." + k, Value: row}}}, {Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
		options.UpdateOne().SetUpsert(true))
	return n + 1, err
}

// unsetRow removes row k of bucket document id and returns the bucket's
// row count afterwards, or -1 when the row was not there. An emptied bucket
// document is deleted.
func (db *DB) unsetRow(ctx context.Context, id, k string) (int, error) {
	raw := db.DB.Collection(colLists)
	if db.wmu == nil {
		var d struct {
			N int `bson:"n"`
		}
		err := raw.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: id}, {Key: "r." + k, Value: bson.D{{Key: "$exists", Value: true}}}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "r." + k, Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: "n", Value: -1}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return -1, nil
		}
		if err != nil {
			return 0, err
		}
		if d.N <= 0 {
			_, err = raw.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "n", Value: bson.D{{Key: "$lte", Value: 0}}}})
		}
		return d.N, err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var cur bson.Raw
	err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := cur.LookupErr("r", k); err != nil {
		return -1, nil
	}
	n := rawInt(cur.Lookup("n")) - 1
	if n <= 0 {
		_, err = raw.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		return 0, err
	}
	_, err = raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "r." + k, Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: "n", Value: -1}}}})
	return n, err
}

// setCount records a bucket's row count in the list's directory. After an
// add the count only grows ($max, so that of two concurrent adds the later
// count wins whatever order their directory writes arrive in); after a
// removal it is set, and an empty bucket leaves the directory.
func (db *DB) setCount(ctx context.Context, name, bucket string, n int, grew bool) error {
	f := "b." + fieldKey(bucket)
	var update bson.D
	switch {
	case grew:
		update = bson.D{{Key: "$max", Value: bson.D{{Key: f, Value: n}}}}
	case n <= 0:
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: f, Value: ""}}}}
	default:
		update = bson.D{{Key: "$set", Value: bson.D{{Key: f, Value: n}}}}
	}
	_, err := db.coll(colLists).UpdateOne(ctx, bson.D{{Key: "_id", Value: name}}, update, options.UpdateOne().SetUpsert(grew))
	if err != nil {
		return fmt.Errorf("store: list %s directory: %w", name, err)
	}
	return nil
}

func rawInt(v bson.RawValue) int {
	switch v.Type {
	case bson.TypeInt32:
		return int(v.Int32())
	case bson.TypeInt64:
		return int(v.Int64())
	case bson.TypeDouble:
		return int(v.Double())
	}
	return 0
}

// bucketCount is one bucket of the directory (all its shards).
type bucketCount struct {
	prefix string
	shards []string // bucket names, "<prefix>/<shard>"
	n      int
}

// directory returns the list's buckets in list order.
func (l list) directory(ctx context.Context) ([]bucketCount, error) {
	var d dirDoc
	err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.name}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", l.name, err)
	}
	by := map[string]*bucketCount{}
	for k, n := range d.Buckets {
		b := unfieldKey(k)
		i := strings.LastIndexByte(b, '/')
		if i < 0 {
			continue
		}
		p := b[:i]
		if n < 0 {
			continue
		}
		bc := by[p]
		if bc == nil {
			bc = &bucketCount{prefix: p}
			by[p] = bc
		}
		bc.shards = append(bc.shards, b)
		bc.n += n
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
		var d bucketDoc
		err := l.db.coll(colLists).FindOne(ctx, bson.D{{Key: "_id", Value: l.bucketID(shard)}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: list %s bucket %s: %w", l.name, shard, err)
		}
		for k, raw := range d.Rows {
			var sr storedRow
			if err := bson.Unmarshal(raw, &sr); err != nil {
				return nil, fmt.Errorf("store: list %s row %s: %w", l.name, k, err)
			}
			rows = append(rows, Row{Key: unfieldKey(k), Sort: sr.Sort, Data: sr.Data})
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

// DropBucket deletes a whole bucket (every shard) and its directory entry.
func (l list) DropBucket(ctx context.Context, prefix string) error {
	for s := 0; s < l.spec.shards; s++ {
		b := prefix + "/" + strconv.Itoa(s)
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
