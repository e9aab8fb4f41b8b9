package auth

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Changing the email address: asked for with the current password (and
// code), it waits on the account until the link sent to the new address
// is followed, within an hour; the old address is told at once. A newer
// request replaces the pending one, and a password change by any route
// cancels it (the person who was warned resets their password).

// EmailChangeLifetime is how long the link confirming a new address works.
const EmailChangeLifetime = time.Hour

// EmailChange is a new address waiting for the link sent to it.
type EmailChange struct {
	Email     string    `bson:"email"`      // the new address, normalised
	TokenHash string    `bson:"token_hash"` // SHA-256 (hex) of the emailed token
	Password  string    `bson:"password"`   // keyed hash of the password hash when asked
	Requested time.Time `bson:"requested_at"`
	Expires   time.Time `bson:"expires_at"`
}

// Live reports whether the change can still be confirmed at now.
func (c *EmailChange) Live(now time.Time) bool { return c != nil && now.Before(c.Expires) }

const emailChangePasswordPurpose = "email-change-password:"

// errEmailLink is the one answer for any link that cannot be used.
var errEmailLink = errs.E(errs.ENOTFOUND, "This link to confirm an email address has expired or has already been used. Sign in and ask for the change again.")

// RequestEmailChange checks the proof of identity, keeps the new address
// pending on the account, emails a confirmation link to it and tells the
// old address. Problems are reported on new_email, current_password and
// code.
func (s *Service) RequestEmailChange(ctx context.Context, u *User, newEmail string, r Reauth) error {
	fe := errs.FieldErrors{}
	email, ok := NormaliseEmail(newEmail)
	switch {
	case email == "":
		fe.Add("new_email", "Enter your new email address")
	case !ok:
		fe.Add("new_email", "Enter an email address in the correct format, like name@example.org")
	case email == u.Email:
		fe.Add("new_email", "This is your email address already. Enter a different one")
	}
	for k, v := range r.missing(u) {
		fe.Add(k, v)
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, u, r); err != nil {
		return err
	}
	if owner, _, err := s.store.EmailClaim(ctx, email); err == nil && owner != u.ID {
		return errs.FieldErrors{"new_email": "An account with this email address already exists"}.Err()
	} else if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return err
	}

	now := s.Now().UTC()
	token, hash := NewToken()
	ch := &EmailChange{Email: email, TokenHash: hash, Password: s.Box.Hash(emailChangePasswordPurpose+u.ID, u.PasswordHash),
		Requested: now, Expires: now.Add(EmailChangeLifetime)}
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{EmailChange: ch}); err != nil {
		return err
	}
	link := s.BaseURL + "/account/email/confirm?token=" + u.ID + "." + token
	text, html := notify.Compose(EmailChangeEmail(u.Name, email, link))
	if _, err := s.Mail.Send(ctx, notify.Message{To: email, UserID: u.ID, Kind: "email_change", Subject: "Confirm your new email address",
		Text: text, HTML: html, Secret: true}); err != nil {
		return err
	}
	text, html = notify.Compose(EmailChangeNotice(u.Name, email, s.BaseURL+"/password/forgot"))
	_, err := s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "email_change_notice", Subject: "Your email address is being changed",
		Text: text, HTML: html})
	return err
}

// EmailChangeFor returns the account and pending change a confirmation
// link (its token) belongs to, if the link can still be used.
func (s *Service) EmailChangeFor(ctx context.Context, link string) (*User, *EmailChange, error) {
	userID, token, ok := strings.Cut(link, ".")
	if !ok || userID == "" || token == "" {
		return nil, nil, errEmailLink
	}
	u, err := s.store.User(ctx, userID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, nil, errEmailLink
	}
	if err != nil {
		return nil, nil, err
	}
	ch := u.EmailChange
	if !ch.Live(s.Now()) || u.Disabled || u.Erasure != nil ||
		subtle.ConstantTimeCompare([]byte(TokenID(token)), []byte(ch.TokenHash)) != 1 ||
		subtle.ConstantTimeCompare([]byte(s.Box.Hash(emailChangePasswordPurpose+u.ID, u.PasswordHash)), []byte(ch.Password)) != 1 {
		return nil, nil, errEmailLink
	}
	return u, ch, nil
}

// ConfirmEmailChange makes the pending change with its link: the new
// address is claimed, set on the account and the old one released. It
// returns the account as it was.
func (s *Service) ConfirmEmailChange(ctx context.Context, link string) (*User, error) {
	u, ch, err := s.EmailChangeFor(ctx, link)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	if err := s.claimEmail(ctx, ch.Email, u.ID, now); err != nil {
		if errs.Fields(err) == nil {
			return nil, err
		}
		// Taken since: by this account (the link followed twice at once)
		// is fine; by anyone else is not.
		if owner, _, cerr := s.store.EmailClaim(ctx, ch.Email); cerr != nil || owner != u.ID {
			return nil, errs.E(errs.ECONFLICT, "Another account now uses %s, so your email address cannot be changed to it.", ch.Email)
		}
	}
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{Email: &ch.Email, ClearEmailChange: true, Updated: &now}); err != nil {
		_ = s.store.ReleaseEmail(context.WithoutCancel(ctx), ch.Email)
		return nil, err
	}
	if owner, _, err := s.store.EmailClaim(ctx, u.Email); err == nil && owner == u.ID {
		_ = s.store.ReleaseEmail(ctx, u.Email)
	}
	if u.EmailConfirm != nil { // the new address is confirmed by its link (email_confirm.go)
		_, _ = s.store.SetEmailConfirm(ctx, u.ID, u.EmailConfirm.TokenHash, nil)
	}
	return u, nil
}

// EmailChangeEmail is the email to a new address with the link that
// confirms it.
func EmailChangeEmail(name, email, link string) notify.Email {
	return notify.Email{
		Greeting: "Hello " + name + ",",
		Paragraphs: []string{
			"Someone (we hope you) asked to use " + email + " for their Family Advocacy Learning account.",
			"To confirm that this address is yours, open the link below within one hour. Your account keeps its old address until you do.",
			"If you did not ask for this, you can ignore this email: nothing will change.",
		},
		Action: &notify.Action{Label: "Confirm my new email address", URL: link},
	}
}

// EmailChangeNotice is the email that tells the old address of a change.
func EmailChangeNotice(name, email, forgotURL string) notify.Email {
	return notify.Email{
		Greeting: "Hello " + name + ",",
		Paragraphs: []string{
			"Someone signed in to your Family Advocacy Learning account asked to change its email address to " + email + ". The change happens only if the link we sent to that address is followed within one hour.",
			"If this was you, there is nothing more to do here.",
			"If it was not you, reset your password now with the link below: that cancels the change and signs the account out everywhere. Then tell your organisation's administrator.",
		},
		Action: &notify.Action{Label: "Reset my password", URL: forgotURL},
	}
}
