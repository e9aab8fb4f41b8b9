package testenv

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/family-advocacy/lms/internal/store"
)

// Every database a test opens through New reports the commands it is sent
// here; each query's filter and sort is checked with store.CheckQuery as
// it goes, and Main fails the run if any was not served by _id, a bounded
// collection or a declared index.
var queries struct {
	mu  sync.Mutex
	bad map[string]string // problem → an example command
}

var queryMonitor = &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
	if c, _ := e.Command.Lookup("comment").StringValueOK(); c == TestOnly || c == store.UpgradeComment {
		return
	}
	for _, q := range queriesOf(e.CommandName, e.Command) {
		if err := store.CheckQuery(q.coll, q.filter, q.sort); err != nil {
			key := q.coll + ": " + e.CommandName + ": " + err.Error()
			queries.mu.Lock()
			if queries.bad == nil {
				queries.bad = map[string]string{}
			}
			if _, ok := queries.bad[key]; !ok {
				queries.bad[key] = e.Command.String()
			}
			queries.mu.Unlock()
		}
	}
}}

// TestOnly, as a command's comment, marks a query a test makes to look at
// the database as a whole (not a query of the application's): it is not
// checked.
const TestOnly = "test only"

type query struct {
	coll         string
	filter, sort bson.Raw
}

// queriesOf returns the queries in one command.
func queriesOf(name string, cmd bson.Raw) []query {
	str := func(k string) string { v, _ := cmd.Lookup(k).StringValueOK(); return v }
	doc := func(v bson.RawValue) bson.Raw { d, _ := v.DocumentOK(); return d }
	each := func(arrKey, qKey string) []query {
		arr, ok := cmd.Lookup(arrKey).ArrayOK()
		if !ok {
			return nil
		}
		vals, _ := arr.Values()
		var out []query
		for _, v := range vals {
			out = append(out, query{coll: str(name), filter: doc(doc(v).Lookup(qKey))})
		}
		return out
	}
	switch name {
	case "find":
		return []query{{coll: str("find"), filter: doc(cmd.Lookup("filter")), sort: doc(cmd.Lookup("sort"))}}
	case "count":
		return []query{{coll: str("count"), filter: doc(cmd.Lookup("query"))}}
	case "distinct":
		return []query{{coll: str("distinct"), filter: doc(cmd.Lookup("query"))}}
	case "findAndModify":
		return []query{{coll: str("findAndModify"), filter: doc(cmd.Lookup("query")), sort: doc(cmd.Lookup("sort"))}}
	case "update":
		return each("updates", "q")
	case "delete":
		return each("deletes", "q")
	case "aggregate":
		arr, ok := cmd.Lookup("pipeline").ArrayOK()
		if !ok {
			return nil
		}
		vals, _ := arr.Values()
		q := query{coll: str("aggregate")}
		if len(vals) > 0 {
			q.filter = doc(doc(vals[0]).Lookup("$match"))
		}
		return []query{q}
	}
	return nil
}

// badQueries lists the problems found, with an example command each.
func badQueries() []string {
	queries.mu.Lock()
	defer queries.mu.Unlock()
	var out []string
	for k, ex := range queries.bad {
		if len(ex) > 300 {
			ex = ex[:300] + "…"
		}
		out = append(out, fmt.Sprintf("%s\n      e.g. %s", k, ex))
	}
	slices.Sort(out)
	return out
}
