package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
)

// The audit trail is read newest first through lists written with each
// event, never by scanning audit_events:
//
//	audit                    every event (bucket: the day)
//	audit@target/<target>    the events about one record (bucket: the month)
//	audit@actor/<actor id>   the events one person caused (bucket: the month)
//	audit@actors             everyone who has caused an event, by name: how
//	                         "part of a name" finds the actors' lists
//
// Sort keys are the time (UTC, fixed width) and the event's ID, so a page
// ends at a cursor and the next page starts after it.
var (
	auditAllSpec   = listSpec{prefix: len("2006-01-02"), desc: true}
	auditOneSpec   = listSpec{prefix: len("2006-01"), desc: true}
	auditActorSpec = listSpec{prefix: 1, uncounted: true}
)

// auditRow is what a filter can decide on without reading the event.
type auditRow struct {
	Action  string `bson:"a"`
	ActorID string `bson:"i,omitempty"`
	Target  string `bson:"t,omitempty"`
	OrgID   string `bson:"o,omitempty"`
}

const timeKeyLayout = "2006-01-02T15:04:05.000000000Z"

func timeKey(t time.Time) string { return t.UTC().Format(timeKeyLayout) }

func auditSort(e *audit.Event) string { return timeKey(e.At) + "/" + e.ID }

func (db *DB) auditAll() list { return db.list("audit", auditAllSpec) }
func (db *DB) auditByTarget(t string) list {
	return db.list("audit@target/"+t, auditOneSpec)
}
func (db *DB) auditByActor(id string) list {
	return db.list("audit@actor/"+id, auditOneSpec)
}
func (db *DB) auditActors() list { return db.list("audit@actors", auditActorSpec) }

// indexEvent enters an event in its lists (before it is inserted).
func (db *DB) indexEvent(ctx context.Context, e *audit.Event) error {
	row := auditRow{Action: e.Action, ActorID: e.ActorID, Target: e.Target, OrgID: e.OrgID}
	sort := auditSort(e)
	lists := []list{db.auditAll()}
	if e.Target != "" {
		lists = append(lists, db.auditByTarget(e.Target))
	}
	if e.ActorID != "" {
		lists = append(lists, db.auditByActor(e.ActorID))
		key := e.ActorID + "\x00" + e.Actor
		if err := db.auditActors().Add(ctx, key, foldName(e.Actor)+"\x00"+key, auditActor{ID: e.ActorID, Name: e.Actor}); err != nil {
			return err
		}
	}
	for _, l := range lists {
		if err := l.Add(ctx, e.ID, sort, row); err != nil {
			return err
		}
	}
	return nil
}

type auditActor struct {
	ID   string `bson:"i"`
	Name string `bson:"n"`
}

// auditScanBudget caps the rows one page examines when filters leave most
// of them out; the page then ends early with a cursor to carry on from.
var auditScanBudget = 4000

