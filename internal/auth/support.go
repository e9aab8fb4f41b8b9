package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/errs"
)

// What an administrator does for a person who calls for help, from the
// person's page: each is audited, with the administrator as the actor.

// SendPasswordReset emails the account a password reset link (as "forgot
// password" does, without its limits) and records the event.
func (s *Service) SendPasswordReset(ctx context.Context, actor *User, userID string) error {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return err
	}
	switch {
	case u.Disabled:
		return errs.E(errs.ECONFLICT, "This account is disabled: enable it first.")
	case u.InvitationState(s.Now()) != InvitationNone && u.InvitationState(s.Now()) != InvitationAccepted:
		return errs.E(errs.ECONFLICT, "This person has not accepted their invitation yet: send the invitation again instead.")
	}
	if err := s.RequestPasswordReset(ctx, u.Email); err != nil {
		return err
	}
	return s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.password_reset_sent", Target: "user:" + u.ID})
}

// ResetTwoFactor turns the account's two-factor authentication off (its
// secret and recovery codes are deleted), for someone who has lost their
// phone, and ends the account's sessions; a manager or administrator sets
// it up again at their next sign-in. It needs a reason, which the audit
// log keeps, and is not for the administrator's own account.
func (s *Service) ResetTwoFactor(ctx context.Context, actor *User, userID, reason string) error {
	reason = strings.TrimSpace(reason)
	if actor.ID == userID {
		return errs.E(errs.EFORBIDDEN, "You cannot reset your own two-factor authentication: ask another administrator, or use a recovery code to sign in.")
	}
	switch {
	case reason == "":
		return errs.FieldErrors{"reason": "Say why two-factor authentication is being reset, for example “Lost their phone; identity checked by a call back on the number we hold”"}.Err()
	case utf8.RuneCountInString(reason) > 500:
		return errs.FieldErrors{"reason": "Keep the reason to 500 characters or fewer"}.Err()
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled && u.TOTPPending == "" && u.TOTPSecret == "" {
		return errs.E(errs.ECONFLICT, "This person has no two-factor authentication to reset.")
	}
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{TOTPSecret: new(""), TOTPPending: new(""), TOTPEnabled: new(false), RecoveryHashes: &[]string{},
		Updated: new(s.Now().UTC())}); err != nil {
		return err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return err
	}
	return s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.two_factor_reset", Target: "user:" + u.ID,
		Before: map[string]any{"state": "two-factor on"}, After: map[string]any{"state": "two-factor off"}, Note: reason})
}

// SignOutEverywhere ends every session of the account (on the
// administrator's own account, every one but keep, the session asking)
// and records the event. It returns how many it ended.
func (s *Service) SignOutEverywhere(ctx context.Context, actor *User, userID, keep string) (int, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	if actor.ID != u.ID {
		keep = ""
	}
	sessions, err := s.store.UserSessions(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sess := range sessions {
		if sess.ID != keep {
			n++
		}
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, keep); err != nil {
		return 0, err
	}
	return n, s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: u.OrgID, Action: "user.sign_out_everywhere", Target: "user:" + u.ID,
		After: map[string]any{"sessions": n}})
}

// SignIns is what is known of an account's signing in: its sessions that
// are still live (the most recently used first), and from every session
// not yet deleted its last sign-in and last activity. A session is deleted
// once SessionAbsolute has passed, so an older sign-in is not known.
type SignIns struct {
	Sessions   []Session
	LastSignIn time.Time // zero: none within SessionAbsolute
	LastSeen   time.Time
}

// SignInsOf returns what is known of an account's signing in (its list
// of sessions: a few point reads).
func (s *Service) SignInsOf(ctx context.Context, userID string) (*SignIns, error) {
	all, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := &SignIns{}
	now := s.Now()
	for _, sess := range all {
		if sess.MFAPending {
			continue // not signed in yet
		}
		if sess.Alive(now) {
			out.Sessions = append(out.Sessions, sess)
		}
		if sess.Created.After(out.LastSignIn) {
			out.LastSignIn = sess.Created
		}
		if sess.LastSeen.After(out.LastSeen) {
			out.LastSeen = sess.LastSeen
		}
	}
	return out, nil
}
