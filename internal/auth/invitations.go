package auth

import (
	"context"
	"crypto/subtle"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Invitations. An account an administrator adds has no password until the
// person chooses one from the link emailed to them. The invitation is kept
// on the account (User.Invitation), as a pending email confirmation is:
// the link carries the account's ID and a random token whose SHA-256 is
// stored, so opening it is one point read, and accepting it (the password
// set, the address counted as confirmed, the link ended) is one
// conditional write of the account, which only one of two requests with
// the same link wins. Only the newest link works, once, for
// InvitationLifetime; sending a new one ends the old. Revoking ends the
// link and disables the account, so that "forgot password" does not let
// the person in either; sending a new invitation enables it again.

// InvitationLifetime is how long an invitation's link works.
const InvitationLifetime = 7 * 24 * time.Hour

// Invitation is the invitation of an account staff added, with its newest
// link.
type Invitation struct {
	// TokenHash is the SHA-256 (hex) of the newest link's token; "" once
	// the link has ended (accepted or revoked).
	TokenHash string    `bson:"token_hash"`
	First     time.Time `bson:"first_sent_at"` // when the person was added
	Sent      time.Time `bson:"sent_at"`       // when the newest link was made
	Expires   time.Time `bson:"expires_at"`
	// Mailed is set once the newest link's email is in the outbox: an
	// invitation made without it (a crash, a failing mail store) is sent
	// again by ResumeInvitation.
	Mailed bool   `bson:"mailed"`
	Sends  int    `bson:"sends"` // links made so far
	ByID   string `bson:"by_id"` // the administrator who made the newest link
	// Upload is the SHA-256 of the CSV file the person was added from
	// ("" for one added with the form): a second confirmation of that file
	// finishes their account instead of calling it someone else's.
	Upload   string     `bson:"upload,omitempty"`
	Accepted *time.Time `bson:"accepted_at,omitempty"`
	Revoked  *time.Time `bson:"revoked_at,omitempty"`
}

// InvitationState is where an invitation stands.
type InvitationState string

// The states of an invitation.
const (
	InvitationNone     InvitationState = ""         // the account was not added by invitation
	InvitationPending  InvitationState = "pending"  // the link is out and works
	InvitationUnsent   InvitationState = "unsent"   // the link was made but its email never queued
	InvitationExpired  InvitationState = "expired"  // the link's time ran out
	InvitationAccepted InvitationState = "accepted" // the person chose a password
	InvitationRevoked  InvitationState = "revoked"  // an administrator ended it
)

// InvitationState says where the account's invitation stands at now. An
// account whose password was set another way (a reset link) counts as
// accepted: the person got in.
func (u *User) InvitationState(now time.Time) InvitationState {
	inv := u.Invitation
	switch {
	case inv == nil:
		return InvitationNone
	case inv.Accepted != nil || u.PasswordHash != "":
		return InvitationAccepted
	case inv.Revoked != nil || inv.TokenHash == "":
		return InvitationRevoked
	case !now.Before(inv.Expires):
		return InvitationExpired
	case !inv.Mailed:
		return InvitationUnsent
	}
	return InvitationPending
}

// InvitationStore is the persistence invitations need: each method is one
// conditional write of the account. internal/store implements it with
// the rest of Store.
type InvitationStore interface {
	// SetInvitation replaces the account's invitation with next, and sets
	// disabled when it is not nil, if the account has no password and its
	// invitation's token hash is still prev ("" for a link that has
	// ended); it reports whether it did.
	SetInvitation(ctx context.Context, userID, prev string, next *Invitation, disabled *bool, now time.Time) (bool, error)
	// AcceptInvitation sets the password hash of an enabled account that
	// has none and whose invitation's token hash is hash, ends the
	// invitation (accepted at) and counts the address as confirmed; it
	// reports whether it did.
	AcceptInvitation(ctx context.Context, userID, hash, passwordHash string, at time.Time) (bool, error)
}

// invitations returns the store's invitation methods.
func (s *Service) invitations() (InvitationStore, error) {
	is, ok := s.store.(InvitationStore)
	if !ok {
		return nil, errs.E(errs.EINTERNAL, "auth: the store does not keep invitations")
	}
	return is, nil
}

// Invitee is a person an administrator adds.
type Invitee struct {
	Name, Email string
	OrgID       string
	Roles       []Role
	Upload      string // the CSV file's SHA-256, "" from the form
}

// Validate checks the invitee, normalises the name and email and puts the
// roles in order (at least one, each known).
func (in *Invitee) Validate(orgExists func(string) bool) error {
	fe := errs.FieldErrors{}
	in.Name = NormaliseName(in.Name)
	switch {
	case in.Name == "":
		fe.Add("name", "Enter the person's full name")
	case utf8.RuneCountInString(in.Name) > 120:
		fe.Add("name", "Name must be 120 characters or fewer")
	}
	email, ok := NormaliseEmail(in.Email)
	in.Email = email
	if email == "" {
		fe.Add("email", "Enter their email address")
	} else if !ok {
		fe.Add("email", "Enter an email address in the correct format, like name@example.org")
	}
	clean := []Role{}
	for _, r := range in.Roles {
		if slices.Contains(AllRoles, r) && !slices.Contains(clean, r) {
			clean = append(clean, r)
		}
	}
	slices.SortFunc(clean, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	in.Roles = clean
	if len(clean) == 0 {
		fe.Add("roles", "Select at least one role")
	}
	if in.OrgID == "" || !orgExists(in.OrgID) {
		fe.Add("org", "Select their organisation")
	}
	return fe.Err()
}

// errInvitationLink is the one answer for a link that cannot be used.
var errInvitationLink = errs.E(errs.ENOTFOUND, "This invitation link has expired, has already been used or has been replaced by a newer one. Ask the person who invited you to send a new invitation.")

// Invite adds an account for the invitee, without a password and with an
// invitation whose link is returned as its token (the caller sends it:
// MailInvitation), and records the event. ECONFLICT-like field problem on
// "email" when the address has an account.
func (s *Service) Invite(ctx context.Context, actor *User, in Invitee) (*User, string, error) {
	if err := in.Validate(func(id string) bool { _, err := s.store.Org(ctx, id); return err == nil }); err != nil {
		return nil, "", err
	}
	job := JobOther
	if slices.Contains(in.Roles, RoleAdvocate) {
		job = JobAdvocate
	}
	u := s.newUser(in.Email, in.Name, "", in.OrgID, job, in.Roles)
	token := u.newInvitation(u.Created, actor.ID, in.Upload)
	if err := s.insertUser(ctx, u); err != nil {
		if fe := errs.Fields(err); fe != nil && fe["email"] != "" {
			return nil, "", errs.FieldErrors{"email": "Someone already has an account with this email address. Find them on the list of users."}.Err()
		}
		return nil, "", err
	}
	after := map[string]any{"roles": roleNames(u.Roles), "org_id": u.OrgID}
	if in.Upload != "" {
		after["source"] = "csv"
	}
	// A fixed ID: recorded once, however often a rerun gets here.
	if err := s.Audit.Record(ctx, audit.Event{ID: "invite-" + u.ID, ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.invite",
		Target: "user:" + u.ID, After: after}); err != nil {
		return u, token, err
	}
	return u, token, nil
}

func roleNames(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// newInvitation sets a new invitation on u, made now by byID, and returns
// its link's token.
func (u *User) newInvitation(now time.Time, byID, upload string) string {
	token, hash := NewToken()
	now = now.UTC().Truncate(time.Millisecond) // as stored
	u.Invitation = &Invitation{TokenHash: hash, First: now, Sent: now, Expires: now.Add(InvitationLifetime), Sends: 1, ByID: byID, Upload: upload}
	return token
}

// MailInvitation emails the link with token to the account's address,
// sealed in the outbox (the link is a secret), and marks the invitation
// mailed if that link is still its newest.
func (s *Service) MailInvitation(ctx context.Context, u *User, token string) error {
	inv := u.Invitation
	if inv == nil {
		return errs.E(errs.ECONFLICT, "This account was not added by invitation.")
	}
	link := s.BaseURL + "/invitation?token=" + u.ID + "." + token
	text, html := notify.Compose(InvitationEmail(u.Name, u.Email, link, inv.Expires))
	if _, err := s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "invitation", Subject: "You are invited to Family Advocacy Learning",
		Text: text, HTML: html, Secret: true}); err != nil {
		return err
	}
	is, err := s.invitations()
	if err != nil {
		return err
	}
	next := *inv
	next.Mailed = true
	if _, err := is.SetInvitation(ctx, u.ID, inv.TokenHash, &next, nil, s.Now().UTC()); err != nil {
		return err
	}
	u.Invitation = &next
	return nil
}

// ResendInvitation makes a new link for the account's invitation (the
// old one stops working), emails it and records the event. It also
// re-enables an account whose invitation was revoked.
func (s *Service) ResendInvitation(ctx context.Context, actor *User, userID string) (*User, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	revoked := u.InvitationState(s.Now()) == InvitationRevoked
	if err := s.newLink(ctx, actor, u); err != nil {
		return nil, err
	}
	after := map[string]any{"expires": civil.Of(u.Invitation.Expires).String()}
	if revoked {
		after["state"] = "enabled again"
	}
	return u, s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.invitation_resend",
		Target: "user:" + u.ID, After: after})
}

