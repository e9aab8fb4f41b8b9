package auth

import (
	"context"
	"time"
)

// UserUpdate changes some fields of an account in one write: each non-nil
// field is set to what it points to; the rest stay as they are. Its fields
// are named as User's.
type UserUpdate struct {
	Name           *string
	Email          *string
	OrgID          *string
	Roles          *[]Role
	Updated        *time.Time
	PasswordHash   *string
	Disabled       *bool
	TOTPSecret     *string
	TOTPPending    *string
	TOTPEnabled    *bool
	RecoveryHashes *[]string
	NotifyOptional *bool
	Erasure        *Erasure
	ClearErasure   bool // removes Erasure (when Erasure is nil)
	ErasedAt       *time.Time
}

// UserQuery selects a page of users for the admin list.
type UserQuery struct {
	Search string // matches name or email, case-insensitive
	OrgID  string
	Role   Role
	Offset int
	Limit  int
}

// Throttle counts recent failures for one key (an account or an address).
type Throttle struct {
	Key         string    `bson:"_id"`
	Failures    int       `bson:"failures"`
	WindowStart time.Time `bson:"window_start"`
	LockedUntil time.Time `bson:"locked_until"`
}

// Reset is a pending password reset; its ID is the SHA-256 of the emailed token.
type Reset struct {
	ID      string    `bson:"_id"`
	UserID  string    `bson:"user_id"`
	Created time.Time `bson:"created_at"`
	Expires time.Time `bson:"expires_at"`
}

// Store is the persistence auth needs. Every method is one single-document
// operation, or a bounded scan for lists.
type Store interface {
	ClaimEmail(ctx context.Context, email, userID string, now time.Time) error // ECONFLICT when taken
	EmailClaim(ctx context.Context, email string) (userID string, claimed time.Time, err error)
	TakeOverEmail(ctx context.Context, email, fromUserID, toUserID string, now time.Time) error
	ReleaseEmail(ctx context.Context, email string) error

	InsertUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	// Users returns the accounts with these IDs, in order (nil where there
	// is none).
	Users(ctx context.Context, ids []string) ([]*User, error)
	// UpdateUser applies u to the account and increases its version.
	UpdateUser(ctx context.Context, id string, u UserUpdate) error
	ListUsers(ctx context.Context, q UserQuery) ([]User, int, error)
	CountUsers(ctx context.Context) (int, error)
	CountAdmins(ctx context.Context) (int, error)
	UseTOTPStep(ctx context.Context, userID string, step int64) error // ECONFLICT when already used
	// UseRecoveryCode removes one recovery code's hash from the user in one
	// conditional write; false when the user does not have it (any more).
	UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error)

	InsertOrg(ctx context.Context, o *Organisation) error
	Org(ctx context.Context, id string) (*Organisation, error)
	Orgs(ctx context.Context) ([]Organisation, error)

	InsertSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, id string) (*Session, error)
	TouchSession(ctx context.Context, id string, now time.Time) error
	ClearMFAPending(ctx context.Context, id string) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID, exceptID string) error
	UserSessions(ctx context.Context, userID string) ([]Session, error)

	RecordFailure(ctx context.Context, key string, now time.Time, window time.Duration) (Throttle, error)
	LockThrottle(ctx context.Context, key string, until time.Time) error
	Throttle(ctx context.Context, key string) (Throttle, error)
	ClearThrottle(ctx context.Context, key string) error

	InsertReset(ctx context.Context, r *Reset) error
	Reset(ctx context.Context, id string) (*Reset, error)
	DeleteReset(ctx context.Context, id string) (bool, error) // true when this call deleted it

	// Erasure (see personal.go).
	DeleteTOTPStep(ctx context.Context, userID string) error
	DropUserSessionList(ctx context.Context, userID string) error
	// UnlistUser removes the rows old had in the lists of people that cur
	// does not have.
	UnlistUser(ctx context.Context, old, cur *User) error
}
