// Package live runs live training: events (linked to a course or on their
// own) with sessions in a room or online, booked by learners up to each
// session's capacity, with a waiting list that fills a place given up.
//
// A session and everything booked on it is one document, changed by one
// versioned read-modify-write: however many people book the last place at
// once, exactly one gets it and the others are offered the waiting list.
// The booking rules are pure functions of the session (this file), tested
// on their own.
package live

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Modes of a session.
const (
	InPerson = "in-person"
	Online   = "online"
)

// Booking states.
const (
	Booked    = "booked"    // has a place
	Waiting   = "waiting"   // on the waiting list, in order
	Offered   = "offered"   // promoted from the waiting list: confirm within OfferHours
	Cancelled = "cancelled" // gave up their place or let an offer lapse
)

// Attendance marks on the register.
const (
	Present   = "present"    // attended the whole session: CPD hours and a certificate
	LeftEarly = "left-early" // attended part: CPD for the minutes attended, no certificate
	Absent    = "absent"     // booked and did not come: a no-show
)

// Hand-over steps an attendance mark still needs (Booking.Pending).
const (
	PendingCertificate = "certificate"
	PendingCPD         = "cpd"
)

// NeedsKeptDays is how long after a session its bookings' access and
// dietary needs are kept.
const NeedsKeptDays = 30

// Reminders sent before a session, by name: how long before the start.
var Reminders = []struct {
	Name   string
	Before time.Duration
}{{"7d", 7 * 24 * time.Hour}, {"1d", 24 * time.Hour}}

// OfferHours is how long a person promoted from the waiting list has to
// confirm their place.
const OfferHours = 48

// Session is one sitting of a live event, with its bookings.
type Session struct {
	ID          string     `bson:"_id"`
	EventID     string     `bson:"event_id"`
	Title       string     `bson:"title"` // the event's, for lists and emails
	Description string     `bson:"description,omitempty"`
	Course      string     `bson:"course"` // the linked course, if any
	Audiences   []string   `bson:"audiences,omitempty"`
	CPDHours    float64    `bson:"cpd_hours"`
	Certificate bool       `bson:"certificate"`
	ValidMonths int        `bson:"valid_months,omitempty"` // a certificate's validity (0: does not expire)
	Start       time.Time  `bson:"start"`                  // UTC
	End         time.Time  `bson:"end"`
	Mode        string     `bson:"mode"`
	Venue       string     `bson:"venue,omitempty"`
	Address     string     `bson:"address,omitempty"`
	Access      string     `bson:"access,omitempty"`   // access notes for the venue
	JoinURL     string     `bson:"join_url,omitempty"` // online: shown to booked people from an hour before
	Capacity    int        `bson:"capacity"`
	Trainers    []string   `bson:"trainers,omitempty"` // user IDs
	Opens       *time.Time `bson:"opens,omitempty"`    // booking opens (nil: at once)
	Closes      time.Time  `bson:"closes"`             // booking closes
	// CancelHours: a booking may be cancelled up to this many hours
	// before the start.
	CancelHours int `bson:"cancel_hours"`
	// Sequence counts the changes people were told of (the iCalendar
	// SEQUENCE of its invitations).
	Sequence  int                 `bson:"sequence"`
	Cancelled *time.Time          `bson:"cancelled,omitempty"`
	Bookings  map[string]*Booking `bson:"bookings"` // by user ID
	Created   time.Time           `bson:"created"`
	// Reminded records the reminders sent (by Reminders' name) for the
	// start they were sent for; a change of time sends them again.
	Reminded map[string]time.Time `bson:"reminded,omitempty"`
	// NeedsErased is set once the bookings' access and dietary needs were
	// deleted, NeedsKeptDays after the end.
	NeedsErased *time.Time `bson:"needs_erased,omitempty"`
}

// Booking is one person's place (or wait) on a session.
type Booking struct {
	UserID  string     `bson:"user_id"`
	Name    string     `bson:"name"`
	Email   string     `bson:"email"`
	OrgID   string     `bson:"org_id,omitempty"`
	Status  string     `bson:"status"`
	At      time.Time  `bson:"at"`                // when they booked or joined the list: the list's order
	Until   *time.Time `bson:"until,omitempty"`   // an offer's deadline
	By      string     `bson:"by,omitempty"`      // the manager who booked them, if not themselves
	Access  string     `bson:"access,omitempty"`  // sealed: access needs
	Dietary string     `bson:"dietary,omitempty"` // sealed: dietary needs

	// The register: Attendance is Present, LeftEarly (Minutes attended)
	// or Absent, marked by MarkedBy at Marked.
	Attendance string     `bson:"attendance,omitempty"`
	Minutes    int        `bson:"minutes,omitempty"`
	Marked     *time.Time `bson:"marked,omitempty"`
	MarkedBy   string     `bson:"marked_by,omitempty"`
	// Pending lists the hand-over still to do for an attendance mark
	// (PendingCertificate, PendingCPD), set in the same write as the mark.
	Pending     []string `bson:"pending,omitempty"`
	Certificate string   `bson:"certificate,omitempty"` // the certificate's code, once issued
}

