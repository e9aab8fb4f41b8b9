package auth

import (
	"context"
	"errors"

	"github.com/family-advocacy/lms/internal/errs"
)

// Re-authentication: actions that change how an account is reached or
// protected (its email address, password, second factor and recovery
// codes) ask again for the current password, and for a code where
// two-factor authentication is on, so a session left open or stolen
// cannot take the account over. A wrong password or code counts against
// the same throttles as sign-in.

// Reauth is the proof of identity such an action carries.
type Reauth struct {
	Password  string // the current password
	Code      string // a TOTP or recovery code; needed when two-factor is on
	Addr      string // the client's address, throttled as at sign-in
	SessionID string // the session asking
}

// missing returns a problem for each part of the proof left blank.
func (r Reauth) missing(u *User) errs.FieldErrors {
	fe := errs.FieldErrors{}
	if r.Password == "" {
		fe.Add("current_password", "Enter your current password")
	}
	if u.TOTPEnabled && r.Code == "" {
		fe.Add("code", "Enter the 6-digit code from your authenticator app, or a recovery code")
	}
	return fe
}

// Reauthenticate checks the current password and, when two-factor is on,
// a code (a recovery code is then used up). It returns field problems for
// current_password and code, or ETOOMANY while sign-in is locked.
func (s *Service) Reauthenticate(ctx context.Context, u *User, r Reauth) error {
	if err := r.missing(u).Err(); err != nil {
		return err
	}
	return s.reauthenticate(ctx, u, r)
}

// reauthenticate checks a complete proof: the password under the sign-in
// throttles of the account and the client's address (checkPassword), then
// the code under the second factor's (VerifySecondFactor).
func (s *Service) reauthenticate(ctx context.Context, u *User, r Reauth) error {
	if err := s.checkPassword(ctx, s.Now().UTC(), u.Email, u.PasswordHash, r.Password, r.Addr); err != nil {
		if errors.Is(err, errBadLogin) {
			return errs.FieldErrors{"current_password": "Your current password is incorrect"}.Err()
		}
		return err
	}
	if u.TOTPEnabled {
		// The session has passed its second factor already, so marking it
		// so changes nothing.
		return s.VerifySecondFactor(ctx, r.SessionID, u, r.Code)
	}
	return nil
}

// CompleteSecondFactor checks the code of a session waiting for one and,
// when it is right, replaces that session with a new signed-in one: the
// token the browser held before the second factor never becomes a
// signed-in session. It returns the new session's token.
func (s *Service) CompleteSecondFactor(ctx context.Context, pendingID string, u *User, code string) (string, *Session, error) {
	pending, err := s.store.Session(ctx, pendingID)
	if err != nil {
		return "", nil, err
	}
	if !pending.MFAPending || pending.UserID != u.ID {
		return "", nil, errs.E(errs.ENOTFOUND, "session not waiting for a code")
	}
	// The new session waits for the code too until the check passes on it.
	token, sess, err := s.startSession(ctx, u, pending.UserAgent, true)
	if err != nil {
		return "", nil, err
	}
	if err := s.VerifySecondFactor(ctx, sess.ID, u, code); err != nil {
		_ = s.store.DeleteSession(context.WithoutCancel(ctx), sess.ID)
		return "", nil, err
	}
	sess.MFAPending = false
	if err := s.store.DeleteSession(ctx, pendingID); err != nil {
		_ = s.store.DeleteSession(context.WithoutCancel(ctx), sess.ID)
		return "", nil, err
	}
	return token, sess, nil
}
