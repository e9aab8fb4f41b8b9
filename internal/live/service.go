package live

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
)

// ErrNoChange, returned by an update function, leaves the session as it
// was.
var ErrNoChange = errors.New("no change")

// Store keeps sessions and the lists that find them.
type Store interface {
	InsertLiveSession(ctx context.Context, s *Session) error
	LiveSession(ctx context.Context, id string) (*Session, error)
	// UpdateLiveSession applies fn to the session in one versioned write
	// (retried from a fresh read if another write came first).
	UpdateLiveSession(ctx context.Context, id string, fn func(s *Session) error) (*Session, error)
	// UpcomingLiveSessions returns sessions starting at or after from,
	// soonest first.
	UpcomingLiveSessions(ctx context.Context, from time.Time, limit int) ([]*Session, error)
	CourseLiveSessions(ctx context.Context, course string, from time.Time, limit int) ([]*Session, error)
	// ListPersonLiveSession remembers that a person booked (or waits for)
	// a session; PersonLiveSessions returns those, soonest first.
	ListPersonLiveSession(ctx context.Context, userID string, s *Session) error
	PersonLiveSessions(ctx context.Context, userID string) ([]*Session, error)
	// LiveFeedGeneration and BumpLiveFeed keep the generation of a
	// person's calendar feed link (a reset revokes the old one).
	LiveFeedGeneration(ctx context.Context, userID string) (int, error)
	BumpLiveFeed(ctx context.Context, userID string) error
	// ForgetPersonLiveSession and DeleteLiveFeed are erasure's.
	ForgetPersonLiveSession(ctx context.Context, userID string, s *Session) error
	DeleteLiveFeed(ctx context.Context, userID string) error

	// RecentLiveSessions returns sessions starting in [from, to), soonest
	// first; RelistLiveSession moves a session whose start changed in its
	// lists (and its people's).
	RecentLiveSessions(ctx context.Context, from, to time.Time, limit int) ([]*Session, error)
	RelistLiveSession(ctx context.Context, old, s *Session) error
	// SetLiveNoShow and LiveNoShows keep the sessions a person missed.
	SetLiveNoShow(ctx context.Context, userID, sessionID string, missed bool) error
	LiveNoShows(ctx context.Context, userID string) (int, error)
	// The queue of attendance marks still to hand over.
	QueueLiveHandOver(ctx context.Context, sessionID, userID string, at time.Time) error
	DoneLiveHandOver(ctx context.Context, sessionID, userID string) error
	LiveHandOvers(ctx context.Context, limit int) ([]HandOverItem, error)
}

// Service runs live training.
type Service struct {
	Store   Store
	Box     *secrets.Box // access and dietary needs are sealed
	Mail    *notify.Mailer
	Now     func() time.Time
	BaseURL string
	From    string // the organiser address in invitations
	Log     *slog.Logger
	// Certs and CPD take an attendance over (nil: nothing to give).
	Certs Certifier
	CPD   CPDRecorder
}

// SessionForm is a new session as typed by an admin or trainer: its date
// and times are London wall-clock times.
type SessionForm struct {
	Title, Description, Course, Audiences string
	CPDHours, Certificate, ValidMonths    string
	Date, StartTime, EndTime              string
	Mode, Venue, Address, Access, JoinURL string
	Capacity, OpensDate, ClosesDate       string
	CancelHours                           string
	TrainerIDs                            []string
}

