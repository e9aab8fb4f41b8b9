package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
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
	Audit   *audit.Log // records decisions on requests to join an organisation
	Now     func() time.Time
	BaseURL string
	Log     *slog.Logger
	// Registration says who may create an account (LMS_REGISTRATION;
	// "" is RegistrationVerify).
	Registration RegistrationMode
}

// Service implements accounts, sign-in and sessions. Its store stays
// inside: other packages use the methods.
type Service struct {
	Deps
	store Store

	// BeforePasswordCheck, when set (tests only), is called before each
	// throttled password check, after its attempts are taken: a test
	// counts the checks made, and can hold them.
	BeforePasswordCheck func()
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

// Register creates an account with the learner role, in no organisation:
// the one the person names gets a request to join (joins.go). In verify
// mode the address is to be confirmed (email_confirm.go), and the link is
// sent; an address that has an account already returns no account and no
// error, its owner told by email (so the answer is the same whether or
// not it has one); in invite mode nobody registers.
func (s *Service) Register(ctx context.Context, r Registration) (*User, error) {
	mode := s.SelfRegistration()
	if mode == RegistrationInvite {
		return nil, errRegistrationClosed
	}
	if err := r.Validate(func(id string) bool { _, err := s.store.Org(ctx, id); return err == nil }); err != nil {
		return nil, err
	}
	// Each registration costs two password hashes (here and signing in):
	// a limit per address.
	if r.From != "" {
		over, err := s.overLimit(ctx, "register-addr", r.From, RegisterAddressLimit, RegisterWindow)
		if err != nil {
			return nil, err
		}
		if over {
			return nil, errs.E(errs.ETOOMANY, "Too many accounts have been created from your network recently. Please try again in an hour.")
		}
	}
	u := s.newUser(r.Email, r.Name, HashPassword(r.Password), "", r.JobRole, []Role{RoleLearner})
	u.UnlistedOrg = r.OrgName // listed with the account (unlisted.go)
	if r.OrgID != NoOrganisation {
		u.JoinRequest = &JoinRequest{OrgID: r.OrgID, Requested: u.Created.Truncate(time.Millisecond)} // as stored
	}
	token := ""
	if mode == RegistrationVerify {
		token = u.newEmailConfirm(u.Created)
	}
	if err := s.insertUser(ctx, u); errors.Is(err, errEmailTaken) && mode == RegistrationVerify {
		// The same answer as for a new account (nobody learns from it
		// whether an address has one): the address's owner is told instead.
		return nil, s.tellRegistered(ctx, r.Email)
	} else if err != nil {
		return nil, err
	}
	if token != "" {
		// The account exists whatever happens to the email: a link that
		// cannot be sent now is asked for again from any page.
		err := s.confirmLimits(ctx, u.ID, "")
		if err == nil {
			err = s.sendEmailConfirm(ctx, u, token)
		}
		if err != nil && s.Log != nil {
			s.Log.Warn("sending the link to confirm a new account's email address failed", "user", u.ID, "err", err)
		}
	}
	return u, nil
}

// RegisteredLimit is how many "you already have an account" emails one
// address gets an hour, however often it is registered again.
const RegisteredLimit = 3

// tellRegistered emails the owner of an address someone tried to register
// with that they already have an account (at most RegisteredLimit an hour).
func (s *Service) tellRegistered(ctx context.Context, email string) error {
	u, err := s.UserByEmail(ctx, email)
	if err != nil || s.Mail == nil {
		return nil // gone meanwhile, or no mail: nothing to tell
	}
	if over, err := s.overLimit(ctx, "registered", u.ID, RegisteredLimit, time.Hour); err != nil || over {
		return err
	}
	text, html := notify.Compose(notify.Email{Greeting: "Hello " + u.Name + ",", Paragraphs: []string{
		"Someone, perhaps you, tried to create a new account with this email address. You already have an account with it, so no new one was made.",
		"If it was you, sign in with your password, or choose a new one if you have forgotten it. If it was not you, you need do nothing: your account is unchanged.",
	}, Action: &notify.Action{Label: "Sign in", URL: s.BaseURL + "/login"}})
	_, err = s.Mail.Send(ctx, notify.Message{To: u.Email, UserID: u.ID, Kind: "already_registered", Subject: "You already have an account", Text: text, HTML: html})
	return err
}

// CreateUser claims the email and inserts the account. A claim left behind by
// a crash between the two steps is taken over after a minute. Accounts
// staff create this way have their address counted as confirmed.
func (s *Service) CreateUser(ctx context.Context, email, name, hash, orgID string, job JobRole, roles []Role) (*User, error) {
	u := s.newUser(email, name, hash, orgID, job, roles)
	if err := s.insertUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) newUser(email, name, hash, orgID string, job JobRole, roles []Role) *User {
	now := s.Now().UTC()
	return &User{
		ID: NewID(), Email: email, Name: name, OrgID: orgID, JobRole: job, Roles: roles,
		Created: now, Updated: now, PasswordHash: hash, NotifyOptional: true, Version: 1,
	}
}

// insertUser claims the account's email, enters its request to join an
// organisation, if any, in the lists of requests, and inserts it.
func (s *Service) insertUser(ctx context.Context, u *User) error {
	if err := s.claimEmail(ctx, u.Email, u.ID, u.Created); err != nil {
		return err
	}
	if u.JoinRequest != nil {
		if err := s.store.ListJoinRequest(ctx, u.ID, *u.JoinRequest); err != nil {
			_ = s.store.ReleaseEmail(ctx, u.Email)
			return err
		}
	}
	if err := s.store.InsertUser(ctx, u); err != nil {
		_ = s.store.ReleaseEmail(ctx, u.Email)
		return fmt.Errorf("auth: insert user: %w", err)
	}
	return nil
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
	return errEmailTaken
}

// errEmailTaken is claimEmail's answer for an address another account has.
var errEmailTaken = errs.FieldErrors{"email": "An account with this email address already exists. Sign in, or reset your password if you have forgotten it."}.Err()

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

// Login checks the password (with throttling per account and per address,
// see checkPassword) and starts a new session.
func (s *Service) Login(ctx context.Context, email, password, addr, userAgent string) (*LoginResult, error) {
	now := s.Now().UTC()
	email, _ = NormaliseEmail(email)
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if err := s.checkPassword(ctx, now, email, hash, password, addr); err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errs.E(errs.EFORBIDDEN, "This account has been disabled. Please contact an administrator.")
	}
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

// ChangePassword checks the current password (and code: see Reauth) and
// sets a new one, ending the account's other sessions.
func (s *Service) ChangePassword(ctx context.Context, u *User, r Reauth, next string) error {
	fe := r.missing(u)
	if msg := CheckPassword(next, u.Email, u.Name); msg != "" {
		fe.Add("new_password", msg)
	} else if next == r.Password {
		fe.Add("new_password", "Choose a password different from your current one")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, u, r); err != nil {
		return err
	}
	if err := s.setPassword(ctx, u, next); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, u.ID, r.SessionID)
}

// UpdateProfile changes the account's name. The email address changes
// only through RequestEmailChange.
func (s *Service) UpdateProfile(ctx context.Context, u *User, name string) error {
	name = NormaliseName(name)
	if name == "" {
		return errs.FieldErrors{"name": "Enter your full name"}.Err()
	} else if len([]rune(name)) > 120 {
		return errs.FieldErrors{"name": "Name must be 120 characters or fewer"}.Err()
	}
	return s.store.UpdateUser(ctx, u.ID, UserUpdate{Name: &name, Updated: new(s.Now().UTC())})
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
