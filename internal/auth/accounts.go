package auth

import (
	"context"
	"time"
)

// Reads and small writes the pages about accounts, organisations and
// sessions need; each is one store call.

// User returns the account with this ID.
func (s *Service) User(ctx context.Context, id string) (*User, error) { return s.store.User(ctx, id) }

// Users returns the accounts with these IDs, in order (nil where there is
// none), read a few at a time.
func (s *Service) Users(ctx context.Context, ids []string) ([]*User, error) {
	return s.store.Users(ctx, ids)
}

// ListUsers returns a page of accounts, sorted by name, and the total matching.
func (s *Service) ListUsers(ctx context.Context, q UserQuery) ([]User, int, error) {
	return s.store.ListUsers(ctx, q)
}

// CountUsers returns the number of accounts.
func (s *Service) CountUsers(ctx context.Context) (int, error) { return s.store.CountUsers(ctx) }

// CountAdmins returns the number of enabled administrator accounts.
func (s *Service) CountAdmins(ctx context.Context) (int, error) { return s.store.CountAdmins(ctx) }

// Organisation returns one organisation.
func (s *Service) Organisation(ctx context.Context, id string) (*Organisation, error) {
	return s.store.Org(ctx, id)
}

// Organisations returns every organisation.
func (s *Service) Organisations(ctx context.Context) ([]Organisation, error) {
	return s.store.Orgs(ctx)
}

// Session returns one session by its stored ID (whoever it belongs to:
// callers check the owner).
func (s *Service) Session(ctx context.Context, id string) (*Session, error) {
	return s.store.Session(ctx, id)
}

// Sessions returns a user's sessions.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	return s.store.UserSessions(ctx, userID)
}

// TouchSession records that a session was used at now (it keeps the idle
// timer running).
func (s *Service) TouchSession(ctx context.Context, id string, now time.Time) error {
	return s.store.TouchSession(ctx, id, now)
}

// SetOptionalReminders turns a user's optional reminders on or off.
func (s *Service) SetOptionalReminders(ctx context.Context, userID string, on bool) error {
	return s.store.UpdateUser(ctx, userID, UserUpdate{NotifyOptional: &on})
}
