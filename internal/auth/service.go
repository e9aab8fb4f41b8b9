package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
)

// Sign-in throttling: after this many failures within the window, the
// account (or address) is locked for a time that doubles with each further
// failure, up to MaxLock.
const (
	AccountFailureLimit = 5
	AddressFailureLimit = 20 // many people can share one office address
	FailureWindow       = time.Hour
	FirstLock           = time.Minute
	MaxLock             = 30 * time.Minute
	ResetTokenLifetime  = time.Hour
	danglingClaimAge    = time.Minute
)

// Deps are what a Service uses besides its store.
type Deps struct {
	Box     *secrets.Box
	Mail    *notify.Mailer
	Now     func() time.Time
	BaseURL string
	Log     *slog.Logger
}

// Service implements accounts, sign-in and sessions. Its store stays
// inside: other packages use the methods.
type Service struct {
	Deps
	store Store
}

// NewService returns the service on st.
func NewService(st Store, d Deps) *Service { return &Service{Deps: d, store: st} }

// NewID returns a random identifier of 16 bytes in hex.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewToken returns a random 32-byte token (base64url) and its SHA-256 (hex),
// which is what is stored.
func NewToken() (token, id string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenID(token)
}

// TokenID returns the stored form (SHA-256, hex) of a token.
func TokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Register creates an account with the learner role.
func (s *Service) Register(ctx context.Context, r Registration) (*User, error) {
	if err := r.Validate(func(id string) bool { _, err := s.store.Org(ctx, id); return err == nil }); err != nil {
		return nil, err
	}
	return s.CreateUser(ctx, r.Email, r.Name, HashPassword(r.Password), r.OrgID, r.JobRole, []Role{RoleLearner})
}

// CreateUser claims the email and inserts the account. A claim left behind by
// a crash between the two steps is taken over after a minute.
func (s *Service) CreateUser(ctx context.Context, email, name, hash, orgID string, job JobRole, roles []Role) (*User, error) {
	now := s.Now().UTC()
	u := &User{
		ID: NewID(), Email: email, Name: name, OrgID: orgID, JobRole: job, Roles: roles,
		Created: now, Updated: now, PasswordHash: hash, NotifyOptional: true, Version: 1,
	}
	if err := s.claimEmail(ctx, email, u.ID, now); err != nil {
		return nil, err
	}
	if err := s.store.InsertUser(ctx, u); err != nil {
		_ = s.store.ReleaseEmail(ctx, email)
		return nil, fmt.Errorf("auth: insert user: %w", err)
	}
	return u, nil
}

func (s *Service) claimEmail(ctx context.Context, email, userID string, now time.Time) error {
	err := s.store.ClaimEmail(ctx, email, userID, now)
	if !errs.Is(err, errs.ECONFLICT) {
		return err
	}
	owner, claimed, cerr := s.store.EmailClaim(ctx, email)
	if cerr != nil {
		return cerr
	}
	if _, uerr := s.store.User(ctx, owner); errs.Is(uerr, errs.ENOTFOUND) && now.Sub(claimed) > danglingClaimAge {
		return s.store.TakeOverEmail(ctx, email, owner, userID, now)
	}
	return errs.FieldErrors{"email": "An account with this email address already exists. Sign in, or reset your password if you have forgotten it."}.Err()
}

// UserByEmail returns the account with this email.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	email, _ = NormaliseEmail(email)
	owner, _, err := s.store.EmailClaim(ctx, email)
	if err != nil {
		return nil, err
	}
	return s.store.User(ctx, owner)
}

// LoginResult is the outcome of a successful password check.
type LoginResult struct {
	User         *User
	Token        string // the new session's cookie value
	Session      *Session
	NeedsCode    bool // TOTP enabled: the session waits for a code
	MustSetupMFA bool // role requires 2FA and none is set up yet
}

// errBadLogin is the one message for any wrong email or password.
var errBadLogin = errs.E(errs.EINVALID, "The email address or password is incorrect.")

