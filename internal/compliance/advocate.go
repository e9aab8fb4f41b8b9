package compliance

import (
	"github.com/family-advocacy/lms/internal/audit"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Advocate statuses.
const (
	StatusOnboarding = "onboarding"
	StatusActive     = "active"
	StatusPaused     = "paused"
	StatusEnded      = "ended"
)

// AdvocateStatuses lists the statuses in order.
var AdvocateStatuses = []string{StatusOnboarding, StatusActive, StatusPaused, StatusEnded}

// DBS values.
var (
	DBSLevels  = []string{"basic", "standard", "enhanced"}
	Workforces = []string{"child", "adult", "child-and-adult", "other"}
	// Status check results of the DBS Update Service.
	CheckResults = []string{"no-new-information", "new-information", "no-match"}
	// Decisions on a status check that found new information or no match.
	StatusDecisions = []string{"new-check-requested", "reviewed-clear"}
	// How consent to status checks was given.
	ConsentWays = []string{"signed-form", "advocate-in-app"}
	// Whether the advocate's role is eligible for a barred-list check
	// (regulated activity), assessed before the check is asked for.
	RoleEligibility = []string{"eligible", "not-eligible"}
	// Decisions on a check.
	Decisions = []string{"clear", "clear-after-risk-assessment", "not-suitable"}
	// Reference outcomes.
	Outcomes = []string{"satisfactory", "unsatisfactory", "follow-up-needed"}
	// CPD entry types.
	CPDTypes = []string{"course", "supervision", "peer-reflection", "reading", "conference", "declaration", "other"}
)

// Label returns a readable label for a value like "clear-after-risk-assessment".
func Label(v string) string {
	switch v {
	case "no-new-information":
		return "No new information"
	case "new-information":
		return "New information"
	case "no-match":
		return "No match"
	case CouldNotCheck:
		return "Could not check"
	case "new-check-requested":
		return "New DBS check requested"
	case "reviewed-clear":
		return "Reviewed and clear"
	case "signed-form":
		return "Signed consent form"
	case "advocate-in-app":
		return "The advocate's own confirmation in the app"
	case "clear-after-risk-assessment":
		return "Clear after risk assessment"
	case "not-suitable":
		return "Not suitable"
	case "eligible":
		return "Eligible (regulated activity with children or adults)"
	case "not-eligible":
		return "Not eligible (no regulated activity)"
	case "follow-up-needed":
		return "Follow-up needed"
	case "child-and-adult":
		return "Child and adult"
	case "peer-reflection":
		return "Peer reflection"
	case "declaration":
		return "Annual reflection declaration"
	}
	if v == "" {
		return ""
	}
	v = strings.ReplaceAll(v, "-", " ") // "other-advocate" → "Other advocate"
	r, n := utf8.DecodeRuneInString(v)
	return string(unicode.ToUpper(r)) + v[n:]
}

// Advocate is one contracted professional advocate: the account's ID, the
// profile and every compliance record, with the latest computed status.
type Advocate struct {
	ID               string     `bson:"_id"` // the user's ID
	Name             string     `bson:"name"`
	Email            string     `bson:"email"`
	OrgID            string     `bson:"org_id"`
	Profession       string     `bson:"profession"`
	ProfessionalBody string     `bson:"professional_body"`
	RegistrationNo   string     `bson:"registration_no"`
	RegistrationDue  *time.Time `bson:"registration_due,omitempty"` // renewal date
	ContractStart    *time.Time `bson:"contract_start,omitempty"`
	Status           string     `bson:"status"`
	EndedAt          *time.Time `bson:"ended_at,omitempty"` // when the status became ended (retention runs from here)
	ManagerID        string     `bson:"manager_id"`
	MandatoryCourses []string   `bson:"mandatory_courses"` // as well as the policy's (see Policy.CoursesFor)
	Created          time.Time  `bson:"created_at"`
	Updated          time.Time  `bson:"updated_at"`

	DBS          []DBSCheck    `bson:"dbs"`
	References   []Reference   `bson:"references"`
	CPD          []CPDEntry    `bson:"cpd"`
	Supervisions []Supervision `bson:"supervisions"`

	// Training holds the latest completion date of each course (from learning).
	Training map[string]time.Time `bson:"training"`

	Snapshot Snapshot `bson:"snapshot"`

	// Outbox holds audit events saved with the change they describe, until
	// they are in the audit trail (see followups.go).
	Outbox []audit.Event `bson:"outbox,omitempty"`
	// CreatedByID and CreatedBy, on a follow-up's record to create, name
	// who asked for it.
	CreatedByID string `bson:"created_by_id,omitempty"`
	CreatedBy   string `bson:"created_by,omitempty"`
}

// DBSCheck is one DBS certificate and what was done with it.
type DBSCheck struct {
	ID          string   `bson:"id"`
	Level       string   `bson:"level"`
	BarredLists []string `bson:"barred_lists"`
	// RoleEligible is whether the role was assessed as eligible for a
	// barred-list check ("eligible", "not-eligible"; "" on checks recorded
	// before this was asked), and EligibilityReason why. A barred list may
	// lawfully be checked only for an eligible role (Police Act 1997
	// ss113B-113BB), so the policy's barred lists are required only then.
	RoleEligible      string        `bson:"role_eligible,omitempty"`
	EligibilityReason string        `bson:"eligibility_reason,omitempty"`
	Workforce         string        `bson:"workforce"`
	CertificateNumber string        `bson:"certificate_number"` // sealed; never stored in plain text
	NumberLast4       string        `bson:"number_last4"`       // for the masked display
	IssueDate         time.Time     `bson:"issue_date"`
	OriginalSeenBy    string        `bson:"original_seen_by"`
	OriginalSeenAt    *time.Time    `bson:"original_seen_at,omitempty"`
	UpdateService     bool          `bson:"update_service"`
	StatusChecks      []StatusCheck `bson:"status_checks"`
	// Consent to the app's own Update Service status checks, and what the
	// checks send besides the certificate number (both sealed): the
	// holder's date of birth (YYYY-MM-DD) and current surname.
	Consent     *UpdateConsent `bson:"consent,omitempty"`
	DateOfBirth string         `bson:"date_of_birth,omitempty"`
	Surname     string         `bson:"surname,omitempty"`
	// AutoDay is the London date of the last automatic status check begun:
	// claimed before the check is sent, so no day sees two.
	AutoDay         string     `bson:"auto_day,omitempty"`
	Decision        string     `bson:"decision"`
	DecisionAt      *time.Time `bson:"decision_at,omitempty"`
	DecisionNotes   string     `bson:"decision_notes"` // sealed
	ScanKey         string     `bson:"scan_key,omitempty"`
	ScanSealed      bool       `bson:"scan_sealed,omitempty"` // the scan is encrypted (not a plain one from before files were)
	ScanDeleteAfter *time.Time `bson:"scan_delete_after,omitempty"`
	ScanDeletedAt   *time.Time `bson:"scan_deleted_at,omitempty"`
	RecordedBy      string     `bson:"recorded_by"`
	RecordedAt      time.Time  `bson:"recorded_at"`
}

// StatusCheck is one Update Service status check: typed in by a manager
// who ran it on the DBS website, or run by the app (Auto). Checks that
// could not be made on consecutive days are one entry, from Date to Until.
type StatusCheck struct {
	Date      time.Time `bson:"date"`
	Result    string    `bson:"result"` // CheckResults, or CouldNotCheck
	CheckedBy string    `bson:"checked_by"`
	Auto      bool      `bson:"auto,omitempty"`
	// Status is the DBS service's own answer (e.g. BLANK_NO_NEW_INFO).
	Status string `bson:"status,omitempty"`
	// Reason says why a check could not be made; Until and Days are the
	// last attempt of a run of failures and the days it spans.
	Reason string        `bson:"reason,omitempty"`
	Until  *time.Time    `bson:"until,omitempty"`
	Days   int           `bson:"days,omitempty"`
	Review *StatusReview `bson:"review,omitempty"`
}

// StatusReview is a manager's decision on a status check that found new
// information or no match.
type StatusReview struct {
	Decision string    `bson:"decision"` // StatusDecisions
	Reason   string    `bson:"reason"`
	By       string    `bson:"by"`
	ByID     string    `bson:"by_id"`
	At       time.Time `bson:"at"`
}

// UpdateConsent is an advocate's consent to status checks of their DBS
// certificate, and its withdrawal.
type UpdateConsent struct {
	How          string     `bson:"how"` // ConsentWays
	At           time.Time  `bson:"at"`
	RecordedBy   string     `bson:"recorded_by"`
	RecordedByID string     `bson:"recorded_by_id"`
	WithdrawnAt  *time.Time `bson:"withdrawn_at,omitempty"`
	WithdrawnBy  string     `bson:"withdrawn_by,omitempty"`
}

// Given reports whether consent is on record and not withdrawn.
func (c *UpdateConsent) Given() bool { return c != nil && c.WithdrawnAt == nil }

// Reference is one reference taken up before contracting.
type Reference struct {
	ID           string     `bson:"id"`
	Referee      string     `bson:"referee"`
	Relationship string     `bson:"relationship"`
	Organisation string     `bson:"organisation"`
	Contact      string     `bson:"contact"`
	RequestedAt  *time.Time `bson:"requested_at,omitempty"`
	ReceivedAt   *time.Time `bson:"received_at,omitempty"`
	VerifiedBy   string     `bson:"verified_by"`
	VerifiedAt   *time.Time `bson:"verified_at,omitempty"`
	Outcome      string     `bson:"outcome"`
	Notes        string     `bson:"notes"` // sealed
	RecordedBy   string     `bson:"recorded_by"`
	RecordedAt   time.Time  `bson:"recorded_at"`
}

// CPDEntry is one piece of continuing professional development.
type CPDEntry struct {
	ID         string     `bson:"id"`
	Date       time.Time  `bson:"date"`
	Title      string     `bson:"title"`
	Type       string     `bson:"type"`
	Hours      float64    `bson:"hours"`
	Learnt     string     `bson:"learnt"`
	Impact     string     `bson:"impact"`
	PeerName   string     `bson:"peer_name"`
	PeerDate   *time.Time `bson:"peer_date,omitempty"`
	Evidence   []Evidence `bson:"evidence"`
	Source     string     `bson:"source"` // "manual" or "course:<slug>"
	VerifiedBy string     `bson:"verified_by"`
	VerifiedAt *time.Time `bson:"verified_at,omitempty"`
	RecordedBy string     `bson:"recorded_by"`
	// RecordedByID is who recorded it (the advocate, or a manager); entries
	// from before it was kept have only the name.
	RecordedByID string    `bson:"recorded_by_id,omitempty"`
	RecordedAt   time.Time `bson:"recorded_at"`
}

// RecordedByAdvocate reports whether the advocate recorded the entry
// themself (only those may they remove).
func (e CPDEntry) RecordedByAdvocate(a *Advocate) bool {
	if e.RecordedByID != "" {
		return e.RecordedByID == a.ID
	}
	return e.RecordedBy == a.Name
}

// Reflective reports whether the entry includes reflection with a peer.
func (e CPDEntry) Reflective() bool { return e.Type == "peer-reflection" || e.PeerName != "" }

// Evidence is a file kept with a CPD entry.
type Evidence struct {
	Key         string `bson:"key"`
	Name        string `bson:"name"`
	ContentType string `bson:"content_type"`
	Size        int64  `bson:"size"`             // of the file itself, not of its encrypted form
	Sealed      bool   `bson:"sealed,omitempty"` // encrypted (not a plain one from before files were)
}

// Supervision is one supervision session.
type Supervision struct {
	ID         string    `bson:"id"`
	Date       time.Time `bson:"date"`
	Supervisor string    `bson:"supervisor"`
	Kind       string    `bson:"kind"`  // individual or group
	Notes      string    `bson:"notes"` // sealed
	RecordedBy string    `bson:"recorded_by"`
	RecordedAt time.Time `bson:"recorded_at"`
}

// BarredListsText names barred lists as in a sentence: "children's barred
// list", "children's and adults' barred lists".
func BarredListsText(lists []string) string {
	var names []string
	for _, l := range lists {
		switch l {
		case "children":
			names = append(names, "children's")
		case "adults":
			names = append(names, "adults'")
		default:
			names = append(names, l)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0] + " barred list"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " barred lists"
}

// BarredListsText names the check's barred lists (see BarredListsText).
func (d DBSCheck) BarredListsText() string { return BarredListsText(d.BarredLists) }

// BarredListsText names the barred lists the policy asks for.
func (p *Policy) BarredListsText() string { return BarredListsText(p.DBS.BarredLists) }
