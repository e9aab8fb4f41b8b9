package live

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

func session(capacity int, start time.Time) *Session {
	return &Session{ID: "s1", Title: "Care proceedings: a day for advocates", Start: start, End: start.Add(6 * time.Hour), Mode: InPerson,
		Venue: "Friends Meeting House", Address: "6 Mount Street, Manchester", Capacity: capacity, Closes: start, CancelHours: 24, Bookings: map[string]*Booking{}}
}

// TestBookingRules: places go in order, then the waiting list; a
// cancellation offers the place to the first waiting, who has 48 hours
// (never past the start) to confirm, then it goes to the next.
func TestBookingRules(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	s := session(3, now.Add(10*24*time.Hour))
	for i, who := range []string{"ann", "bob", "cat", "dan", "eve"} {
		got := s.book(&Booking{UserID: who, Name: who}, now.Add(time.Duration(i)*time.Minute))
		want := map[bool]string{true: Booked, false: Waiting}[i < 3]
		if got != want {
			t.Fatalf("%s: %s, want %s", who, got, want)
		}
	}
	if s.book(&Booking{UserID: "ann"}, now) != Booked || s.Taken() != 3 || len(s.Queue()) != 2 || s.Queue()[0].UserID != "dan" {
		t.Fatalf("after five bookings: taken %d, queue %v", s.Taken(), s.Queue())
	}
	offered := s.cancel("bob", now.Add(time.Hour))
	if len(offered) != 1 || offered[0].UserID != "dan" || s.Bookings["dan"].Status != Offered || !s.Bookings["dan"].Until.Equal(now.Add(49*time.Hour)) {
		t.Fatalf("a cancellation offered %v", offered)
	}
	if s.Left() != 0 || s.book(&Booking{UserID: "fay"}, now.Add(2*time.Hour)) != Waiting {
		t.Fatal("the offered place was given to a newcomer")
	}
	// Dan lets the offer lapse: Eve is offered it; she confirms in time.
	if s.confirm("eve", now.Add(3*time.Hour)) {
		t.Fatal("Eve confirmed a place not offered to her")
	}
	lapsed, next := s.lapse(now.Add(50 * time.Hour))
	if len(lapsed) != 1 || lapsed[0].UserID != "dan" || len(next) != 1 || next[0].UserID != "eve" {
		t.Fatalf("lapse: %v then %v", lapsed, next)
	}
	if !s.confirm("eve", now.Add(51*time.Hour)) || s.Bookings["eve"].Status != Booked || s.Taken() != 3 {
		t.Fatal("Eve could not confirm her offer")
	}
	// An offer made the day before the start ends at the start.
	late := session(1, now.Add(20*time.Hour))
	late.book(&Booking{UserID: "a"}, now)
	late.book(&Booking{UserID: "b"}, now)
	if off := late.cancel("a", now); len(off) != 1 || !off[0].Until.Equal(late.Start) {
		t.Fatalf("a late offer lasts until %v, want the start %v", off[0].Until, late.Start)
	}
	if late.CanCancel(now) {
		t.Fatal("a booking 20 hours before the start may be cancelled, though the cut-off is 24 hours")
	}
}

// TestInvitationsAreRightInUTCAcrossTheClockChange: a session on the
// Saturday after the clocks go forward (09:30 London = 08:30 UTC) and one
// before it (09:30 = 09:30 UTC); the invitation parses, keeps the UID,
// and a cancellation is METHOD:CANCEL with a higher SEQUENCE.
func TestInvitationsAreRightInUTCAcrossTheClockChange(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		day  civil.Date
		utc  string
		desc string
	}{{civil.New(2027, 3, 27), "20270327T093000Z", "before the clocks change"}, {civil.New(2027, 4, 3), "20270403T083000Z", "after"}} {
		start, err := wallClock(c.day, "09:30")
		if err != nil {
			t.Fatal(err)
		}
		s := session(10, start.UTC())
		s.Sequence = 2
		b := &Booking{UserID: "ann", Name: "Ann Parent-Advocate", Email: "ann@example.org", Status: Booked}
		s.Bookings["ann"] = b
		text := Invitation(s, b, "training@example.org", "https://lms.example", now)
		cal, err := ics.ParseCalendar(strings.NewReader(text))
		if err != nil {
			t.Fatalf("%s: the invitation does not parse: %v\n%s", c.desc, err, text)
		}
		evs := cal.Events()
		if len(evs) != 1 || evs[0].Id() != "s1@live.lms" || !strings.Contains(text, "METHOD:REQUEST") || !strings.Contains(text, "SEQUENCE:2") {
			t.Fatalf("%s: %s", c.desc, text)
		}
		if got := evs[0].GetProperty(ics.ComponentPropertyDtStart).Value; got != c.utc {
			t.Errorf("%s: DTSTART %s, want %s", c.desc, got, c.utc)
		}
		b.Status = Cancelled
		text = Invitation(s, b, "training@example.org", "https://lms.example", now)
		if !strings.Contains(text, "METHOD:CANCEL") || !strings.Contains(text, "SEQUENCE:3") || !strings.Contains(text, "UID:s1@live.lms") || !strings.Contains(text, "STATUS:CANCELLED") {
			t.Errorf("%s: the cancellation: %s", c.desc, text)
		}
	}
}

// TestSessionFormChecksWhatWasTyped: times are London wall-clock times;
// bad values are field messages.
func TestSessionFormChecksWhatWasTyped(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	f := SessionForm{Title: "Care proceedings", Date: "2027-04-03", StartTime: "09:30", EndTime: "16:00", Mode: InPerson, Venue: "Hall", Capacity: "3", CPDHours: "5.5"}
	s, err := f.check(now)
	if err != nil || s.Start.Format(time.RFC3339) != "2027-04-03T08:30:00Z" || s.End.Sub(s.Start) != 390*time.Minute || s.CPDHours != 5.5 || s.Capacity != 3 {
		t.Fatalf("check: %+v, %v", s, err)
	}
	bad := SessionForm{Title: "", Date: "2027-02-30", StartTime: "25:00", Mode: "boat", Capacity: "NaN", CPDHours: "NaN", CancelHours: "-1"}
	_, err = bad.check(now)
	fe := errs.Fields(err)
	for _, want := range []string{"title", "date", "mode", "capacity", "cpd_hours", "cancel_hours"} {
		if fe[want] == "" {
			t.Errorf("a bad %s is not reported: %v", want, fe)
		}
	}
	online := SessionForm{Title: "Webinar", Date: "2027-04-03", StartTime: "12:00", EndTime: "13:00", Mode: Online, JoinURL: "http://insecure.example", Capacity: "100"}
	if _, err := online.check(now); errs.Fields(err)["join_url"] == "" {
		t.Errorf("an http joining link: %v", err)
	}
}
