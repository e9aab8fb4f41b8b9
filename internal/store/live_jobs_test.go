package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/testenv"
)

// liveClock is a clock two runners share, moved by the test.
type liveClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *liveClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *liveClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// kinds counts one person's messages by kind, and returns the subjects.
func liveMail(t *testing.T, e *testenv.Env, email string) (map[string]int, []notify.Message) {
	t.Helper()
	msgs, _, err := e.DB.Messages(context.Background(), email, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, m := range msgs {
		n[m.Kind]++
	}
	return n, msgs
}

// TestLiveRemindersGoOnceAcrossTwoRunners: a session 10 days ahead with
// three people booked; two job runners each run the hourly jobs at the
// same moments for eleven days: each person gets the 7-day reminder once,
// within the hour after 7 days before, and the 1-day reminder once; a
// person who books after the 7-day reminder gets only the 1-day one. A
// change of time then tells everyone at once with an updated invitation
// (same UID, SEQUENCE 1);
// the access and dietary needs are deleted 30 days after the end, not
// before.
func TestLiveRemindersGoOnceAcrossTwoRunners(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	clock := &liveClock{now: time.Date(2027, 3, 15, 8, 0, 0, 0, time.UTC)}
	box, err := secrets.NewBox([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	runner := func() *live.Service {
		return &live.Service{Store: e.DB, Box: box, Mail: notify.NewMailer(e.DB, nil, clock.Now, nil), Now: clock.Now, BaseURL: "https://lms.example", Log: testenv.Logger(t)}
	}
	a, b := runner(), runner()
	trainer := &auth.User{ID: "trainer", Name: "Tess Trainer", Roles: []auth.Role{auth.RoleTrainer}}
	// 25 March 2027, 09:30 London is GMT; the clocks go forward on the 28th.
	form := live.SessionForm{Title: "Section 47 enquiries", Date: "2027-03-25", StartTime: "09:30", EndTime: "12:30", Mode: live.InPerson,
		Venue: "Friends Meeting House", Capacity: "10", CPDHours: "3"}
	s, err := a.Create(ctx, trainer, "", form)
	if err != nil {
		t.Fatal(err)
	}
	person := func(i int) *auth.User {
		return &auth.User{ID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.org", i), Roles: []auth.Role{auth.RoleLearner}}
	}
	for i := range 3 {
		if _, err := a.Book(ctx, person(i), person(i), s.ID, live.BookForm{Access: "Step-free access, please", Dietary: "Vegan"}); err != nil {
			t.Fatal(err)
		}
	}
	both := func() {
		var wg sync.WaitGroup
		for _, r := range []*live.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, job := range []func(context.Context) (int, error){r.Lapse, r.Remind, r.EraseNeeds} {
					if _, err := job(ctx); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	first7d := time.Time{}
	for clock.Now().Before(s.Start) {
		both()
		if n, _ := liveMail(t, e, "p0@example.org"); n["live-remind-7d"] == 1 && first7d.IsZero() {
			first7d = clock.Now()
		}
		if clock.Now().Equal(time.Date(2027, 3, 20, 8, 0, 0, 0, time.UTC)) { // after the 7-day reminder
			if _, err := a.Book(ctx, person(3), person(3), s.ID, live.BookForm{}); err != nil {
				t.Fatal(err)
			}
		}
		clock.advance(time.Hour)
	}
	if want := s.Start.Add(-7 * 24 * time.Hour); first7d.Before(want) || first7d.After(want.Add(time.Hour)) {
		t.Errorf("the 7-day reminder went at %s; the session starts %s", first7d, s.Start)
	}
	for i := range 4 {
		n, _ := liveMail(t, e, person(i).Email)
		want7 := map[bool]int{true: 0, false: 1}[i == 3]
		if n["live-remind-7d"] != want7 || n["live-remind-1d"] != 1 {
			t.Errorf("%s got %d 7-day and %d 1-day reminders, want %d and 1", person(i).Name, n["live-remind-7d"], n["live-remind-1d"], want7)
		}
	}

	// A session changed: everyone booked is told once, with the updated
	// invitation; the reminders go again before the new start.
	later, err := a.Create(ctx, trainer, "", live.SessionForm{Title: "Child protection conferences", Date: "2027-04-20", StartTime: "10:00", EndTime: "13:00",
		Mode: live.InPerson, Venue: "Room 1", Capacity: "5"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := a.Book(ctx, person(i), person(i), later.ID, live.BookForm{}); err != nil {
			t.Fatal(err)
		}
	}
	form2 := live.SessionForm{Title: "Child protection conferences", Date: "2027-04-22", StartTime: "14:00", EndTime: "17:00", Mode: live.InPerson,
		Venue: "Room 2", Capacity: "5"}
	changed, err := a.Change(ctx, trainer, later.ID, form2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Change(ctx, trainer, later.ID, form2); err != nil { // the same change again: nobody told twice
		t.Fatal(err)
	}
	if changed.Sequence != 1 {
		t.Fatalf("a change of time and room: SEQUENCE %d, want 1", changed.Sequence)
	}
	for i := range 2 {
		n, msgs := liveMail(t, e, person(i).Email)
		if n["live-changed"] != 1 {
			t.Fatalf("%s was told of the change %d times", person(i).Name, n["live-changed"])
		}
		for _, m := range msgs {
			if m.Kind != "live-changed" {
				continue
			}
			cal, err := ics.ParseCalendar(strings.NewReader(m.Calendar))
			if err != nil {
				t.Fatal(err)
			}
			ev := cal.Events()[0]
			start, _ := ev.GetStartAt()
			if ev.Id() != later.ID+"@live.lms" || ev.GetProperty(ics.ComponentPropertySequence).Value != "1" ||
				!start.Equal(time.Date(2027, 4, 22, 13, 0, 0, 0, time.UTC)) || !strings.Contains(ev.GetProperty(ics.ComponentPropertyLocation).Value, "Room 2") {
				t.Fatalf("the updated invitation: %s", m.Calendar)
			}
		}
	}
	if list, _ := e.DB.PersonLiveSessions(ctx, "p0"); len(list) != 2 || !list[1].Start.Equal(changed.Start) {
		t.Fatalf("the person's list after the change: %d sessions", len(list))
	}

	// The needs of the first session are kept 30 days after its end.
	clock.now = s.End.Add(30*24*time.Hour - time.Hour)
	both()
	kept, _ := a.Session(ctx, s.ID)
	if acc, _ := a.Needs(kept, kept.Bookings["p0"]); acc != "Step-free access, please" {
		t.Fatalf("needs deleted before 30 days: %q", acc)
	}
	clock.advance(2 * time.Hour)
	both()
	gone, _ := a.Session(ctx, s.ID)
	if acc, diet := a.Needs(gone, gone.Bookings["p0"]); acc != "" || diet != "" || gone.NeedsErased == nil || gone.Bookings["p0"].Access != "" {
		t.Fatalf("needs kept past 30 days: %q %q", acc, diet)
	}
}
