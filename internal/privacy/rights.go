package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
)

// Data-rights requests: a person (or someone acting for them) asks for a
// copy of their data or for it to be erased. UK GDPR Article 12(3) gives
// one month from receipt to answer: by the ICO's guidance, to the same
// date of the next month (the month's last day when it has no such date),
// moved to the next working day when that is a weekend or a bank holiday.
// The month can be extended by two more for complex or numerous requests,
// if the person is told within the first; that is recorded as a note here,
// the due date stays the first month's.

// Request kinds, statuses and how a request can come.
const (
	RightsAccess  = "access"
	RightsErasure = "erasure"

	RightsReceived        = "received"
	RightsIdentityChecked = "identity-checked"
	RightsDone            = "done"
	RightsRefused         = "refused"
)

// RightsKinds, RightsHows and RightsStatuses are the choices, in order,
// with their words.
var (
	RightsKinds    = []Choice{{RightsAccess, "Access: a copy of their data"}, {RightsErasure, "Erasure: delete their data"}}
	RightsHows     = []Choice{{"email", "Email"}, {"letter", "Letter"}, {"phone", "Phone call"}, {"in-person", "In person"}, {"app", "In the app"}, {"other", "Another way"}}
	RightsStatuses = []Choice{{RightsReceived, "Received"}, {RightsIdentityChecked, "Identity checked"}, {RightsDone, "Done"}, {RightsRefused, "Refused"}}
)

// Choice is one option of a list, with its words.
type Choice struct{ Value, Label string }

