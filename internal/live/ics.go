package live

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Invitation returns the iCalendar invitation of a session for one person:
// METHOD:REQUEST while they hold a place, METHOD:CANCEL once they do not
// (or the session is cancelled). The UID is the session's, so a change or
// a cancellation replaces the invitation already in their calendar, and
// SEQUENCE is the session's count of changes (one more for a cancellation
// of the person's own place, which their calendar must see as newer).
func Invitation(s *Session, b *Booking, organiser, base string, now time.Time) string {
	cal := ics.NewCalendarFor("Family Advocacy Learning")
	cancelled := s.Cancelled != nil || b == nil || b.Status != Booked
	seq := s.Sequence
	if cancelled {
		cal.SetMethod(ics.MethodCancel)
		seq++
	} else {
		cal.SetMethod(ics.MethodRequest)
	}
	addEvent(cal, s, b, organiser, base, now, seq, cancelled)
	return cal.Serialize()
}

// Feed returns a person's calendar of the sessions they hold places on.
func Feed(name string, sessions []*Session, userID, organiser, base string, now time.Time) string {
	cal := ics.NewCalendarFor("Family Advocacy Learning")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName("Live training: " + name)
	for _, s := range sessions {
		b := s.Bookings[userID]
		if b == nil || b.Status != Booked || s.Cancelled != nil {
			continue
		}
		addEvent(cal, s, b, organiser, base, now, s.Sequence, false)
	}
	return cal.Serialize()
}

func addEvent(cal *ics.Calendar, s *Session, b *Booking, organiser, base string, now time.Time, seq int, cancelled bool) {
	ev := cal.AddEvent(s.ID + "@live.lms")
	ev.SetDtStampTime(now.UTC())
	ev.SetSequence(seq)
	ev.SetStartAt(s.Start.UTC())
	ev.SetEndAt(s.End.UTC())
	ev.SetSummary(s.Title)
	ev.SetURL(base + "/live/" + s.ID)
	var desc []string
	if s.Mode == Online {
		ev.SetLocation("Online")
		desc = append(desc, "Online. The joining link is on the session's page from an hour before the start: "+base+"/live/"+s.ID)
	} else {
		ev.SetLocation(strings.TrimSpace(strings.Join(nonEmpty(s.Venue, s.Address), ", ")))
		if s.Access != "" {
			desc = append(desc, "Access: "+s.Access)
		}
	}
	ev.SetDescription(strings.Join(desc, "\n"))
	if organiser != "" {
		ev.SetOrganizer("mailto:"+organiser, ics.WithCN("Family Advocacy Learning"))
	}
	if b != nil {
		ev.AddAttendee("mailto:"+b.Email, ics.CalendarUserTypeIndividual, ics.ParticipationStatusAccepted, ics.ParticipationRoleReqParticipant, ics.WithCN(b.Name))
	}
	if cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			out = append(out, strings.TrimSpace(x))
		}
	}
	return out
}
