package auth

import (
	"context"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Password resets: the emailed single-use link and setting a password.

// RequestPasswordReset emails a single-use link if the address has an
// enabled account. It says nothing about whether it does.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email, ok := NormaliseEmail(email)
	if !ok {
		return errs.FieldErrors{"email": "Enter an email address in the correct format, like name@example.org"}.Err()
	}
	u, err := s.UserByEmail(ctx, email)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return nil
	}
	now := s.Now().UTC()
	token, id := NewToken()
	if err := s.store.InsertReset(ctx, &Reset{ID: id, UserID: u.ID, Created: now, Expires: now.Add(ResetTokenLifetime), Stamp: s.resetStamp(u)}); err != nil {
		return err
	}
	// Only the newest link works: the ones sent before end here.
	if err := s.store.DeleteUserResets(ctx, u.ID, id); err != nil {
		return err
	}
	link := s.BaseURL + "/password/reset?token=" + token
	text, html := notify.Compose(ResetEmail(u.Name, link))
	// Secret: the link is kept encrypted in the outbox and never shown to staff.
	_, err = s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "password_reset", Subject: "Reset your password", Text: text, HTML: html, Secret: true})
	return err
}

// resetStamp ties a reset to the account's password hash at the time (a
// keyed hash of it), so changing the password by any route ends the links
// sent before, even one issued while the password was being changed.
func (s *Service) resetStamp(u *User) string {
	return s.Box.Hash("password-reset-stamp", u.ID+"\x00"+u.PasswordHash)
}

// ForgotPassword is a request from the sign-in page (POST
// /password/forgot) to email a reset link to an address, from the client
// address addr. It is counted per address and per account, and past
// either limit nothing is sent and nothing said: the answer is the same
// whether or not the address has an account, however often it is asked.
func (s *Service) ForgotPassword(ctx context.Context, email, addr string) error {
	norm, ok := NormaliseEmail(email)
	if !ok {
		return s.RequestPasswordReset(ctx, email) // the field problem
	}
	over, err := s.overLimit(ctx, "reset-addr", addr, ResetAddressLimit, ResetWindow)
	if err != nil || over {
		return err
	}
	// Counted for unknown addresses too, so both are answered alike.
	if over, err = s.overLimit(ctx, "reset-acct", norm, ResetAccountLimit, ResetWindow); err != nil || over {
		return err
	}
	return s.RequestPasswordReset(ctx, norm)
}

// ResetUser returns the account a reset token belongs to, if it is valid.
func (s *Service) ResetUser(ctx context.Context, token string) (*User, error) {
	gone := errs.E(errs.ENOTFOUND, "This password reset link has expired or has already been used. Ask for a new one.")
	r, err := s.store.Reset(ctx, TokenID(token))
	if err != nil || s.Now().After(r.Expires) {
		return nil, gone
	}
	u, err := s.store.User(ctx, r.UserID)
	if err != nil {
		return nil, err
	}
	if r.Stamp != s.resetStamp(u) { // the password has changed since
		return nil, gone
	}
	return u, nil
}

// ResetPassword sets a new password with a reset token, which is then used
// up, and ends every session of the account.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (*User, error) {
	u, err := s.ResetUser(ctx, token)
	if err != nil {
		return nil, err
	}
	if msg := CheckPassword(password, u.Email, u.Name); msg != "" {
		return nil, errs.FieldErrors{"password": msg}.Err()
	}
	deleted, err := s.store.DeleteReset(ctx, TokenID(token))
	if err != nil {
		return nil, err
	}
	if !deleted { // a concurrent request used it first
		return nil, errs.E(errs.ENOTFOUND, "This password reset link has expired or has already been used. Ask for a new one.")
	}
	if err := s.setPassword(ctx, u, password); err != nil {
		return nil, err
	}
	_ = s.store.DeleteUserSessions(ctx, u.ID, "")
	_ = s.store.ClearThrottle(ctx, s.AccountThrottleKey(u.Email))
	return u, nil
}

// setPassword sets a new password (every route that changes one comes
// here) and deletes the account's pending reset links, which the new
// password's stamp has ended already.
func (s *Service) setPassword(ctx context.Context, u *User, password string) error {
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: new(HashPassword(password)), Updated: new(s.Now().UTC())}); err != nil {
		return err
	}
	_ = s.store.DeleteUserResets(ctx, u.ID, "")
	return nil
}

// ResetEmail is the email with a password reset link.
func ResetEmail(name, link string) notify.Email {
	return notify.Email{
		Greeting: "Hello " + name + ",",
		Paragraphs: []string{
			"Someone (we hope you) asked to reset the password for your Family Advocacy Learning account.",
			"To choose a new password, open the link below within one hour. It works once.",
			"If you did not ask for this, you can ignore this email: your password has not changed.",
		},
		Action: &notify.Action{Label: "Choose a new password", URL: link},
	}
}
