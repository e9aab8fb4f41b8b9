package compliance

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/input"
)

// ParseDate reads a date typed as YYYY-MM-DD (the HTML date input) as a
// London date; empty is nil. It takes any real day; forms check their own
// window (see checker.date).
func ParseDate(s string) (*time.Time, bool) {
	t, p := input.Date(s, London, time.Time{}, time.Time{})
	switch p {
	case input.Empty:
		return nil, true
	case input.OK:
		u := t.UTC()
		return &u, true
	}
	return nil, false
}

// The window of the dates on the forms: nothing before earliestDate, and
// a date that may lie ahead (a renewal, a contract start) at most
// futureYears ahead.
var earliestDate = time.Date(1990, 1, 1, 0, 0, 0, 0, London)

const futureYears = 10

// MaxCPDHours is the most hours one CPD entry may claim.
const MaxCPDHours = 100

type checker struct {
	fe  errs.FieldErrors
	now time.Time
}

func (c *checker) text(field, v, label string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		c.fe.Add(field, "Enter "+label)
	case utf8.RuneCountInString(v) > max:
		c.fe.Add(field, label+" must be "+strconv.Itoa(max)+" characters or fewer")
	}
	return v
}

// date reads a date field: a real day, not before earliestDate, and not
// after today when notFuture (else at most futureYears ahead).
func (c *checker) date(field, v, label string, required, notFuture bool) *time.Time {
	latest := c.now.AddDate(futureYears, 0, 0)
	if notFuture {
		latest = c.now
	}
	t, p := input.Date(v, London, earliestDate, latest)
	switch {
	case p == input.OK:
		u := t.UTC()
		return &u
	case p == input.Empty:
		if required {
			c.fe.Add(field, "Enter "+strings.ToLower(label[:1])+label[1:])
		}
	case p == input.TooHigh && !notFuture:
		c.fe.Add(field, label+" must be within the next "+strconv.Itoa(futureYears)+" years")
	default:
		c.fe.Add(field, input.DateMessage(label, p, notFuture))
	}
	return nil
}

// number reads a number field in r (never NaN or an infinity); empty is
// the message when a required field is blank, msg what the field takes.
func (c *checker) number(field, v string, r input.Range, required bool, empty, msg string) float64 {
	n, p := input.Number(v, r)
	switch {
	case p == input.OK:
		return n
	case p == input.Empty && required:
		c.fe.Add(field, empty)
	case p != input.Empty:
		c.fe.Add(field, msg)
	}
	return 0
}

func (c *checker) choice(field, v, label string, options []string, required bool) string {
	v = strings.TrimSpace(v)
	if v == "" && !required {
		return ""
	}
	if !slices.Contains(options, v) {
		c.fe.Add(field, "Select "+label)
	}
	return v
}

// ProfileForm is the advocate's profile as typed.
type ProfileForm struct {
	Name, Email, Profession, ProfessionalBody, RegistrationNo, RegistrationDue, ContractStart, Status, ManagerID string
}

// NewAdvocateForm creates an advocate (and their account).
type NewAdvocateForm = ProfileForm

// Check validates the profile; ok IDs are the organisation's managers.
func (f ProfileForm) Check(now time.Time, managers []string, withAccount bool) (Advocate, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var a Advocate
	if withAccount {
		a.Name = c.text("name", f.Name, "the advocate's full name", true, 120)
		a.Email = strings.ToLower(c.text("email", f.Email, "an email address", true, 254))
		if a.Email != "" && (!strings.Contains(a.Email, "@") || strings.ContainsAny(a.Email, " ,;")) {
			c.fe.Add("email", "Enter an email address in the correct format, like name@example.org")
		}
	}
	profs := []string{}
	for _, p := range Professions {
		profs = append(profs, p.Value)
	}
	a.Profession = c.choice("profession", f.Profession, "a profession", profs, true)
	a.ProfessionalBody = c.text("professional_body", f.ProfessionalBody, "the professional body", false, 120)
	a.RegistrationNo = c.text("registration_no", f.RegistrationNo, "the registration number", false, 40)
	a.RegistrationDue = c.date("registration_due", f.RegistrationDue, "Registration renewal date", false, false)
	a.ContractStart = c.date("contract_start", f.ContractStart, "Contract start date", false, false)
	a.Status = c.choice("status", f.Status, "a status", AdvocateStatuses, true)
	if f.ManagerID != "" && !slices.Contains(managers, f.ManagerID) {
		c.fe.Add("manager_id", "Select a manager from this organisation")
	}
	a.ManagerID = f.ManagerID
	if (a.Profession == SocialWorker || a.Profession == Solicitor) && a.RegistrationNo == "" {
		c.fe.Add("registration_no", "Enter the registration number for a registered profession")
	}
	return a, c.fe.Err()
}

