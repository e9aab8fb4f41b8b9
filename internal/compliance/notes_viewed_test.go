package compliance_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
)

// TestNotesViewedOncePerPersonRecordAndDay: showing an advocate's notes
// is audited once per viewer, advocate and London calendar day, however
// often the page is shown (on the real store).
func TestNotesViewedOncePerPersonRecordAndDay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, err := f.svc.Manage(ctx, f.manager, f.advID)
	if err != nil {
		t.Fatal(err)
	}
	view := func(who *auth.User, records ...string) {
		t.Helper()
		if err := f.svc.NotesViewed(ctx, who, a, records); err != nil {
			t.Fatal(err)
		}
	}
	want := func(n int, when string) {
		t.Helper()
		if got := f.events(t, "advocate.notes_viewed"); got != n {
			t.Fatalf("%s: got %d notes-viewed events, want %d", when, got, n)
		}
	}
	view(f.manager, "d1", "r1")
	view(f.manager, "d1", "r1", "s1")
	want(1, "two views the same day")
	f.clock.Advance(13 * time.Hour) // 23:00 in London, the same day
	view(f.manager, "d1")
	want(1, "a view late the same day")
	f.clock.Advance(2 * time.Hour) // past midnight
	view(f.manager, "d1")
	want(2, "a view the next day")
	other := &auth.User{ID: auth.NewID(), Name: "Omar Other", OrgID: "org-a", Roles: []auth.Role{auth.RoleManager}}
	view(other, "d1")
	want(3, "another manager's view")

	// The day is London's: in summer, 23:30 UTC is already the next day.
	f.clock.Set(time.Date(2027, 6, 1, 22, 30, 0, 0, time.UTC)) // 23:30 BST, 1 June
	view(f.manager, "d1")
	want(4, "a view on 1 June")
	f.clock.Set(time.Date(2027, 6, 1, 23, 30, 0, 0, time.UTC)) // 00:30 BST, 2 June
	view(f.manager, "d1")
	want(5, "a view on 2 June, London time")

	// The event kept is the day's first view, naming its records.
	evs, _, err := f.env.DB.Events(ctx, audit.Query{Target: "advocate:" + f.advID, Action: "advocate.notes_viewed", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	first := evs[len(evs)-1]
	if recs := reflect.ValueOf(first.After["records"]); recs.Kind() != reflect.Slice || recs.Len() != 2 || first.ActorID != f.manager.ID {
		t.Fatalf("the first day's event: %v by %s, want d1 and r1 by the manager", first.After["records"], first.ActorID)
	}
}