// ResumeInvitation sends the invitation of an account whose link was
// made but never mailed (a crash or a failure between the two); it does
// nothing to any other account. It reports whether it sent one.
func (s *Service) ResumeInvitation(ctx context.Context, actor *User, u *User) (bool, error) {
	if u.InvitationState(s.Now()) != InvitationUnsent {
		return false, nil
	}
	return true, s.newLink(ctx, actor, u)
}

// newLink replaces the invitation's link with a new one, in one
// conditional write (if the invitation is still as read), and mails it.
func (s *Service) newLink(ctx context.Context, actor *User, u *User) error {
	switch u.InvitationState(s.Now()) {
	case InvitationNone:
		return errs.E(errs.ECONFLICT, "This account was not added by invitation: send a password reset link instead.")
	case InvitationAccepted:
		return errs.E(errs.ECONFLICT, "This person has already chosen a password: send a password reset link instead.")
	}
	if u.ErasedAt != nil || u.Erasure != nil {
		return errs.E(errs.ECONFLICT, "This account has been erased.")
	}
	is, err := s.invitations()
	if err != nil {
		return err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	prev := u.Invitation
	token, hash := NewToken()
	next := *prev
	next.TokenHash, next.Sent, next.Expires, next.Mailed, next.Sends, next.ByID, next.Revoked = hash, now, now.Add(InvitationLifetime), false, prev.Sends+1, actor.ID, nil
	var enable *bool
	if prev.Revoked != nil && u.Disabled {
		enable = new(false)
	}
	ok, err := is.SetInvitation(ctx, u.ID, prev.TokenHash, &next, enable, now)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.ECONFLICT, "The invitation changed while you were looking at it: it may have been accepted or sent again. Look at the page again.")
	}
	u.Invitation = &next
	if enable != nil {
		u.Disabled = false
	}
	return s.MailInvitation(ctx, u, token)
}