// Taken counts the places held: booked, and offered but not yet confirmed.
func (s *Session) Taken() int {
	n := 0
	for _, b := range s.Bookings {
		if b.Status == Booked || b.Status == Offered {
			n++
		}
	}
	return n
}

// Left is how many places are free.
func (s *Session) Left() int { return max(0, s.Capacity-s.Taken()) }

// Queue returns the waiting list in order.
func (s *Session) Queue() []*Booking {
	var q []*Booking
	for _, b := range s.Bookings {
		if b.Status == Waiting {
			q = append(q, b)
		}
	}
	slices.SortFunc(q, func(a, b *Booking) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	return q
}

// With returns the people with a status, by name.
func (s *Session) With(status string) []*Booking {
	var out []*Booking
	for _, b := range s.Bookings {
		if b.Status == status {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b *Booking) int { return cmp.Compare(a.Name+a.UserID, b.Name+b.UserID) })
	return out
}

// book gives the person a place if one is free, or a place on the waiting
// list (waitlist) if not; it reports the status they end with.
func (s *Session) book(b *Booking, now time.Time) string {
	if cur := s.Bookings[b.UserID]; cur != nil && cur.Status != Cancelled {
		return cur.Status // booked twice: harmless
	}
	b.At = now
	b.Status = Waiting
	if s.Left() > 0 && len(s.Queue()) == 0 {
		b.Status = Booked
	}
	if s.Bookings == nil {
		s.Bookings = map[string]*Booking{}
	}
	s.Bookings[b.UserID] = b
	return b.Status
}

// cancel gives up a person's place or wait and offers any freed place to
// the first on the waiting list; it returns who was offered it.
func (s *Session) cancel(userID string, now time.Time) []*Booking {
	if b := s.Bookings[userID]; b != nil && b.Status != Cancelled {
		b.Status, b.Until = Cancelled, nil
	}
	return s.promote(now)
}

// promote offers each free place to the next person waiting, with
// OfferHours to confirm, and returns them.
func (s *Session) promote(now time.Time) []*Booking {
	var offered []*Booking
	for s.Left() > 0 {
		q := s.Queue()
		if len(q) == 0 {
			break
		}
		until := now.Add(OfferHours * time.Hour)
		if !until.Before(s.Start) { // the offer cannot outlast the start
			until = s.Start
		}
		q[0].Status, q[0].Until = Offered, &until
		offered = append(offered, q[0])
	}
	return offered
}

// confirm turns a person's offer into a place.
func (s *Session) confirm(userID string, now time.Time) bool {
	b := s.Bookings[userID]
	if b == nil || b.Status != Offered || b.Until == nil || !now.Before(*b.Until) {
		return false
	}
	b.Status, b.Until = Booked, nil
	return true
}

// lapse cancels the offers past their deadline and offers the places to
// the next people; it returns who lapsed and who was offered.
func (s *Session) lapse(now time.Time) (lapsed, offered []*Booking) {
	for _, b := range s.Bookings {
		if b.Status == Offered && b.Until != nil && !now.Before(*b.Until) {
			b.Status, b.Until = Cancelled, nil
			lapsed = append(lapsed, b)
		}
	}
	if len(lapsed) == 0 {
		return nil, nil
	}
	return lapsed, s.promote(now)
}

// CanCancel says whether a booking may still be cancelled at now.
func (s *Session) CanCancel(now time.Time) bool {
	return now.Before(s.Start.Add(-time.Duration(s.CancelHours) * time.Hour))
}

// Open says whether the session takes bookings at now.
func (s *Session) Open(now time.Time) bool {
	return s.Cancelled == nil && !s.NotYetOpen(now) && now.Before(s.Closes) && now.Before(s.Start)
}

// NotYetOpen says whether booking has still to open at now.
func (s *Session) NotYetOpen(now time.Time) bool { return s.Opens != nil && now.Before(*s.Opens) }

// ShowJoinLink says whether a booked person sees an online session's
// joining link: from an hour before the start until the end.
func (s *Session) ShowJoinLink(now time.Time) bool {
	return s.Mode == Online && s.JoinURL != "" && !now.Before(s.Start.Add(-time.Hour)) && now.Before(s.End)
}

// Credited is the CPD hours an attendance mark earns: the session's hours
// for Present; for LeftEarly the share of them the minutes attended make
// of the session's length, rounded down to the quarter hour; none
// otherwise.
func (s *Session) Credited(b *Booking) float64 {
	switch b.Attendance {
	case Present:
		return s.CPDHours
	case LeftEarly:
		length := s.End.Sub(s.Start).Minutes()
		if length <= 0 || b.Minutes <= 0 {
			return 0
		}
		h := s.CPDHours * min(1, float64(b.Minutes)/length)
		return math.Floor(h*4) / 4
	}
	return 0
}