// events answers the audit view: a page of events newest first, matching
// every filter of q, starting after q.Before (a cursor from the previous
// page). It returns the events, the total (-1 when a filter makes it
// unknown without reading everything) and the cursor of the next page
// ("" when there is none).
func (db *DB) events(ctx context.Context, q audit.Query) ([]audit.Event, int, string, error) {
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// The narrowest list the filters allow.
	var sources []list
	actorName := strings.ToLower(strings.TrimSpace(q.Actor))
	switch {
	case q.Target != "":
		sources = []list{db.auditByTarget(q.Target)}
	case q.ActorID != "":
		sources = []list{db.auditByActor(q.ActorID)}
	case actorName != "":
		ids, err := db.actorsNamed(ctx, actorName)
		if err != nil {
			return nil, 0, "", err
		}
		for _, id := range ids {
			sources = append(sources, db.auditByActor(id))
		}
		if len(sources) == 0 {
			return nil, 0, "", nil
		}
	default:
		sources = []list{db.auditAll()}
	}
	rowFilter := q.Action != "" || !q.From.IsZero() || !q.To.IsZero() || q.OrgID != "" || (q.Target != "" && q.ActorID != "")
	keep := func(ar auditRow, sort string) bool {
		return (q.Action == "" || strings.HasPrefix(ar.Action, q.Action)) && (q.OrgID == "" || ar.OrgID == q.OrgID) &&
			(q.ActorID == "" || ar.ActorID == q.ActorID) && (q.Target == "" || ar.Target == q.Target) &&
			(q.From.IsZero() || sort >= timeKey(q.From)) && (q.To.IsZero() || sort < timeKey(q.To))
	}
	total := -1
	switch {
	case actorName != "" || len(sources) != 1:
	case !rowFilter:
		n, err := sources[0].Count(ctx)
		if err != nil {
			return nil, 0, "", err
		}
		total = n
	case q.Target != "" || q.ActorID != "":
		// One record's or one person's events: count the matches.
		total = 0
		err := sources[0].Scan(ctx, "", func(r Row) (bool, error) {
			var ar auditRow
			if err := r.Decode(&ar); err != nil {
				return false, err
			}
			if keep(ar, r.Sort) {
				total++
			}
			return true, nil
		})
		if err != nil {
			return nil, 0, "", err
		}
	}
	// Start below the cursor, or below the end of the "to" day.
	from := q.Before
	if !q.To.IsZero() {
		if tk := timeKey(q.To); from == "" || tk < from {
			from = tk
		}
	}
	fromKey := ""
	if !q.From.IsZero() {
		fromKey = timeKey(q.From)
	}
	// Candidates from each source, newest first, up to the budget. A
	// source that stops at its budget is only complete above where it
	// stopped, so the page is cut there and the next one starts from it.
	var rows []Row
	cut := ""
	per := auditScanBudget / len(sources)
	for _, l := range sources {
		n, matches, last := 0, 0, ""
		err := l.Scan(ctx, from, func(r Row) (bool, error) {
			if r.Sort == q.Before {
				return true, nil // the previous page's last
			}
			if fromKey != "" && r.Sort < fromKey {
				return false, nil
			}
			// Enough from this source (a page more than the page), or as
			// many rows as a page may examine: it stops here.
			if n >= per || matches > limit {
				if last > cut {
					cut = last
				}
				return false, nil
			}
			n++
			last = r.Sort
			var ar auditRow
			if err := r.Decode(&ar); err != nil {
				return false, err
			}
			if keep(ar, r.Sort) {
				matches++
				rows = append(rows, r)
			}
			return true, nil
		})
		if err != nil {
			return nil, 0, "", err
		}
	}
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(b.Sort, a.Sort) })
	if cut != "" {
		// Rows below where a source stopped are left for the next page.
		rows = slices.DeleteFunc(rows, func(r Row) bool { return r.Sort < cut })
	}
	evs, err := readRows[audit.Event](ctx, db, colAudit, rows)
	if err != nil {
		return nil, 0, "", err
	}
	var out []audit.Event
	next, lastIncluded := "", ""
	for i, e := range evs {
		if e == nil {
			continue // a row whose event was never written
		}
		if actorName != "" && !strings.Contains(strings.ToLower(e.Actor), actorName) {
			continue
		}
		if len(out) == limit {
			next = lastIncluded
			break
		}
		out = append(out, *e)
		lastIncluded = rows[i].Sort
	}
	if next == "" && cut != "" {
		next = cut
	}
	return out, total, next, nil
}

// actorsNamed returns the IDs of everyone who has acted under a name
// containing part (lower case).
func (db *DB) actorsNamed(ctx context.Context, part string) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	err := db.auditActors().Scan(ctx, "", func(r Row) (bool, error) {
		var a auditActor
		if err := r.Decode(&a); err != nil {
			return false, err
		}
		if strings.Contains(strings.ToLower(a.Name), part) && !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
		return true, nil
	})
	return ids, err
}