// RevokeInvitation ends the account's invitation link and disables the
// account, and records the event.
func (s *Service) RevokeInvitation(ctx context.Context, actor *User, userID string) (*User, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	switch u.InvitationState(s.Now()) {
	case InvitationNone:
		return nil, errs.E(errs.ECONFLICT, "This account was not added by invitation: there is nothing to revoke.")
	case InvitationAccepted:
		return nil, errs.E(errs.ECONFLICT, "This person has already accepted the invitation. To stop them signing in, disable the account.")
	case InvitationRevoked:
		return u, nil
	}
	is, err := s.invitations()
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	next := *u.Invitation
	next.TokenHash, next.Revoked = "", &now
	ok, err := is.SetInvitation(ctx, u.ID, u.Invitation.TokenHash, &next, new(true), now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.E(errs.ECONFLICT, "The invitation changed while you were looking at it: it may have been accepted or sent again. Look at the page again.")
	}
	u.Invitation, u.Disabled = &next, true
	_ = s.store.DeleteUserSessions(ctx, u.ID, "") // none should exist without a password
	return u, s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.invitation_revoke", Target: "user:" + u.ID})
}

// InvitationFor returns the account an invitation link (its token
// parameter, "<user ID>.<token>") belongs to, if the link can be used.
func (s *Service) InvitationFor(ctx context.Context, link string) (*User, error) {
	userID, token, ok := strings.Cut(link, ".")
	if !ok || userID == "" || token == "" {
		return nil, errInvitationLink
	}
	u, err := s.store.User(ctx, userID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, errInvitationLink
	}
	if err != nil {
		return nil, err
	}
	if u.InvitationState(s.Now()) != InvitationPending || u.Disabled || u.Erasure != nil || u.ErasedAt != nil ||
		subtle.ConstantTimeCompare([]byte(TokenID(token)), []byte(u.Invitation.TokenHash)) != 1 {
		return nil, errInvitationLink
	}
	return u, nil
}

// AcceptInvitation sets the account's first password with its invitation
// link, which is then used up, counts the address as confirmed and
// records the event. Of two requests with the link, one sets the password.
func (s *Service) AcceptInvitation(ctx context.Context, link, password string) (*User, error) {
	u, err := s.InvitationFor(ctx, link)
	if err != nil {
		return nil, err
	}
	if msg := CheckPassword(password, u.Email, u.Name); msg != "" {
		return nil, errs.FieldErrors{"password": msg}.Err()
	}
	is, err := s.invitations()
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	ok, err := is.AcceptInvitation(ctx, u.ID, u.Invitation.TokenHash, HashPassword(password), now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errInvitationLink
	}
	u.Invitation.TokenHash, u.Invitation.Accepted, u.EmailConfirm = "", &now, nil
	_ = s.store.DeleteUserResets(ctx, u.ID, "") // a reset link sent meanwhile
	return u, s.Audit.Record(ctx, audit.Event{ActorID: u.ID, Actor: u.Name, OrgID: u.OrgID, Action: "user.invitation_accept", Target: "user:" + u.ID})
}

// InvitationEmail is the email with the link to accept an invitation.
func InvitationEmail(name, email, link string, expires time.Time) notify.Email {
	return notify.Email{
		Greeting: "Hello " + name + ",",
		Paragraphs: []string{
			"We have created a Family Advocacy Learning account for you, with this address (" + email + "). It is where you take our courses, download your certificates and, if you are one of our advocates, keep your compliance record up to date.",
			"To choose your password, open the link below by " + expires.In(civil.London).Format("15:04 on 2 January 2006") + ". It works once. Then sign in with this email address and your new password.",
			"If you were not expecting this, you can ignore this email: nobody can use the account without the link.",
		},
		Action: &notify.Action{Label: "Choose my password", URL: link},
	}
}
