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

	// A change of email address waiting for its link (email_change.go).
	EmailChange      *EmailChange
	ClearEmailChange bool // removes EmailChange (when EmailChange is nil)
}

// UserQuery selects a page of users for the admin list.
type UserQuery struct {
	Search string // matches name or email, case-insensitive
	OrgID  string
	Role   Role
	Offset int
	Limit  int
}

// Throttle counts the attempts taken in a window for one key (an account,
// an address, a user's second factor): each is taken before it is checked,
// and given back when it was right. Its key is a keyed hash.
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
	// Stamp is a keyed hash of the password the account had when the link
	// was sent: a password changed since, by any route, ends the link.
	Stamp string `bson:"stamp"`
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

	// UpdateThrottle applies change to the throttle of key (its zero
	// value and false when there is none) as one conditional write: when
	// change says true, its result is stored if the throttle is still as
	// change saw it (else change runs again on the new one). It returns
	// the throttle as stored, and whether it changed.
	UpdateThrottle(ctx context.Context, key string, change func(t Throttle, exists bool) (Throttle, bool)) (Throttle, bool, error)
	ClearThrottle(ctx context.Context, key string) error
	// CountHit counts one request against key in the current fixed window
	// (shared by every instance) and returns the count so far.
	CountHit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)

	InsertReset(ctx context.Context, r *Reset) error
	Reset(ctx context.Context, id string) (*Reset, error)
	DeleteReset(ctx context.Context, id string) (bool, error) // true when this call deleted it
	// DeleteUserResets deletes the user's pending resets but keep.
	DeleteUserResets(ctx context.Context, userID, keep string) error

	// SetEmailConfirm replaces the account's pending address confirmation
	// (removes it when next is nil), in one conditional write, if the one
	// pending is still that with the token hash prev; it reports whether it
	// did (email_confirm.go).
	SetEmailConfirm(ctx context.Context, userID, prev string, next *EmailConfirm) (bool, error)

	// Requests to join an organisation (joins.go). ListJoinRequest enters
	// a request in the lists of requests, before the account names it;
	// EndJoinRequest removes it from the account (approved: setting the
	// organisation) in one conditional write, if the account still has r,
	// and then from the lists; it reports whether it did. JoinRequests
	// returns a page of the accounts with a request to join orgID ("": any
	// organisation), oldest first, and how many there are.
	ListJoinRequest(ctx context.Context, userID string, r JoinRequest) error
	EndJoinRequest(ctx context.Context, userID string, r JoinRequest, approve bool, now time.Time) (bool, error)
	JoinRequests(ctx context.Context, orgID string, offset, limit int) ([]*User, int, error)
	CountJoinRequests(ctx context.Context, orgID string) (int, error)

	// Erasure (see personal.go).
	DeleteTOTPStep(ctx context.Context, userID string) error
	DropUserSessionList(ctx context.Context, userID string) error
	// UnlistUser removes the rows old had in the lists of people that cur
	// does not have.
	UnlistUser(ctx context.Context, old, cur *User) error
}
