// Package auth holds accounts, organisations, roles, passwords, sessions,
// two-factor authentication and sign-in throttling.
package auth

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/errs"
)

// Role is a permission set a user may hold; a user can hold several.
type Role string

// The roles.
const (
	RoleLearner  Role = "learner"
	RoleAdvocate Role = "advocate"
	RoleManager  Role = "manager"
	RoleAdmin    Role = "admin"
	RoleTrainer  Role = "trainer"
)

// AllRoles lists the roles in display order.
var AllRoles = []Role{RoleLearner, RoleAdvocate, RoleManager, RoleTrainer, RoleAdmin}

// roleWords are each role's name and what it lets a person do.
var roleWords = map[Role][2]string{
	RoleLearner:  {"Learner", "takes courses and downloads certificates"},
	RoleAdvocate: {"Advocate", "has a compliance record: DBS, references, CPD, supervision, training"},
	RoleManager:  {"Manager", "keeps the advocates' compliance records of their organisation"},
	RoleTrainer:  {"Trainer", "runs live training: sets up sessions, sees who booked with their access and dietary needs, takes the register"},
	RoleAdmin:    {"Administrator", "manages people, organisations, certificates and the audit log"},
}

// Label is the role's name in words: "Administrator" for admin.
func (r Role) Label() string {
	if w, ok := roleWords[r]; ok {
		return w[0]
	}
	return string(r)
}

// RoleLabels writes roles in words: "Learner, Manager".
func RoleLabels(roles []Role) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Label()
	}
	return strings.Join(out, ", ")
}

// Description says what the role lets a person do.
func (r Role) Description() string { return roleWords[r][1] }

// JobRole is what a person does, asked at registration.
type JobRole string

// The job roles offered at registration.
const (
	JobMentalHealth  JobRole = "mental-health-support-worker"
	JobDomesticAbuse JobRole = "domestic-abuse-worker"
	JobAdvocate      JobRole = "advocate"
	JobOther         JobRole = "other"
)

// JobRoles lists the job roles with their labels, in display order.
var JobRoles = []struct {
	Value JobRole
	Label string
}{
	{JobMentalHealth, "Mental health support worker"},
	{JobDomesticAbuse, "Domestic abuse worker"},
	{JobAdvocate, "Advocate"},
	{JobOther, "Other"},
}

// User is an account.
type User struct {
	ID      string    `bson:"_id"`
	Email   string    `bson:"email"` // normalised
	Name    string    `bson:"name"`
	OrgID   string    `bson:"org_id"`
	JobRole JobRole   `bson:"job_role"`
	Roles   []Role    `bson:"roles"`
	Created time.Time `bson:"created_at"`
	Updated time.Time `bson:"updated_at"`

	PasswordHash string `bson:"password_hash"`
	Disabled     bool   `bson:"disabled"`

	// Two-factor authentication. The secret is sealed with the app key.
	TOTPSecret     string   `bson:"totp_secret,omitempty"`
	TOTPPending    string   `bson:"totp_pending,omitempty"` // sealed secret awaiting confirmation
	TOTPEnabled    bool     `bson:"totp_enabled"`
	TOTPLastStep   int64    `bson:"totp_last_step"`            // last accepted time step (no replay)
	RecoveryHashes []string `bson:"recovery_hashes,omitempty"` // keyed hashes of unused codes

	// EmailChange is a new address waiting for the link sent to it.
	EmailChange *EmailChange `bson:"email_change,omitempty"`
	// EmailConfirm is set while a self-registered account's address waits
	// for the link sent to it (email_confirm.go); accounts staff create
	// have none.
	EmailConfirm *EmailConfirm `bson:"email_confirm,omitempty"`
	// Invitation is set on an account an administrator added: its link to
	// choose a first password, and where that stands (invitations.go).
	Invitation *Invitation `bson:"invitation,omitempty"`
	// JoinRequest is the organisation the person asked to join, waiting
	// for a manager of it or an admin (joins.go).
	JoinRequest *JoinRequest `bson:"join_request,omitempty"`
	// UnlistedOrg is the organisation the person named at registration
	// because it was not in the list, as they typed it, until an admin
	// merges it into a partner organisation (unlisted.go).
	UnlistedOrg string `bson:"unlisted_org,omitempty"`

	// NotifyOptional turns non-mandatory reminders on (default true).
	NotifyOptional bool `bson:"notify_optional"`

	// Erasure is set while the account is being erased (so an interrupted
	// erasure can be finished); ErasedAt once it is anonymised.
	Erasure  *Erasure   `bson:"erasure,omitempty"`
	ErasedAt *time.Time `bson:"erased_at,omitempty"`

	// Version increases on every write; updates are conditional on it.
	Version int64 `bson:"version"`
}

