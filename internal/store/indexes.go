package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Every query the store sends is one of three kinds, on MongoDB as on the
// embedded FerretDB:
//
//   - a point read or write: the filter has _id equal to one value (other
//     conditions on that one document may follow);
//   - a read of a collection bounded by the organisation's size (its
//     organisations, advocates and their dashboards, DBS scans awaiting
//     deletion) or of a work queue (empty when there is no work);
//   - a query served by a secondary index declared below.
//
// CheckQuery says which, and the tests record every command the store sends
// (internal/testenv) and fail on any that is none of them: a query that
// would scan a collection growing with people or time cannot be added
// without being noticed, on either engine.
var indexes = map[string][]mongo.IndexModel{
	colDBSScans: {{Keys: bson.D{{Key: "delete_after", Value: 1}}}},
}

// bounded lists the collections whose size is bounded by the
// organisation's (or, for work queues, by the work pending), which may be
// read whole.
func bounded(coll string) bool {
	switch coll {
	case colOrgs, colAdvocates, colRollups, colTrends, colDBSScans, colLeases, "meta":
		return true
	}
	return strings.HasPrefix(coll, "work_")
}

// EnsureIndexes creates every index in the list; existing ones are left
// alone. Indexes are created one at a time: FerretDB v1.24's createIndexes
// panics when a single command names two or more indexes that already exist
// (validateIndexesForCreation deletes from a slice by stale position).
func (db *DB) EnsureIndexes(ctx context.Context) error {
	for coll, models := range indexes {
		for _, m := range models {
			if _, err := db.coll(coll).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("store: index on %s: %w", coll, err)
			}
		}
	}
	return nil
}

// CheckQuery reports (as an error saying why) a query on coll with this
// filter and sort that is not a point operation, a read of a bounded
// collection or served by a declared index.
func CheckQuery(coll string, filter, sort bson.Raw) error {
	if bounded(coll) || pointFilter(filter) {
		return nil
	}
	fields, err := filterFields(filter)
	if err != nil {
		return err
	}
	var sortKeys []string
	if len(sort) > 0 {
		elems, _ := sort.Elements()
		for _, e := range elems {
			sortKeys = append(sortKeys, e.Key())
		}
	}
	if len(fields) == 0 && len(sortKeys) == 0 {
		return fmt.Errorf("reads the whole of %s, which grows with people or time", coll)
	}
	for _, m := range indexes[coll] {
		keys := m.Keys.(bson.D)
		var names []string
		for _, k := range keys {
			names = append(names, k.Key)
		}
		// The filter's fields are the index's first keys, and the sort
		// (if any) continues it.
		if len(fields) > len(names) {
			continue
		}
		prefix := slices.Clone(names[:len(fields)])
		slices.Sort(prefix)
		if !slices.Equal(prefix, fields) {
			continue
		}
		rest := names[len(fields):]
		if len(sortKeys) <= len(rest) && slices.Equal(rest[:len(sortKeys)], sortKeys) {
			return nil
		}
	}
	return fmt.Errorf("filter on %v, sort %v: no index on %s serves it", fields, sortKeys, coll)
}

// pointFilter reports whether the filter selects one document by _id.
func pointFilter(filter bson.Raw) bool {
	v, err := filter.LookupErr("_id")
	if err != nil {
		return false
	}
	switch v.Type {
	case bson.TypeString, bson.TypeObjectID, bson.TypeInt32, bson.TypeInt64:
		return true
	}
	return false
}

// filterFields returns the fields a filter tests, sorted.
func filterFields(filter bson.Raw) ([]string, error) {
	seen := map[string]bool{}
	var walk func(d bson.Raw) error
	walk = func(d bson.Raw) error {
		elems, err := d.Elements()
		if err != nil {
			return err
		}
		for _, e := range elems {
			k := e.Key()
			if k == "$and" || k == "$or" || k == "$nor" {
				arr, ok := e.Value().ArrayOK()
				if !ok {
					continue
				}
				vals, _ := arr.Values()
				for _, v := range vals {
					if sub, ok := v.DocumentOK(); ok {
						if err := walk(sub); err != nil {
							return err
						}
					}
				}
				continue
			}
			seen[k] = true
		}
		return nil
	}
	if len(filter) > 0 {
		if err := walk(filter); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}