// DBSForm is a DBS check as typed.
type DBSForm struct {
	Level, Workforce, CertificateNumber, IssueDate, OriginalSeenBy, OriginalSeenAt, Decision, DecisionNotes string
	RoleEligible, EligibilityReason                                                                         string
	BarredChildren, BarredAdults, UpdateService                                                             bool
}

// Check validates a DBS check; the certificate number must be 12 digits.
func (f DBSForm) Check(now time.Time) (DBSCheck, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var d DBSCheck
	d.Level = c.choice("level", f.Level, "the level of the check", DBSLevels, true)
	d.Workforce = c.choice("workforce", f.Workforce, "the workforce", Workforces, true)
	if f.BarredChildren {
		d.BarredLists = append(d.BarredLists, "children")
	}
	if f.BarredAdults {
		d.BarredLists = append(d.BarredLists, "adults")
	}
	if len(d.BarredLists) > 0 && d.Level != "enhanced" {
		c.fe.Add("barred", "Barred lists are only checked with an enhanced check")
	}
	d.RoleEligible = c.choice("role_eligible", f.RoleEligible, "whether the role is eligible for a barred-list check", RoleEligibility, true)
	d.EligibilityReason = strings.TrimSpace(f.EligibilityReason)
	if len(d.EligibilityReason) > 1000 {
		c.fe.Add("eligibility_reason", "Keep the reason under 1,000 characters")
	}
	if d.RoleEligible == "not-eligible" && len(d.BarredLists) > 0 {
		c.fe.Add("barred", "A barred list may be checked only for a role eligible for it: untick the barred lists, or record the role as eligible")
	}
	num := strings.ReplaceAll(strings.TrimSpace(f.CertificateNumber), " ", "")
	if num == "" {
		c.fe.Add("certificate_number", "Enter the 12-digit certificate number")
	} else if len(num) != 12 || strings.Trim(num, "0123456789") != "" {
		c.fe.Add("certificate_number", "The certificate number is 12 digits")
	}
	d.CertificateNumber = num
	if t := c.date("issue_date", f.IssueDate, "Issue date", true, true); t != nil {
		d.IssueDate = *t
	}
	d.OriginalSeenBy = c.text("original_seen_by", f.OriginalSeenBy, "who saw the original certificate", true, 120)
	d.OriginalSeenAt = c.date("original_seen_at", f.OriginalSeenAt, "Date the original was seen", true, true)
	d.UpdateService = f.UpdateService
	d.Decision = c.choice("decision", f.Decision, "a decision", Decisions, false)
	d.DecisionNotes = c.text("decision_notes", f.DecisionNotes, "notes", false, 4000)
	if d.Decision == "clear-after-risk-assessment" && d.DecisionNotes == "" {
		c.fe.Add("decision_notes", "Record the risk assessment in the notes")
	}
	return d, c.fe.Err()
}

// StatusCheckForm is an Update Service status check as typed.
type StatusCheckForm struct{ Date, Result string }

// Check validates a status check.
func (f StatusCheckForm) Check(now time.Time) (StatusCheck, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var s StatusCheck
	if t := c.date("check_date", f.Date, "Date of the status check", true, true); t != nil {
		s.Date = *t
	}
	s.Result = c.choice("result", f.Result, "the result", CheckResults, true)
	return s, c.fe.Err()
}

// DecisionForm is a recruitment decision on a DBS check, as typed.
type DecisionForm struct{ Decision, Notes string }

// Check validates a decision.
func (f DecisionForm) Check(now time.Time) (decision, notes string, err error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	decision = c.choice("decision", f.Decision, "the decision", Decisions, true)
	notes = c.text("decision_notes", f.Notes, "notes", false, 4000)
	return decision, notes, c.fe.Err()
}

// OutcomeForm is a reference's receipt and outcome, as typed.
type OutcomeForm struct{ ReceivedAt, Outcome string }