// Erasure remembers what to look for while an account is being erased.
type Erasure struct {
	Started time.Time `bson:"started_at"`
	By      string    `bson:"by"` // the admin's user ID
	Name    string    `bson:"name"`
	Email   string    `bson:"email"`
}

// HasRole reports whether the user holds r.
func (u *User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// NeedsTwoFactor reports whether the user's roles require two-factor authentication.
func (u *User) NeedsTwoFactor() bool {
	return u.HasRole(RoleManager) || u.HasRole(RoleAdmin) || u.HasRole(RoleTrainer)
}

// OrgKind distinguishes the advocacy service itself from partner agencies.
type OrgKind string

// Organisation kinds.
const (
	OrgService OrgKind = "service" // the advocacy organisation itself
	OrgPartner OrgKind = "partner" // a partner agency whose workers learn here
)

// Organisation is an agency users belong to.
type Organisation struct {
	ID      string    `bson:"_id"`
	Name    string    `bson:"name"`
	Kind    OrgKind   `bson:"kind"`
	Created time.Time `bson:"created_at"`
}

// NormaliseEmail trims and lower-cases an email address, and checks it.
func NormaliseEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return s, false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return s, false
	}
	return s, true
}

// NormaliseName trims and collapses spaces in a person's name.
func NormaliseName(s string) string { return strings.Join(strings.Fields(s), " ") }

// NoOrganisation is the Registration.OrgID of a person who asks to join
// no organisation.
const NoOrganisation = "none"

// Registration is what a person submits to create an account.
type Registration struct {
	Name     string
	Email    string
	Password string
	OrgID    string // the organisation they ask to join, or NoOrganisation
	OrgName  string // their organisation's name when it is not listed (unlisted.go)
	JobRole  JobRole
	From     string // the client's network address: registrations from one are limited ("" for none)
}

// Validate checks the registration and normalises its email and name.
func (r *Registration) Validate(orgExists func(string) bool) error {
	fe := errs.FieldErrors{}
	r.Name = NormaliseName(r.Name)
	switch {
	case r.Name == "":
		fe.Add("name", "Enter your full name")
	case utf8.RuneCountInString(r.Name) > 120:
		fe.Add("name", "Name must be 120 characters or fewer")
	}
	email, ok := NormaliseEmail(r.Email)
	r.Email = email
	if r.Email == "" {
		fe.Add("email", "Enter your email address")
	} else if !ok {
		fe.Add("email", "Enter an email address in the correct format, like name@example.org")
	}
	if msg := CheckPassword(r.Password, r.Email, r.Name); msg != "" {
		fe.Add("password", msg)
	}
	r.validateOrg(fe, orgExists) // unlisted.go
	if !validJobRole(r.JobRole) {
		fe.Add("job_role", "Select your job role")
	}
	return fe.Err()
}

func validJobRole(j JobRole) bool {
	for _, r := range JobRoles {
		if r.Value == j {
			return true
		}
	}
	return false
}

// Session is a signed-in browser. Its ID is the SHA-256 of the cookie token,
// so the database never holds a usable token.
type Session struct {
	ID         string    `bson:"_id"`
	UserID     string    `bson:"user_id"`
	Created    time.Time `bson:"created_at"`
	LastSeen   time.Time `bson:"last_seen_at"`
	Expires    time.Time `bson:"expires_at"` // absolute lifetime
	MFAPending bool      `bson:"mfa_pending"`
	UserAgent  string    `bson:"user_agent"`
}

// Session lifetimes.
const (
	SessionIdle     = 60 * time.Minute
	SessionAbsolute = 12 * time.Hour
	// touchEvery limits last-seen writes to one per minute per session.
	touchEvery = time.Minute
)

// Alive reports whether the session is within its idle and absolute limits.
func (s *Session) Alive(now time.Time) bool {
	return now.Before(s.Expires) && now.Before(s.LastSeen.Add(SessionIdle))
}
