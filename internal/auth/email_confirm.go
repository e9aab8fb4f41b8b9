package auth

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Self-registration (LMS_REGISTRATION). In verify mode, the default, a
// person who registers gets a link at the address they gave; until they
// follow it they can sign in and look around but not enrol on a course.
// Only the newest link works, once, for EmailConfirmLifetime; it is kept
// as the SHA-256 of its token, and its email is sealed in the outbox like
// a password reset. Accounts staff create (invitations, advocates) and
// those made in open mode have nothing to confirm; nor has an account whose
// new address was confirmed by an email change.

// RegistrationMode says who may create an account.
type RegistrationMode string

// The registration modes.
const (
	RegistrationOpen   RegistrationMode = "open"   // anyone, at once
	RegistrationVerify RegistrationMode = "verify" // anyone, confirming their address before enrolling
	RegistrationInvite RegistrationMode = "invite" // nobody: staff create accounts
)

// Links to confirm an address, and how often they are sent.
const (
	EmailConfirmLifetime = 24 * time.Hour
	ConfirmAccountLimit  = 5  // links sent to one account per ConfirmWindow, the first included
	ConfirmAddressLimit  = 20 // links asked for again from one network address per ConfirmWindow
	ConfirmWindow        = time.Hour
)

// EmailConfirm is an account's address waiting to be confirmed, with the
// newest link sent to it.
type EmailConfirm struct {
	TokenHash string    `bson:"token_hash"` // SHA-256 (hex) of the emailed token
	Sent      time.Time `bson:"sent_at"`
	Expires   time.Time `bson:"expires_at"`
}

// EmailConfirmed reports whether the account's address is confirmed (or
// never needed to be): only then may its owner enrol on courses.
func (u *User) EmailConfirmed() bool { return u.EmailConfirm == nil }

// newEmailConfirm sets a new pending confirmation on u and returns the
// token of its link.
func (u *User) newEmailConfirm(now time.Time) string {
	token, hash := NewToken()
	now = now.UTC().Truncate(time.Millisecond) // as stored
	u.EmailConfirm = &EmailConfirm{TokenHash: hash, Sent: now, Expires: now.Add(EmailConfirmLifetime)}
	return token
}

// SelfRegistration returns who may create an account.
func (s *Service) SelfRegistration() RegistrationMode {
	if s.Registration == "" {
		return RegistrationVerify
	}
	return s.Registration
}

var (
	errRegistrationClosed = errs.E(errs.EFORBIDDEN, "Accounts are created by the organisation. If you work with us, ask your manager or our office for an invitation.")
	errConfirmLink        = errs.E(errs.ENOTFOUND, "This link to confirm your email address has expired, has already been used or has been replaced by a newer one. Sign in to send yourself a new one.")
)

// confirmLimits counts a link to confirm an account's address against
// the account's limit and, when it is asked for from the client address
// addr, that address's; ETOOMANY past either.
func (s *Service) confirmLimits(ctx context.Context, userID, addr string) error {
	if addr != "" {
		if over, err := s.overLimit(ctx, "confirm-addr", addr, ConfirmAddressLimit, ConfirmWindow); err != nil || over {
			return orTooMany(err, over)
		}
	}
	over, err := s.overLimit(ctx, "confirm-acct", userID, ConfirmAccountLimit, ConfirmWindow)
	return orTooMany(err, over)
}

func orTooMany(err error, over bool) error {
	if err != nil || !over {
		return err
	}
	return errs.E(errs.ETOOMANY, "We have sent several links to confirm your email address in the last hour. Check your inbox and spam folder for the newest one, or send another later.")
}

// sendEmailConfirm emails the link with token to the account's address,
// sealed in the outbox (the link is a secret).
func (s *Service) sendEmailConfirm(ctx context.Context, u *User, token string) error {
	link := s.BaseURL + "/account/confirm?token=" + u.ID + "." + token
	text, html := notify.Compose(EmailConfirmEmail(u.Name, u.Email, link))
	_, err := s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "email_confirm", Subject: "Confirm your email address",
		Text: text, HTML: html, Secret: true})
	return err
}

// ResendEmailConfirm sends a new link to confirm the account's address
// (POST /account/confirm/send, from the client address addr), and the
// links sent before stop working. It is limited per account and per
// address; past a limit the newest link sent stays the one that works.
func (s *Service) ResendEmailConfirm(ctx context.Context, u *User, addr string) error {
	if u.EmailConfirmed() {
		return nil
	}
	if err := s.confirmLimits(ctx, u.ID, addr); err != nil {
		return err
	}
	next := *u
	token := next.newEmailConfirm(s.Now())
	// Only while the address still waits (not confirmed meanwhile).
	ok, err := s.store.SetEmailConfirm(ctx, u.ID, u.EmailConfirm.TokenHash, next.EmailConfirm)
	if err != nil || !ok {
		return err
	}
	return s.sendEmailConfirm(ctx, &next, token)
}

// EmailConfirmFor returns the account a confirmation link (its token
// parameter) belongs to, if the link can still be used.
func (s *Service) EmailConfirmFor(ctx context.Context, link string) (*User, error) {
	userID, token, ok := strings.Cut(link, ".")
	if !ok || userID == "" || token == "" {
		return nil, errConfirmLink
	}
	u, err := s.store.User(ctx, userID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, errConfirmLink
	}
	if err != nil {
		return nil, err
	}
	c := u.EmailConfirm
	if c == nil || !s.Now().Before(c.Expires) || u.Disabled || u.Erasure != nil ||
		subtle.ConstantTimeCompare([]byte(TokenID(token)), []byte(c.TokenHash)) != 1 {
		return nil, errConfirmLink
	}
	return u, nil
}

// ConfirmEmail confirms the account's address with its link, which is then
// used up: one conditional write, so of two requests with the link only
// one confirms.
func (s *Service) ConfirmEmail(ctx context.Context, link string) (*User, error) {
	u, err := s.EmailConfirmFor(ctx, link)
	if err != nil {
		return nil, err
	}
	ok, err := s.store.SetEmailConfirm(ctx, u.ID, u.EmailConfirm.TokenHash, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errConfirmLink
	}
	u.EmailConfirm = nil
	return u, nil
}

// EmailConfirmEmail is the email with the link that confirms a new
// account's address.
func EmailConfirmEmail(name, email, link string) notify.Email {
	return notify.Email{
		Greeting: "Hello " + name + ",",
		Paragraphs: []string{
			"Thank you for creating a Family Advocacy Learning account with " + email + ".",
			"To confirm that this address is yours, open the link below within 24 hours. Once you have, you can enrol on courses.",
			"If you did not create an account, you can ignore this email: without the link, the address stays unconfirmed.",
		},
		Action: &notify.Action{Label: "Confirm my email address", URL: link},
	}
}
