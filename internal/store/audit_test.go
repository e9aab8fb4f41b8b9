package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestAuditViewFiltersAndPages writes events over several days by several
// actors and checks each filter, the totals and that following the
// cursors visits every match once, newest first.
func TestAuditViewFiltersAndPages(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	actors := []struct{ id, name string }{{"m1", "Maria López"}, {"a1", "Adam Admin"}, {"system", "Retention job"}}
	for i := 0; i < 120; i++ {
		a := actors[i%3]
		action := []string{"cpd.create", "cpd.delete", "certificate.revoke", "dbs.reveal_number"}[i%4]
		ev := &audit.Event{ID: fmt.Sprintf("ev%03d", i), At: start.Add(time.Duration(i) * 7 * time.Hour), ActorID: a.id, Actor: a.name,
			Action: action, Target: fmt.Sprintf("advocate:adv%d", i%5), OrgID: "org"}
		if err := e.DB.InsertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	all := func(q audit.Query) ([]string, int) {
		t.Helper()
		var ids []string
		total := -2
		for page := 0; page < 100; page++ {
			evs, tot, next, err := store.TestingEvents(e.DB, ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if total == -2 {
				total = tot
			}
			for i, ev := range evs {
				ids = append(ids, ev.ID)
				if i > 0 && ev.At.After(evs[i-1].At) {
					t.Fatalf("page not newest first: %v after %v", ev.At, evs[i-1].At)
				}
			}
			if next == "" {
				return ids, total
			}
			q.Before = next
		}
		t.Fatal("cursor never ended")
		return nil, 0
	}
	check := func(name string, q audit.Query, want func(i int) bool, wantTotal int) {
		t.Run(name+"/SmallBudget", func(t *testing.T) {
			// Pages that stop at the scan budget still visit every match.
			defer store.SetAuditScanBudget(6)()
			q.Limit = 7
			ids, _ := all(q)
			var exp []string
			for i := 119; i >= 0; i-- {
				if want(i) {
					exp = append(exp, fmt.Sprintf("ev%03d", i))
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(exp) {
				t.Fatalf("got %d events %v\nwant %d %v", len(ids), ids, len(exp), exp)
			}
		})
		t.Run(name, func(t *testing.T) {
			q.Limit = 7
			ids, total := all(q)
			var exp []string
			for i := 119; i >= 0; i-- {
				if want(i) {
					exp = append(exp, fmt.Sprintf("ev%03d", i))
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(exp) {
				t.Fatalf("got %d events %v\nwant %d %v", len(ids), ids, len(exp), exp)
			}
			if total != wantTotal {
				t.Fatalf("total %d, want %d", total, wantTotal)
			}
		})
	}
	check("Everything", audit.Query{}, func(int) bool { return true }, 120)
	check("ByTarget", audit.Query{Target: "advocate:adv2"}, func(i int) bool { return i%5 == 2 }, 24)
	check("ByActorID", audit.Query{ActorID: "a1"}, func(i int) bool { return i%3 == 1 }, 40)
	check("ByPartOfName", audit.Query{Actor: "lópez"}, func(i int) bool { return i%3 == 0 }, -1)
	check("SystemActorByName", audit.Query{Actor: "RETENTION"}, func(i int) bool { return i%3 == 2 }, -1)
	check("ByActionPrefix", audit.Query{Action: "cpd."}, func(i int) bool { return i%4 < 2 }, -1)
	from, to := start.Add(100*time.Hour), start.Add(300*time.Hour)
	check("ByDates", audit.Query{From: from, To: to}, func(i int) bool {
		at := start.Add(time.Duration(i) * 7 * time.Hour)
		return !at.Before(from) && at.Before(to)
	}, -1)
	check("TargetAndAction", audit.Query{Target: "advocate:adv1", Action: "cpd.delete"}, func(i int) bool { return i%5 == 1 && i%4 == 1 }, 6)
	check("NobodyByThatName", audit.Query{Actor: "nobody"}, func(int) bool { return false }, 0)
}
