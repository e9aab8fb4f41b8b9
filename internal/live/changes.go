package live

import (
	"context"
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Change applies an edited session form (the same form as a new session)
// to a session to come. When its time or place changes, its invitations'
// SEQUENCE goes up and everyone with a place or an offer is told at once,
// with the updated invitation; more places go to the people waiting.
func (s *Service) Change(ctx context.Context, actor *auth.User, id string, f SessionForm) (*Session, error) {
	if !canRun(actor) {
		return nil, errs.E(errs.EFORBIDDEN, "Only trainers and administrators change live training.")
	}
	now := s.Now().UTC()
	next, err := f.check(now)
	if err != nil {
		return nil, err
	}
	var old Session
	var moved bool
	var offered []*Booking
	ses, err := s.Store.UpdateLiveSession(ctx, id, func(x *Session) error {
		if x.Cancelled != nil || !now.Before(x.Start) {
			return errs.E(errs.ECONFLICT, "Only a session that has not started can be changed.")
		}
		if taken := x.Taken(); next.Capacity < taken {
			return errs.FieldErrors{"capacity": fmt.Sprintf("%d people have places: the session needs at least %d places", taken, taken)}.Err()
		}
		old = *x
		moved = !x.Start.Equal(next.Start) || !x.End.Equal(next.End) || x.Mode != next.Mode || x.Venue != next.Venue ||
			x.Address != next.Address || x.JoinURL != next.JoinURL
		x.Title, x.Description, x.Course, x.Audiences = next.Title, next.Description, next.Course, next.Audiences
		x.CPDHours, x.Certificate, x.ValidMonths = next.CPDHours, next.Certificate, next.ValidMonths
		x.Start, x.End, x.Mode, x.Venue, x.Address, x.Access, x.JoinURL = next.Start, next.End, next.Mode, next.Venue, next.Address, next.Access, next.JoinURL
		x.Capacity, x.Opens, x.Closes, x.CancelHours = next.Capacity, next.Opens, next.Closes, next.CancelHours
		if moved {
			x.Sequence++
			if !old.Start.Equal(x.Start) {
				x.Reminded = nil // the reminders go again, before the new start
			}
		}
		offered = x.promote(now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !old.Start.Equal(ses.Start) || old.Course != ses.Course {
		if err := s.Store.RelistLiveSession(ctx, &old, ses); err != nil {
			return nil, err
		}
	}
	if moved {
		for _, b := range ses.Bookings {
			if b.Status == Booked || b.Status == Offered {
				if err := s.tell(ctx, ses, b, changed); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, b := range offered {
		if err := s.tell(ctx, ses, b, Offered); err != nil {
			return nil, err
		}
	}
	return ses, nil
}

// CancelSession calls a session off: everyone with a place, an offer or a
// wait is told, with an invitation that removes it from their calendar.
func (s *Service) CancelSession(ctx context.Context, actor *auth.User, id string) error {
	if !canRun(actor) {
		return errs.E(errs.EFORBIDDEN, "Only trainers and administrators cancel live training.")
	}
	now := s.Now().UTC()
	ses, err := s.Store.UpdateLiveSession(ctx, id, func(x *Session) error {
		if x.Cancelled != nil {
			return ErrNoChange
		}
		if !now.Before(x.Start) {
			return errs.E(errs.ECONFLICT, "This session has started; it can no longer be cancelled.")
		}
		x.Cancelled = &now
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range ses.Bookings {
		if b.Status != Cancelled {
			if err := s.tell(ctx, ses, b, sessionCancelled); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remind sends the reminders that are due (Reminders: 7 days and 1 day
// before) to everyone with a place, once each: each message's ID is fixed
// by session, person, reminder and start, so two runners, or a run after a
// crash, send nothing twice; the session then records the reminder as
// sent. A reminder whose time passed while the next one is due is not
// sent late. Bounded by the sessions of the coming week.
func (s *Service) Remind(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	list, err := s.Store.RecentLiveSessions(ctx, now, now.Add(Reminders[0].Before+time.Hour), 500)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, ses := range list {
		r, ok := dueReminder(ses, now)
		if !ok {
			continue
		}
		for _, b := range ses.Bookings {
			if b.Status != Booked {
				continue
			}
			if err := s.tell(ctx, ses, b, remind+r); err != nil {
				return sent, err
			}
			sent++
		}
		start := ses.Start
		if _, err := s.Store.UpdateLiveSession(ctx, ses.ID, func(x *Session) error {
			if !x.Start.Equal(start) || x.Reminded[r].Equal(start) {
				return ErrNoChange
			}
			if x.Reminded == nil {
				x.Reminded = map[string]time.Time{}
			}
			x.Reminded[r] = start
			return nil
		}); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// dueReminder returns the reminder to send for a session at now, if any:
// the latest whose time has come, unless already sent for this start.
func dueReminder(ses *Session, now time.Time) (string, bool) {
	if ses.Cancelled != nil || !now.Before(ses.Start) {
		return "", false
	}
	for i := len(Reminders) - 1; i >= 0; i-- {
		r := Reminders[i]
		if now.Before(ses.Start.Add(-r.Before)) {
			continue
		}
		if ses.Reminded[r.Name].Equal(ses.Start) {
			return "", false
		}
		return r.Name, true
	}
	return "", false
}

// EraseNeeds deletes the access and dietary needs of the sessions that
// ended more than NeedsKeptDays ago (reading the sessions that started in
// the fortnight before that, so a pause of the jobs is caught up), and
// marks each session done. It returns how many sessions it cleared.
func (s *Service) EraseNeeds(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	until := now.Add(-NeedsKeptDays * 24 * time.Hour)
	list, err := s.Store.RecentLiveSessions(ctx, until.Add(-14*24*time.Hour), until, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ses := range list {
		if ses.NeedsErased != nil || ses.End.After(until) {
			continue
		}
		if _, err := s.Store.UpdateLiveSession(ctx, ses.ID, func(x *Session) error {
			if x.NeedsErased != nil {
				return ErrNoChange
			}
			for _, b := range x.Bookings {
				b.Access, b.Dietary = "", ""
			}
			x.NeedsErased = &now
			return nil
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