// Check validates a reference's outcome.
func (f OutcomeForm) Check(now time.Time) (time.Time, string, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var at time.Time
	if t := c.date("received_at", f.ReceivedAt, "Date received", true, true); t != nil {
		at = *t
	}
	outcome := c.choice("outcome", f.Outcome, "the outcome", Outcomes, true)
	return at, outcome, c.fe.Err()
}

// ReferenceForm is a reference as typed.
type ReferenceForm struct {
	Referee, Relationship, Organisation, Contact, RequestedAt, ReceivedAt, Outcome, Notes string
	VerifiedDirectly                                                                      bool
}

// Check validates a reference.
func (f ReferenceForm) Check(now time.Time) (Reference, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var r Reference
	r.Referee = c.text("referee", f.Referee, "the referee's name", true, 120)
	r.Relationship = c.text("relationship", f.Relationship, "how the referee knows the advocate", true, 120)
	if rel := strings.ToLower(r.Relationship); strings.Contains(rel, "mother") || strings.Contains(rel, "father") || strings.Contains(rel, "sister") || strings.Contains(rel, "brother") || strings.Contains(rel, "partner") || strings.Contains(rel, "family") {
		c.fe.Add("relationship", "References must not come from family members")
	}
	r.Organisation = c.text("organisation", f.Organisation, "the referee's organisation", false, 120)
	r.Contact = c.text("contact", f.Contact, "contact details", true, 200)
	r.RequestedAt = c.date("requested_at", f.RequestedAt, "Date requested", false, true)
	r.ReceivedAt = c.date("received_at", f.ReceivedAt, "Date received", false, true)
	if r.RequestedAt != nil && r.ReceivedAt != nil && r.ReceivedAt.Before(*r.RequestedAt) {
		c.fe.Add("received_at", "Date received cannot be before the date requested")
	}
	r.Outcome = c.choice("outcome", f.Outcome, "the outcome", Outcomes, r.ReceivedAt != nil)
	if r.Outcome != "" && r.ReceivedAt == nil {
		c.fe.Add("received_at", "Enter the date the reference was received")
	}
	r.Notes = c.text("notes", f.Notes, "notes", false, 4000)
	return r, c.fe.Err()
}

// CPDForm is a CPD entry as typed.
type CPDForm struct{ Date, Title, Type, Hours, Learnt, Impact, PeerName, PeerDate string }

// Check validates a CPD entry.
func (f CPDForm) Check(now time.Time) (CPDEntry, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var e CPDEntry
	if t := c.date("date", f.Date, "Date", true, true); t != nil {
		e.Date = *t
	}
	e.Title = c.text("title", f.Title, "a title", true, 200)
	e.Type = c.choice("type", f.Type, "the type of activity", CPDTypes, true)
	hours := input.Range{Min: 0, Max: MaxCPDHours, MinExclusive: e.Type != "declaration", Places: 2}
	e.Hours = c.number("hours", f.Hours, hours, true, "Enter the hours (0 for a declaration)",
		"Hours must be a number more than 0 and at most "+strconv.Itoa(MaxCPDHours)+", with up to 2 decimal places, like 1.5 (0 for a declaration)")
	e.Learnt = c.text("learnt", f.Learnt, "what you learnt", e.Type != "declaration", 4000)
	e.Impact = c.text("impact", f.Impact, "the impact on your practice", e.Type != "declaration", 4000)
	e.PeerName = c.text("peer_name", f.PeerName, "the peer's name", e.Type == "peer-reflection", 120)
	e.PeerDate = c.date("peer_date", f.PeerDate, "Date of the peer discussion", e.PeerName != "", true)
	return e, c.fe.Err()
}

// SupervisionForm is a supervision session as typed.
type SupervisionForm struct{ Date, Supervisor, Kind, Notes string }

// Check validates a supervision session.
func (f SupervisionForm) Check(now time.Time) (Supervision, error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	var s Supervision
	if t := c.date("sup_date", f.Date, "Date", true, true); t != nil {
		s.Date = *t
	}
	s.Supervisor = c.text("supervisor", f.Supervisor, "the supervisor's name", true, 120)
	s.Kind = c.choice("kind", f.Kind, "individual or group", []string{"individual", "group"}, true)
	s.Notes = c.text("sup_notes", f.Notes, "notes", false, 8000)
	return s, c.fe.Err()
}
