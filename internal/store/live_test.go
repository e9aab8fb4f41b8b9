package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestTheLastPlaceGoesToExactlyOnePerson: a session with one place left;
// 50 learners book it at once: exactly one gets it, 49 are on the waiting
// list in the order they came; a cancellation offers the place to the
// first of them, who confirms; the session is listed among the upcoming
// and each person's own.
func TestTheLastPlaceGoesToExactlyOnePerson(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := &live.Service{Store: e.DB, Now: clock}
	admin := &auth.User{ID: "admin", Name: "Ada Admin", Roles: []auth.Role{auth.RoleAdmin}}
	s, err := svc.Create(ctx, admin, "", live.SessionForm{Title: "Care proceedings", Date: "2027-03-25", StartTime: "09:30", EndTime: "16:00",
		Mode: live.InPerson, Venue: "Hall", Capacity: "3"})
	if err != nil {
		t.Fatal(err)
	}
	person := func(i int) *auth.User {
		return &auth.User{ID: fmt.Sprintf("u%02d", i), Name: fmt.Sprintf("Learner %02d", i), Email: fmt.Sprintf("l%02d@example.org", i), Roles: []auth.Role{auth.RoleLearner}}
	}
	for i := range 2 {
		if st, err := svc.Book(ctx, person(i), person(i), s.ID, live.BookForm{}); err != nil || st != live.Booked {
			t.Fatalf("booking %d: %s, %v", i, st, err)
		}
	}
	var wg sync.WaitGroup
	got := make([]string, 50)
	errc := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := person(10 + i)
			st, err := svc.Book(ctx, u, u, s.ID, live.BookForm{})
			got[i] = st
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	booked, waiting := 0, 0
	for _, st := range got {
		switch st {
		case live.Booked:
			booked++
		case live.Waiting:
			waiting++
		}
	}
	after, err := svc.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if booked != 1 || waiting != 49 || after.Taken() != 3 || len(after.Queue()) != 49 {
		t.Fatalf("50 at once for the last place: %d booked, %d waiting; the session holds %d places and %d waiting", booked, waiting, after.Taken(), len(after.Queue()))
	}
	first := after.Queue()[0].UserID
	if err := svc.Cancel(ctx, person(0), s.ID, "u00"); err != nil {
		t.Fatal(err)
	}
	after, _ = svc.Session(ctx, s.ID)
	if b := after.Bookings[first]; b.Status != live.Offered {
		t.Fatalf("the first waiting after a cancellation: %s", b.Status)
	}
	firstUser := &auth.User{ID: first}
	if err := svc.Confirm(ctx, firstUser, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Confirm(ctx, person(11), s.ID); err == nil && first != "u11" {
		t.Fatal("someone not offered a place confirmed one")
	}
	up, err := svc.Upcoming(ctx, 10)
	if err != nil || len(up) != 1 || up[0].ID != s.ID || up[0].Taken() != 3 {
		t.Fatalf("upcoming: %v, %v", up, err)
	}
	mine, err := svc.Mine(ctx, first)
	if err != nil || len(mine) != 1 || mine[0].Bookings[first].Status != live.Booked {
		t.Fatalf("the person's own sessions: %v, %v", mine, err)
	}
	// A manager books only their own organisation's people.
	m := &auth.User{ID: "m", Name: "Max Manager", OrgID: "org-a", Roles: []auth.Role{auth.RoleManager}}
	stranger := &auth.User{ID: "x", Name: "X", OrgID: "org-b"}
	if _, err := svc.Book(ctx, m, stranger, s.ID, live.BookForm{}); err == nil {
		t.Fatal("a manager booked someone of another organisation")
	}
}