// Login checks the password (with throttling per account and per address)
// and starts a new session.
func (s *Service) Login(ctx context.Context, email, password, addr, userAgent string) (*LoginResult, error) {
	now := s.Now().UTC()
	email, _ = NormaliseEmail(email)
	acctKey, addrKey := "acct:"+email, "addr:"+addr
	if err := s.checkLocked(ctx, now, acctKey, addrKey); err != nil {
		return nil, err
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return nil, err
	}
	if u == nil {
		VerifyPassword(dummyHash, password) // same time as a real check
		return nil, s.fail(ctx, now, acctKey, addrKey)
	}
	if !VerifyPassword(u.PasswordHash, password) {
		return nil, s.fail(ctx, now, acctKey, addrKey)
	}
	if u.Disabled {
		return nil, errs.E(errs.EFORBIDDEN, "This account has been disabled. Please contact an administrator.")
	}
	_ = s.store.ClearThrottle(ctx, acctKey)
	token, sess, err := s.startSession(ctx, u, userAgent, u.TOTPEnabled)
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: u, Token: token, Session: sess, NeedsCode: u.TOTPEnabled, MustSetupMFA: u.NeedsTwoFactor() && !u.TOTPEnabled}, nil
}

func (s *Service) startSession(ctx context.Context, u *User, userAgent string, mfaPending bool) (string, *Session, error) {
	now := s.Now().UTC()
	token, id := NewToken()
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	sess := &Session{ID: id, UserID: u.ID, Created: now, LastSeen: now, Expires: now.Add(SessionAbsolute), MFAPending: mfaPending, UserAgent: userAgent}
	if err := s.store.InsertSession(ctx, sess); err != nil {
		return "", nil, fmt.Errorf("auth: insert session: %w", err)
	}
	return token, sess, nil
}

// checkLocked returns ETOOMANY when any key is locked now.
func (s *Service) checkLocked(ctx context.Context, now time.Time, keys ...string) error {
	for _, k := range keys {
		t, err := s.store.Throttle(ctx, k)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return err
		}
		if now.Before(t.LockedUntil) {
			return lockedErr(t.LockedUntil.Sub(now))
		}
	}
	return nil
}

func lockedErr(d time.Duration) error {
	mins := int(math.Ceil(d.Minutes()))
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	return errs.E(errs.ETOOMANY, "Too many failed sign-in attempts. For your security, sign-in is paused: try again in %d %s, or reset your password.", mins, unit)
}

// fail records a failed attempt against each key and locks those over their limit.
func (s *Service) fail(ctx context.Context, now time.Time, acctKey, addrKey string) error {
	var lockFor time.Duration
	for _, k := range []struct {
		key   string
		limit int
	}{{acctKey, AccountFailureLimit}, {addrKey, AddressFailureLimit}} {
		t, err := s.store.RecordFailure(ctx, k.key, now, FailureWindow)
		if err != nil {
			return err
		}
		if t.Failures >= k.limit {
			d := lockDuration(t.Failures - k.limit)
			if err := s.store.LockThrottle(ctx, k.key, now.Add(d)); err != nil {
				return err
			}
			lockFor = max(lockFor, d)
		}
	}
	if lockFor > 0 {
		return lockedErr(lockFor)
	}
	return errBadLogin
}

// lockDuration doubles from FirstLock with each failure past the limit.
func lockDuration(past int) time.Duration {
	d := FirstLock
	for i := 0; i < past && d < MaxLock; i++ {
		d *= 2
	}
	return min(d, MaxLock)
}

// SessionUser returns a live session and its user; ENOTFOUND when the
// session is unknown, expired or the account disabled.
func (s *Service) SessionUser(ctx context.Context, token string) (*Session, *User, error) {
	sess, err := s.store.Session(ctx, TokenID(token))
	if err != nil {
		return nil, nil, err
	}
	now := s.Now().UTC()
	if !sess.Alive(now) {
		_ = s.store.DeleteSession(ctx, sess.ID)
		return nil, nil, errs.E(errs.ENOTFOUND, "session expired")
	}
	u, err := s.store.User(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, errs.E(errs.ENOTFOUND, "account disabled")
	}
	if now.Sub(sess.LastSeen) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err == nil {
			sess.LastSeen = now
		}
	}
	return sess, u, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	return s.store.DeleteSession(ctx, sessionID)
}

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
	if err := s.store.InsertReset(ctx, &Reset{ID: id, UserID: u.ID, Created: now, Expires: now.Add(ResetTokenLifetime)}); err != nil {
		return err
	}
	link := s.BaseURL + "/password/reset?token=" + token
	text, html := notify.Compose(ResetEmail(u.Name, link))
	_, err = s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "password_reset", Subject: "Reset your password", Text: text, HTML: html})
	return err
}