// LabelOf returns the words for a value of a list of choices.
func LabelOf(cs []Choice, v string) string {
	for _, c := range cs {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// RightsDue returns the day an answer to a request received on day is
// due by (see the package comment on the month).
func RightsDue(received civil.Date) civil.Date { return received.AddMonths(1).NextWorkingDay() }

// RightsForm is a request as an admin logs it.
type RightsForm struct {
	Kind, Requester, Contact, How, Received string
	Email                                   string // the account it is about, when there is one
}

// LogRightsRequest records a request and audits it. Problems are field
// errors; an email that matches no account is one (leave it empty for a
// request from someone without an account).
func (s *Service) LogRightsRequest(ctx context.Context, actor *auth.User, f RightsForm) (*store.RightsRequest, error) {
	p := errs.FieldErrors{}
	if LabelOf(RightsKinds, f.Kind) == f.Kind {
		p["kind"] = "Choose what they asked for"
	}
	requester, contact := strings.TrimSpace(f.Requester), strings.TrimSpace(f.Contact)
	switch {
	case requester == "":
		p["requester"] = "Enter the name of the person who asked"
	case len(requester) > 200:
		p["requester"] = "The name must be 200 characters or fewer"
	}
	switch {
	case contact == "":
		p["contact"] = "Enter how to answer them: an email or postal address"
	case len(contact) > 500:
		p["contact"] = "The contact details must be 500 characters or fewer"
	}
	if LabelOf(RightsHows, f.How) == f.How {
		p["how"] = "Choose how the request came"
	}
	today := civil.Of(s.Now())
	received, err := civil.Parse(strings.TrimSpace(f.Received))
	switch {
	case strings.TrimSpace(f.Received) == "":
		p["received"] = "Enter the date the request was received"
	case err != nil:
		p["received"] = "The date received must be a real date, like 2026-12-03"
	case received.After(today):
		p["received"] = "The date received cannot be in the future"
	case received.Before(today.AddYears(-1)):
		p["received"] = "The date received must be within the last year"
	}
	var userID string
	if email := strings.TrimSpace(f.Email); email != "" {
		u, err := s.Auth.UserByEmail(ctx, email)
		switch {
		case errs.Is(err, errs.ENOTFOUND):
			p["email"] = "No account has this email address; leave it empty if they have no account"
		case err != nil:
			return nil, err
		default:
			userID = u.ID
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	r := &store.RightsRequest{ID: hex.EncodeToString(b), Kind: f.Kind, Requester: requester, Contact: contact, How: f.How, UserID: userID,
		Received: received.Midnight().UTC(), Due: RightsDue(received).Midnight().UTC(), Status: RightsReceived, Created: now,
		Steps: []store.RightsStep{{At: now, ByID: actor.ID, By: actor.Name, Status: RightsReceived}}}
	if err := s.DB.InsertRightsRequest(ctx, r); err != nil {
		return nil, err
	}
	target := "rights:" + r.ID
	if userID != "" {
		target = "user:" + userID
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, Action: "rights.create", Target: target,
		After: map[string]any{"kind": r.Kind, "received_at": received.String(), "due": civil.Of(r.Due).String()}}); err != nil {
		return r, err
	}
	return r, nil
}

// rightsNext lists where each status may go.
var rightsNext = map[string][]string{
	RightsReceived:        {RightsIdentityChecked, RightsRefused},
	RightsIdentityChecked: {RightsDone, RightsRefused},
}

// NextStatuses returns the statuses a request may move to.
func NextStatuses(r *store.RightsRequest) []string { return rightsNext[r.Status] }

// SetRightsStatus moves a request on: identity checked, done, or refused
// (with the reason, which the person must be told). A note says what was
// done (which evidence of identity, that the data download was sent, an
// extension and why). It fails with ECONFLICT when the request moved on
// meanwhile.
func (s *Service) SetRightsStatus(ctx context.Context, actor *auth.User, id, to, note string) (*store.RightsRequest, error) {
	r, err := s.DB.RightsRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	allowed := false
	for _, n := range rightsNext[r.Status] {
		allowed = allowed || n == to
	}
	if !allowed {
		return nil, errs.E(errs.EINVALID, "A request that is %s cannot be marked %s.", strings.ToLower(LabelOf(RightsStatuses, r.Status)), strings.ToLower(LabelOf(RightsStatuses, to)))
	}
	note = strings.TrimSpace(note)
	p := errs.FieldErrors{}
	switch {
	case to == RightsRefused && note == "":
		p["note"] = "Say why it is refused: the person must be told the reason and that they can complain to the ICO"
	case len(note) > 2000:
		p["note"] = "The note must be 2,000 characters or fewer"
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	reason := ""
	if to == RightsRefused {
		reason = note
	}
	ok, err := s.DB.SetRightsStatus(ctx, id, r.Status, store.RightsStep{At: s.Now().UTC(), ByID: actor.ID, By: actor.Name, Status: to, Note: note}, reason)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.E(errs.ECONFLICT, "Someone else changed this request meanwhile; look at it again.")
	}
	target := "rights:" + id
	if r.UserID != "" {
		target = "user:" + r.UserID
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, Action: "rights.status", Target: target,
		Before: map[string]any{"status": r.Status}, After: map[string]any{"status": to}, Note: note}); err != nil {
		return nil, err
	}
	return s.DB.RightsRequest(ctx, id)
}

// RemindRights tells every administrator, once each, of each open request
// that is due within 7 days and of each that is overdue (by email and in
// the app). Its message IDs are fixed by request, stage and admin, so it
// can run as often as its loop does; it reads the open list only.
func (s *Service) RemindRights(ctx context.Context) (int, error) {
	open, err := s.DB.OpenRightsRequests(ctx)
	if err != nil || len(open) == 0 {
		return 0, err
	}
	admins, err := s.DB.RoleMembers(ctx, auth.RoleAdmin)
	if err != nil {
		return 0, err
	}
	today := civil.Of(s.Now())
	sent := 0
	for _, r := range open {
		due := civil.Of(r.Due)
		left := today.DaysUntil(due)
		stage, when := "", ""
		switch {
		case left < 0:
			stage, when = "overdue", fmt.Sprintf("was due on %s", longDate(due))
		case left <= 7:
			stage, when = "due7", fmt.Sprintf("is due on %s, in %d day%s", longDate(due), left, map[bool]string{true: "", false: "s"}[left == 1])
		default:
			continue
		}
		what := strings.ToLower(strings.SplitN(LabelOf(RightsKinds, r.Kind), ":", 2)[0])
		subject := fmt.Sprintf("A data %s request %s", what, when)
		link := "/admin/rights/" + r.ID
		for _, a := range admins {
			if a.Disabled {
				continue
			}
			id := "rights-" + r.ID + "-" + stage + "-" + a.ID
			text, html := notify.Compose(notify.Email{Greeting: "Hello " + a.Name + ",", Paragraphs: []string{
				fmt.Sprintf("The data %s request received on %s from %s %s. It is %s.", what, longDate(civil.Of(r.Received)), r.Requester, when,
					strings.ToLower(LabelOf(RightsStatuses, r.Status))),
				"The law gives one month from receipt to answer, or to tell them, within that month, why it will take up to two months more.",
			}, Action: &notify.Action{Label: "Open the request", URL: s.BaseURL + link}})
			if err := s.Mail.Notify(ctx, a.ID, notify.Notification{ID: id, At: s.Now().UTC(), Subject: subject, Text: "Open the request to answer it.", Link: link}); err != nil {
				return sent, err
			}
			fresh, err := s.Mail.Send(ctx, notify.Message{ID: id, To: a.Email, UserID: a.ID, Kind: "reminder", Subject: subject, Text: text, HTML: html})
			if err != nil {
				return sent, err
			}
			if fresh {
				sent++
			}
		}
	}
	return sent, nil
}

func longDate(d civil.Date) string { return d.Midnight().Format("2 January 2006") }

// RightsQueue is the admins' view: the open requests, soonest due first,
// and a page of every request, newest first.
type RightsQueue struct {
	Open  []*store.RightsRequest
	All   []*store.RightsRequest
	Total int
}

// Rights returns the queue, with the page of all requests from offset.
func (s *Service) Rights(ctx context.Context, offset, limit int) (*RightsQueue, error) {
	open, err := s.DB.OpenRightsRequests(ctx)
	if err != nil {
		return nil, err
	}
	all, total, err := s.DB.RightsRequests(ctx, offset, limit)
	if err != nil {
		return nil, err
	}
	return &RightsQueue{Open: open, All: all, Total: total}, nil
}

// RightsRequest returns one request.
func (s *Service) RightsRequest(ctx context.Context, id string) (*store.RightsRequest, error) {
	r, err := s.DB.RightsRequest(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, errs.E(errs.ENOTFOUND, "There is no such request.")
	}
	return r, err
}

// DaysLeft counts the days from today to a request's due date (negative
// when overdue).
func (s *Service) DaysLeft(r *store.RightsRequest) int {
	return civil.Of(s.Now()).DaysUntil(civil.Of(r.Due))
}