// check validates the form into a session.
func (f SessionForm) check(now time.Time) (*Session, error) {
	fe := errs.FieldErrors{}
	s := &Session{Title: strings.TrimSpace(f.Title), Description: strings.TrimSpace(f.Description), Course: strings.TrimSpace(f.Course), Mode: f.Mode, Venue: strings.TrimSpace(f.Venue),
		Address: strings.TrimSpace(f.Address), Access: strings.TrimSpace(f.Access), JoinURL: strings.TrimSpace(f.JoinURL),
		Certificate: f.Certificate == "yes", Trainers: f.TrainerIDs, Bookings: map[string]*Booking{}, Created: now}
	if s.Title == "" || len(s.Title) > 200 {
		fe["title"] = "Enter a title of up to 200 characters"
	}
	if len(s.Description) > 4000 {
		fe["description"] = "Please keep the description under 4,000 characters"
	}
	if f.ValidMonths != "" && s.Certificate {
		n, err := strconv.Atoi(strings.TrimSpace(f.ValidMonths))
		if err != nil || n < 0 || n > 120 {
			fe["valid_months"] = "Enter how many months the certificate is valid for, from 0 (does not expire) to 120"
		}
		s.ValidMonths = n
	}
	for _, a := range strings.Split(f.Audiences, ",") {
		if a = strings.TrimSpace(a); a == "" || slices.Contains(s.Audiences, a) {
			continue
		}
		if !slices.Contains(courses.Audiences, a) {
			fe["audiences"] = "Choose who the session is for from the list"
			continue
		}
		s.Audiences = append(s.Audiences, a)
	}
	if f.CPDHours != "" {
		h, err := strconv.ParseFloat(f.CPDHours, 64)
		if err != nil || h != h || h < 0 || h > 40 {
			fe["cpd_hours"] = "Enter the CPD hours as a number from 0 to 40, for example 3 or 2.5"
		}
		s.CPDHours = h
	}
	day, err := civil.Parse(f.Date)
	if err != nil {
		fe["date"] = "Enter the date as a real date, for example 2027-03-25"
	}
	start, e1 := wallClock(day, f.StartTime)
	end, e2 := wallClock(day, f.EndTime)
	switch {
	case err != nil:
	case e1 != nil:
		fe["start_time"] = "Enter the start time as hours and minutes, for example 09:30"
	case e2 != nil:
		fe["end_time"] = "Enter the end time as hours and minutes, for example 16:00"
	case !end.After(start):
		fe["end_time"] = "The session must end after it starts"
	case !start.After(now):
		fe["date"] = "The session must start in the future"
	}
	s.Start, s.End = start.UTC(), end.UTC()
	switch s.Mode {
	case InPerson:
		if s.Venue == "" {
			fe["venue"] = "Enter the venue"
		}
		s.JoinURL = ""
	case Online:
		if u, err := url.Parse(s.JoinURL); err != nil || u.Scheme != "https" || u.Host == "" {
			fe["join_url"] = "Enter the joining link, starting https://"
		}
		s.Venue, s.Address, s.Access = "", "", ""
	default:
		fe["mode"] = "Choose in person or online"
	}
	n, err := strconv.Atoi(f.Capacity)
	if err != nil || n < 1 || n > 1000 {
		fe["capacity"] = "Enter the number of places, from 1 to 1000"
	}
	s.Capacity = n
	s.Closes = s.Start
	if f.ClosesDate != "" {
		d, err := civil.Parse(f.ClosesDate)
		if err != nil {
			fe["closes"] = "Enter the date booking closes as a real date"
		} else if c := d.AddDays(1).Midnight(); c.Before(s.Start) {
			s.Closes = c.UTC() // the end of that day
		}
	}
	if f.OpensDate != "" {
		d, err := civil.Parse(f.OpensDate)
		switch {
		case err != nil:
			fe["opens"] = "Enter the date booking opens as a real date"
		case !d.Midnight().Before(s.Closes):
			fe["opens"] = "Booking must open before it closes and before the session starts"
		default:
			o := d.Midnight().UTC() // the start of that day
			s.Opens = &o
		}
	}
	s.CancelHours = 24
	if f.CancelHours != "" {
		h, err := strconv.Atoi(f.CancelHours)
		if err != nil || h < 0 || h > 24*30 {
			fe["cancel_hours"] = "Enter the hours before the start up to which people may cancel, from 0 to 720"
		}
		s.CancelHours = h
	}
	if len(fe) > 0 {
		return nil, fe.Err()
	}
	return s, nil
}

// wallClock returns the instant of a London wall-clock time on a day
// (across the clock changes: 09:30 is 09:30 in London in March and in
// November alike).
func wallClock(d civil.Date, hhmm string) (time.Time, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(hhmm))
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year, d.Month, d.Day, t.Hour(), t.Minute(), 0, 0, civil.London), nil
}

