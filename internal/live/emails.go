package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/notify"
)

// When writes a session's date and times as people in England read them:
// "Thursday 25 March 2027, 09:30 to 16:00".
func When(s *Session) string {
	st, en := s.Start.In(civil.London), s.End.In(civil.London)
	if st.YearDay() == en.YearDay() && st.Year() == en.Year() {
		return st.Format("Monday 2 January 2006, 15:04") + " to " + en.Format("15:04")
	}
	return st.Format("Monday 2 January 2006, 15:04") + " to " + en.Format("Monday 2 January 2006, 15:04")
}

// Where says where a session is.
func Where(s *Session) string {
	if s.Mode == Online {
		return "Online: the joining link is on the session's page from an hour before the start"
	}
	w := s.Venue
	if s.Address != "" {
		w += ", " + s.Address
	}
	return w
}

// What tell says besides a booking's own statuses.
const (
	changed          = "changed"           // the session's time or place changed
	sessionCancelled = "session-cancelled" // the whole session is cancelled
	remind           = "remind-"           // + a Reminders name
)

// tell emails a person what just happened to their booking, once per
// event (the message ID is fixed by session, person, what happened and
// the session's sequence or the offer), with the invitation to add, keep
// or remove from their calendar.
func (s *Service) tell(ctx context.Context, ses *Session, b *Booking, status string) error {
	if s.Mail == nil || b == nil || b.Email == "" {
		return nil
	}
	link := s.BaseURL + "/live/" + ses.ID
	var subject string
	var paras []string
	calendar := ""
	// One email per booking made (a rebooking after a cancellation is a
	// new one) and per change of the session told.
	key := b.At.UTC().Format(time.RFC3339Nano) + "/" + strconv.Itoa(ses.Sequence)
	switch status {
	case Booked:
		subject = "Your place: " + ses.Title
		paras = []string{fmt.Sprintf("You have a place on “%s”, %s.", ses.Title, When(ses)), Where(ses) + ".",
			"The invitation attached adds it to your calendar. If you cannot come, please cancel on the session's page so that someone waiting can have your place."}
		calendar = Invitation(ses, b, s.From, s.BaseURL, s.Now())
	case Waiting:
		subject = "On the waiting list: " + ses.Title
		paras = []string{fmt.Sprintf("“%s”, %s, is full, so you are on its waiting list.", ses.Title, When(ses)),
			fmt.Sprintf("If a place comes free, we will email you at once and keep it for you for %d hours while you confirm.", OfferHours)}
	case Offered:
		until := ""
		if b.Until != nil {
			until = b.Until.In(civil.London).Format("15:04 on Monday 2 January")
			key = b.Until.UTC().Format(time.RFC3339)
		}
		subject = "A place is free for you: " + ses.Title
		paras = []string{fmt.Sprintf("A place has come free on “%s”, %s, and it is yours if you confirm by %s.", ses.Title, When(ses), until),
			"After that it goes to the next person waiting."}
	case changed:
		subject = "Changed: " + ses.Title
		paras = []string{fmt.Sprintf("“%s” has changed. It is now %s.", ses.Title, When(ses)), Where(ses) + ".",
			"The invitation attached updates your calendar. If you can no longer come, please cancel on the session's page so that someone waiting can have your place."}
		if b.Status == Booked {
			calendar = Invitation(ses, b, s.From, s.BaseURL, s.Now())
		}
	case sessionCancelled:
		subject = "Cancelled: " + ses.Title
		paras = []string{fmt.Sprintf("We are sorry: “%s”, %s, will not take place.", ses.Title, When(ses)),
			"The invitation attached removes it from your calendar. Other sessions are on the Live training page."}
		calendar = Invitation(ses, b, s.From, s.BaseURL, s.Now())
	case Cancelled:
		subject = "Cancelled: your place on " + ses.Title
		paras = []string{fmt.Sprintf("Your place on “%s”, %s, is cancelled. The invitation attached removes it from your calendar.", ses.Title, When(ses))}
		calendar = Invitation(ses, b, s.From, s.BaseURL, s.Now())
	default:
		if r, ok := strings.CutPrefix(status, remind); ok {
			key = r + "/" + ses.Start.UTC().Format(time.RFC3339)
			day := "tomorrow"
			if r != "1d" {
				day = ses.Start.In(civil.London).Format("Monday 2 January")
			}
			subject = "Reminder: " + ses.Title + ", " + day
			paras = []string{fmt.Sprintf("This is a reminder of your place on “%s”, %s.", ses.Title, When(ses)), Where(ses) + ".",
				"If you cannot come, please cancel on the session's page so that someone waiting can have your place."}
			break
		}
		return nil
	}
	text, html := notify.Compose(notify.Email{Greeting: "Hello " + b.Name + ",", Paragraphs: paras,
		Action: &notify.Action{Label: "Open the session", URL: link}})
	_, err := s.Mail.Send(ctx, notify.Message{ID: messageID("live", ses.ID, b.UserID, status, key), To: b.Email, UserID: b.UserID,
		Kind: "live-" + status, Subject: subject, Text: text, HTML: html, Calendar: calendar})
	return err
}

func messageID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "live-" + hex.EncodeToString(h.Sum(nil))[:32]
}
