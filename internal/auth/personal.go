package auth

import (
	"context"
	"time"
)

// Erasure of an account, in the order privacy.Service.Erase calls these:
// BeginErasure first (so an interrupted erasure can be finished, and the
// account is unusable meanwhile), EraseSignIns with the rest of the
// person's records, AnonymiseAccount near the end and FinishErasure last.
// Each is idempotent.

// ErasedName is what an erased person is called from then on.
const ErasedName = "Erased user"

// ErasedEmail is the address an erased account is left with.
func ErasedEmail(userID string) string { return "erased-" + userID + "@erased.invalid" }

// BeginErasure records what identifies the person while their data is
// erased (er: the name and email to find in other records) and disables
// the account.
func (s *Service) BeginErasure(ctx context.Context, userID string, er *Erasure) error {
	return s.store.UpdateUser(ctx, userID, UserUpdate{Erasure: er, Disabled: new(true)})
}

// EraseSignIns deletes what lets the person sign in or shows that they
// did: their sessions, password resets, last two-factor time step, the
// failed sign-in counters against their addresses, and the claims on
// their addresses (claims: the addresses whose claim is theirs), which
// someone may then register again.
func (s *Service) EraseSignIns(ctx context.Context, userID string, claims, addresses, resets []string) error {
	if err := s.store.DeleteUserSessions(ctx, userID, ""); err != nil {
		return err
	}
	for _, id := range resets {
		if _, err := s.store.DeleteReset(ctx, id); err != nil {
			return err
		}
	}
	if err := s.store.DeleteTOTPStep(ctx, userID); err != nil {
		return err
	}
	for _, a := range addresses {
		if err := s.store.ClearThrottle(ctx, s.AccountThrottleKey(a)); err != nil {
			return err
		}
	}
	for _, email := range claims {
		if err := s.store.ReleaseEmail(ctx, email); err != nil {
			return err
		}
	}
	return nil
}

// AnonymiseAccount ends any request to join an organisation, replaces the
// account's name and email, removes its password and second factor and
// turns its optional email off. The lists of people are rewritten with
// the account (UpdateUser); the rows under the name and email it had (er)
// are removed again here, in case a crash came between the two.
func (s *Service) AnonymiseAccount(ctx context.Context, u *User, er *Erasure, now time.Time) error {
	if u.JoinRequest != nil { // out of the managers' lists of requests
		if _, err := s.store.EndJoinRequest(ctx, u.ID, *u.JoinRequest, false, now); err != nil {
			return err
		}
	}
	err := s.store.UpdateUser(ctx, u.ID, UserUpdate{Name: new(ErasedName), Email: new(ErasedEmail(u.ID)), PasswordHash: new(""),
		TOTPSecret: new(""), TOTPPending: new(""), TOTPEnabled: new(false), RecoveryHashes: &[]string{}, Disabled: new(true),
		NotifyOptional: new(false), Updated: &now, ClearEmailChange: true})
	if err != nil {
		return err
	}
	old, cur := *u, *u
	old.Name, old.Email = er.Name, er.Email
	cur.Name, cur.Email = ErasedName, ErasedEmail(u.ID)
	return s.store.UnlistUser(ctx, &old, &cur)
}

// FinishErasure drops the person's (now empty) list of sessions and marks
// the account erased.
func (s *Service) FinishErasure(ctx context.Context, userID string, at time.Time) error {
	if err := s.store.DropUserSessionList(ctx, userID); err != nil {
		return err
	}
	return s.store.UpdateUser(ctx, userID, UserUpdate{ErasedAt: &at, ClearErasure: true})
}
