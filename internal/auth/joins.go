package auth

import (
	"context"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Joining an organisation. A person who registers belongs to none: the
// organisation they name gets a request, which a manager of it or an admin
// approves (the person joins it) or declines (they stay in none). Until
// then no manager's list of people has them. The request waits on the
// account (User.JoinRequest) and in lists of requests (one per
// organisation, and one of all for admins), so showing and counting them
// are bounded reads. Each decision is one conditional write, audited, and
// the person is told by notification and email.

// JoinRequest is a person's request to join an organisation.
type JoinRequest struct {
	OrgID     string    `bson:"org_id"`
	Requested time.Time `bson:"requested_at"`
}

// PendingJoin is a request as the managers' page shows it.
type PendingJoin struct {
	User      *User
	OrgID     string
	Requested time.Time
}

var errJoinGone = errs.E(errs.ENOTFOUND, "This request to join has already been dealt with, or was withdrawn.")

// MayDecideJoins reports whether actor decides requests to join orgID:
// admins for every organisation, managers for their own.
func MayDecideJoins(actor *User, orgID string) bool {
	return actor.HasRole(RoleAdmin) || actor.HasRole(RoleManager) && actor.OrgID != "" && actor.OrgID == orgID
}

// joinScope is the list of requests actor sees: "" for every
// organisation's (admins), their organisation's (managers); ok false for
// none.
func joinScope(actor *User) (orgID string, ok bool) {
	switch {
	case actor.HasRole(RoleAdmin):
		return "", true
	case actor.HasRole(RoleManager) && actor.OrgID != "":
		return actor.OrgID, true
	}
	return "", false
}

// JoinRequests returns a page of the requests actor decides, oldest first,
// and how many there are.
func (s *Service) JoinRequests(ctx context.Context, actor *User, offset, limit int) ([]PendingJoin, int, error) {
	org, ok := joinScope(actor)
	if !ok {
		return nil, 0, nil
	}
	us, total, err := s.store.JoinRequests(ctx, org, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]PendingJoin, 0, len(us))
	for _, u := range us {
		if u.ID != actor.ID && u.Erasure == nil {
			out = append(out, PendingJoin{User: u, OrgID: u.JoinRequest.OrgID, Requested: u.JoinRequest.Requested})
		}
	}
	return out, total, nil
}

// CountJoinRequests returns how many requests actor decides (a directory
// read).
func (s *Service) CountJoinRequests(ctx context.Context, actor *User) (int, error) {
	org, ok := joinScope(actor)
	if !ok {
		return 0, nil
	}
	return s.store.CountJoinRequests(ctx, org)
}

// DecideJoin approves or declines the pending request of account userID:
// approved, the person joins the organisation. Only a manager of that
// organisation or an admin decides, never about themselves; a request is
// approved only once the person's address is confirmed. It returns the
// account as it is after.
func (s *Service) DecideJoin(ctx context.Context, actor *User, userID string, approve bool) (*User, error) {
	u, err := s.store.User(ctx, userID)
	if errs.Is(err, errs.ENOTFOUND) || err == nil && (u.JoinRequest == nil || u.Erasure != nil) {
		return nil, errJoinGone
	}
	if err != nil {
		return nil, err
	}
	r := *u.JoinRequest
	switch {
	case actor.ID == u.ID:
		return nil, errs.E(errs.EFORBIDDEN, "This is your own request. Another manager or an administrator decides it.")
	case !MayDecideJoins(actor, r.OrgID):
		return nil, errs.E(errs.EFORBIDDEN, "This request is to join another organisation.")
	case approve && !u.EmailConfirmed():
		return nil, errs.E(errs.ECONFLICT, "%s has not confirmed their email address yet. You can approve the request once they have; until then we cannot be sure the address is theirs.", u.Name)
	}
	now := s.Now().UTC()
	done, err := s.store.EndJoinRequest(ctx, u.ID, r, approve, now)
	if err != nil {
		return nil, err
	}
	if !done { // decided by someone else meanwhile
		return nil, errJoinGone
	}
	action := "user.join_decline"
	if approve {
		action = "user.join_approve"
		u.OrgID = r.OrgID
	}
	u.JoinRequest = nil
	if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: r.OrgID, Action: action, Target: "user:" + u.ID,
		After: map[string]any{"org_id": u.OrgID}}); err != nil {
		return nil, err
	}
	// Done: telling the person cannot undo it.
	if err := s.tellJoinDecision(ctx, u, r, approve, now); err != nil && s.Log != nil {
		s.Log.Warn("telling a person of the decision on their request to join failed", "user", u.ID, "err", err)
	}
	return u, nil
}

// tellJoinDecision tells the person, in the app and by email, what was
// decided on their request.
func (s *Service) tellJoinDecision(ctx context.Context, u *User, r JoinRequest, approved bool, now time.Time) error {
	name := "the organisation"
	if o, err := s.store.Org(ctx, r.OrgID); err == nil {
		name = o.Name
	}
	subject := "Your request to join " + name + " was declined"
	text := name + " did not confirm that you work with them, so your account is not part of their organisation. Your courses and certificates are not affected. If you think this is a mistake, please contact them."
	if approved {
		subject = "You have joined " + name
		text = name + " confirmed that you work with them: your account is now part of their organisation, and its managers can see your training."
	}
	// One ID per decision, so a retried call tells them once.
	id := "join-" + u.ID + "-" + r.Requested.UTC().Format("20060102150405.000")
	if err := s.Mail.Notify(ctx, u.ID, notify.Notification{ID: id, At: now, Subject: subject, Text: text, Link: "/account"}); err != nil {
		return err
	}
	mtext, mhtml := notify.Compose(notify.Email{Greeting: "Hello " + u.Name + ",", Paragraphs: []string{text},
		Action: &notify.Action{Label: "Go to your account", URL: s.BaseURL + "/account"}})
	_, err := s.Mail.Send(ctx, notify.Message{ID: id, To: u.Email, UserID: u.ID, Kind: "join_decision", Subject: subject, Text: mtext, HTML: mhtml})
	return err
}