func newID() string {
	b := make([]byte, 9)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// Create adds a session (a new event when eventID is empty).
func (s *Service) Create(ctx context.Context, actor *auth.User, eventID string, f SessionForm) (*Session, error) {
	if !canRun(actor) {
		return nil, errs.E(errs.EFORBIDDEN, "Only trainers and administrators set up live training.")
	}
	ses, err := f.check(s.Now().UTC())
	if err != nil {
		return nil, err
	}
	ses.ID = newID()
	ses.EventID = eventID
	if ses.EventID == "" {
		ses.EventID = ses.ID
	} else if _, err := s.Store.LiveSession(ctx, eventID); err != nil { // an event is named by its first session
		return nil, errs.E(errs.EINVALID, "That event no longer exists: set the session up on its own.")
	}
	if err := s.Store.InsertLiveSession(ctx, ses); err != nil {
		return nil, err
	}
	return ses, nil
}

// canRun says who runs sessions: trainers and administrators.
func canRun(u *auth.User) bool {
	return u != nil && (u.HasRole(auth.RoleAdmin) || u.HasRole(auth.RoleTrainer))
}

// BookForm is what a person adds to a booking.
type BookForm struct{ Access, Dietary string }

// Book gives who a place on the session, or a place on its waiting list
// when it is full; actor is who or their organisation's manager. It
// returns the status they hold.
func (s *Service) Book(ctx context.Context, actor, who *auth.User, id string, f BookForm) (string, error) {
	if actor.ID != who.ID && !(actor.HasRole(auth.RoleManager) && actor.OrgID != "" && actor.OrgID == who.OrgID) && !actor.HasRole(auth.RoleAdmin) {
		return "", errs.E(errs.EFORBIDDEN, "You can book places for the people of your own organisation only.")
	}
	fe := errs.FieldErrors{}
	access, dietary := strings.TrimSpace(f.Access), strings.TrimSpace(f.Dietary)
	if len(access) > 1000 {
		fe["access"] = "Please keep this under 1,000 characters"
	}
	if len(dietary) > 1000 {
		fe["dietary"] = "Please keep this under 1,000 characters"
	}
	if len(fe) > 0 {
		return "", fe.Err()
	}
	now := s.Now().UTC()
	cur, err := s.Store.LiveSession(ctx, id)
	if err != nil {
		return "", err
	}
	// Listed first, so the data download and erasure find the booking
	// even if the process stops between the two writes.
	if err := s.Store.ListPersonLiveSession(ctx, who.ID, cur); err != nil {
		return "", err
	}
	var status string
	ses, err := s.Store.UpdateLiveSession(ctx, id, func(ses *Session) error {
		if ses.NotYetOpen(now) {
			return errs.E(errs.ECONFLICT, "Booking for this session opens on %s.", ses.Opens.In(civil.London).Format("Monday 2 January 2006"))
		}
		if !ses.Open(now) {
			return errs.E(errs.ECONFLICT, "Booking for this session has closed.")
		}
		b := &Booking{UserID: who.ID, Name: who.Name, Email: who.Email, OrgID: who.OrgID,
			Access: s.seal(ses.ID, who.ID, "access", access), Dietary: s.seal(ses.ID, who.ID, "dietary", dietary)}
		if actor.ID != who.ID {
			b.By = actor.Name
		}
		if cur := ses.Bookings[who.ID]; cur != nil && cur.Status != Cancelled {
			status = cur.Status
			return ErrNoChange
		}
		status = ses.book(b, now)
		return nil
	})
	if err != nil {
		return "", err
	}
	return status, s.tell(ctx, ses, ses.Bookings[who.ID], status)
}

// Cancel gives up who's place or wait; a freed place is offered to the
// first on the waiting list, who is told at once.
func (s *Service) Cancel(ctx context.Context, actor *auth.User, id, userID string) error {
	if actor.ID != userID && !canRun(actor) && !actor.HasRole(auth.RoleManager) {
		return errs.E(errs.EFORBIDDEN, "You can cancel only your own booking.")
	}
	now := s.Now().UTC()
	var offered []*Booking
	var was string
	ses, err := s.Store.UpdateLiveSession(ctx, id, func(ses *Session) error {
		b := ses.Bookings[userID]
		if b == nil || b.Status == Cancelled {
			return ErrNoChange
		}
		if actor.ID != userID && actor.HasRole(auth.RoleManager) && !canRun(actor) && actor.OrgID != b.OrgID {
			return errs.E(errs.EFORBIDDEN, "You can cancel places for the people of your own organisation only.")
		}
		if b.Status == Booked && !ses.CanCancel(now) && !canRun(actor) {
			return errs.E(errs.ECONFLICT, "Places can be cancelled up to %d hours before the start. Please contact the trainer.", ses.CancelHours)
		}
		was = b.Status
		offered = ses.cancel(userID, now)
		return nil
	})
	if err != nil || was == "" {
		return err
	}
	if was == Booked || was == Offered {
		if err := s.tell(ctx, ses, ses.Bookings[userID], Cancelled); err != nil {
			return err
		}
	}
	for _, b := range offered {
		if err := s.tell(ctx, ses, b, Offered); err != nil {
			return err
		}
	}
	return nil
}

// Confirm turns the person's offer of a place into a booking.
func (s *Service) Confirm(ctx context.Context, u *auth.User, id string) error {
	now := s.Now().UTC()
	ses, err := s.Store.UpdateLiveSession(ctx, id, func(ses *Session) error {
		if !ses.confirm(u.ID, now) {
			return errs.E(errs.ECONFLICT, "There is no place waiting for you to confirm on this session: the offer may have lapsed.")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.tell(ctx, ses, ses.Bookings[u.ID], Booked)
}

// Lapse ends the offers past their deadline on upcoming sessions and
// offers the places to the next people waiting (run by the hourly jobs;
// bounded by the sessions to come).
func (s *Service) Lapse(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	list, err := s.Store.UpcomingLiveSessions(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ses := range list {
		if !hasLapsed(ses, now) {
			continue
		}
		var lapsed, offered []*Booking
		after, err := s.Store.UpdateLiveSession(ctx, ses.ID, func(x *Session) error {
			lapsed, offered = x.lapse(now)
			if len(lapsed) == 0 {
				return ErrNoChange
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		for _, b := range offered {
			if err := s.tell(ctx, after, b, Offered); err != nil {
				return n, err
			}
		}
		n += len(lapsed)
	}
	return n, nil
}

func hasLapsed(ses *Session, now time.Time) bool {
	for _, b := range ses.Bookings {
		if b.Status == Offered && b.Until != nil && !now.Before(*b.Until) {
			return true
		}
	}
	return false
}

// Session returns a session.
func (s *Service) Session(ctx context.Context, id string) (*Session, error) {
	return s.Store.LiveSession(ctx, id)
}

// Upcoming lists the sessions to come, soonest first.
func (s *Service) Upcoming(ctx context.Context, limit int) ([]*Session, error) {
	return s.Store.UpcomingLiveSessions(ctx, s.Now().UTC(), limit)
}

// Between lists up to 1,000 sessions starting in [from, to), soonest
// first (the trainers' list and reports).
func (s *Service) Between(ctx context.Context, from, to time.Time) ([]*Session, error) {
	return s.Store.RecentLiveSessions(ctx, from, to, 1000)
}

// ForCourse lists up to limit sessions of a course to come.
func (s *Service) ForCourse(ctx context.Context, course string, limit int) ([]*Session, error) {
	return s.Store.CourseLiveSessions(ctx, course, s.Now().UTC(), limit)
}

// Mine lists the sessions a person booked or waits for.
func (s *Service) Mine(ctx context.Context, userID string) ([]*Session, error) {
	return s.Store.PersonLiveSessions(ctx, userID)
}

// Needs decrypts a booking's access and dietary needs (for the trainer).
func (s *Service) Needs(ses *Session, b *Booking) (access, dietary string) {
	return s.open(ses.ID, b.UserID, "access", b.Access), s.open(ses.ID, b.UserID, "dietary", b.Dietary)
}

func (s *Service) seal(session, user, kind, v string) string {
	if v == "" || s.Box == nil {
		return ""
	}
	return s.Box.Seal(v, "live:"+session+":"+user+":"+kind)
}

func (s *Service) open(session, user, kind, v string) string {
	if v == "" || s.Box == nil {
		return ""
	}
	out, err := s.Box.Open(v, "live:"+session+":"+user+":"+kind)
	if err != nil {
		return ""
	}
	return out
}

// FeedToken is a person's private calendar feed token: a keyed hash of
// their account and the feed's generation, so a new generation revokes
// the old link.
func (s *Service) FeedToken(userID string, generation int) string {
	return s.Box.Hash("live-feed:"+strconv.Itoa(generation), userID)[:32]
}

// ErasePerson takes a person's bookings off the sessions named (a place
// they held goes to the next person waiting, who is told), then out of
// their lists, and forgets their calendar feed. Repeating it is harmless.
func (s *Service) ErasePerson(ctx context.Context, userID string, sessionIDs []string) error {
	now := s.Now().UTC()
	for _, id := range sessionIDs {
		var offered []*Booking
		ses, err := s.Store.UpdateLiveSession(ctx, id, func(ses *Session) error {
			if ses.Bookings[userID] == nil {
				return ErrNoChange
			}
			offered = ses.cancel(userID, now)
			delete(ses.Bookings, userID)
			return nil
		})
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return err
		}
		for _, b := range offered {
			if err := s.tell(ctx, ses, b, Offered); err != nil {
				return err
			}
		}
		if err := s.Store.ForgetPersonLiveSession(ctx, userID, ses); err != nil {
			return err
		}
	}
	return s.Store.DeleteLiveFeed(ctx, userID)
}