// ResetUser returns the account a reset token belongs to, if it is valid.
func (s *Service) ResetUser(ctx context.Context, token string) (*User, error) {
	r, err := s.store.Reset(ctx, TokenID(token))
	if err != nil || s.Now().After(r.Expires) {
		return nil, errs.E(errs.ENOTFOUND, "This password reset link has expired or has already been used. Ask for a new one.")
	}
	return s.store.User(ctx, r.UserID)
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
	_ = s.store.ClearThrottle(ctx, "acct:"+u.Email)
	return u, nil
}

func (s *Service) setPassword(ctx context.Context, u *User, password string) error {
	return s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: new(HashPassword(password)), Updated: new(s.Now().UTC())})
}

// ChangePassword checks the current password and sets a new one, ending the
// account's other sessions.
func (s *Service) ChangePassword(ctx context.Context, u *User, sessionID, current, next string) error {
	fe := errs.FieldErrors{}
	if !VerifyPassword(u.PasswordHash, current) {
		fe.Add("current_password", "Your current password is incorrect")
	}
	if msg := CheckPassword(next, u.Email, u.Name); msg != "" {
		fe.Add("new_password", msg)
	} else if next == current {
		fe.Add("new_password", "Choose a password different from your current one")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.setPassword(ctx, u, next); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, u.ID, sessionID)
}

// UpdateProfile changes name and email. A new email is claimed before the
// account changes and the old claim released after.
func (s *Service) UpdateProfile(ctx context.Context, u *User, name, email string) error {
	fe := errs.FieldErrors{}
	name = NormaliseName(name)
	if name == "" {
		fe.Add("name", "Enter your full name")
	} else if len([]rune(name)) > 120 {
		fe.Add("name", "Name must be 120 characters or fewer")
	}
	email, ok := NormaliseEmail(email)
	if !ok {
		fe.Add("email", "Enter an email address in the correct format, like name@example.org")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	now := s.Now().UTC()
	if email != u.Email {
		if err := s.claimEmail(ctx, email, u.ID, now); err != nil {
			return err
		}
	}
	if err := s.store.UpdateUser(ctx, u.ID, UserUpdate{Name: &name, Email: &email, Updated: &now}); err != nil {
		if email != u.Email { // the account kept its old address: free the new one again
			_ = s.store.ReleaseEmail(context.WithoutCancel(ctx), email)
		}
		return err
	}
	if email != u.Email {
		_ = s.store.ReleaseEmail(ctx, u.Email)
	}
	return nil
}

// SetRolesAndOrg changes a user's roles and organisation (admin).
func (s *Service) SetRolesAndOrg(ctx context.Context, id string, roles []Role, orgID string) error {
	fe := errs.FieldErrors{}
	clean := []Role{}
	for _, r := range roles {
		if slices.Contains(AllRoles, r) && !slices.Contains(clean, r) {
			clean = append(clean, r)
		}
	}
	if len(clean) == 0 {
		fe.Add("roles", "Select at least one role")
	}
	if _, err := s.store.Org(ctx, orgID); err != nil {
		fe.Add("org", "Select an organisation")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	slices.SortFunc(clean, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	return s.store.UpdateUser(ctx, id, UserUpdate{Roles: &clean, OrgID: &orgID, Updated: new(s.Now().UTC())})
}

// SetDisabled disables or enables an account. Disabling ends its sessions.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) error {
	if err := s.store.UpdateUser(ctx, id, UserUpdate{Disabled: &disabled, Updated: new(s.Now().UTC())}); err != nil {
		return err
	}
	if disabled {
		return s.store.DeleteUserSessions(ctx, id, "")
	}
	return nil
}

// CreateOrg adds an organisation.
func (s *Service) CreateOrg(ctx context.Context, name string, kind OrgKind) (*Organisation, error) {
	name = NormaliseName(name)
	fe := errs.FieldErrors{}
	if name == "" {
		fe.Add("name", "Enter the organisation's name")
	}
	if kind != OrgService && kind != OrgPartner {
		fe.Add("kind", "Select the kind of organisation")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	o := &Organisation{ID: Slug(name) + "-" + NewID()[:6], Name: name, Kind: kind, Created: s.Now().UTC()}
	return o, s.store.InsertOrg(ctx, o)
}

// Slug makes a name into the readable first part of an ID: lower-case
// letters and digits, words joined by dashes, at most about 30 characters.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 30 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
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
