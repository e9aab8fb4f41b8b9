package compliance

import (
	"fmt"

	"github.com/family-advocacy/lms/internal/civil"
	"slices"
	"sort"
	"strings"
	"time"
)

// State is how an advocate stands on one requirement.
type State string

// States, from best to worst.
const (
	Met     State = "met"
	DueSoon State = "due-soon"
	Missing State = "missing"
	Overdue State = "overdue"
)

var stateRank = map[State]int{Met: 0, DueSoon: 1, Missing: 2, Overdue: 3}

// Worse reports whether a is worse than b.
func Worse(a, b State) bool { return stateRank[a] > stateRank[b] }

// Label returns the words for a state.
func (s State) Label() string {
	switch s {
	case Met:
		return "Met"
	case DueSoon:
		return "Due soon"
	case Missing:
		return "Missing"
	case Overdue:
		return "Overdue"
	}
	return string(s)
}

// Requirement keys, in display order.
const (
	ReqDBS          = "dbs"
	ReqReferences   = "references"
	ReqTraining     = "training"
	ReqCPD          = "cpd"
	ReqSupervision  = "supervision"
	ReqRegistration = "registration"
)

// RequirementLabels names the requirements.
var RequirementLabels = map[string]string{
	ReqDBS: "DBS check", ReqReferences: "References", ReqTraining: "Mandatory training",
	ReqCPD: "CPD", ReqSupervision: "Supervision", ReqRegistration: "Registration",
}

// RequirementKeys lists the requirements in display order.
var RequirementKeys = []string{ReqDBS, ReqReferences, ReqTraining, ReqCPD, ReqSupervision, ReqRegistration}

// Requirement is the state of one requirement.
type Requirement struct {
	Key    string     `bson:"key"`
	State  State      `bson:"state"`
	Due    *time.Time `bson:"due,omitempty"`
	Reason string     `bson:"reason"`
}

// Snapshot is an advocate's computed compliance at a moment.
type Snapshot struct {
	Requirements []Requirement `bson:"requirements"`
	Overall      State         `bson:"overall"`
	// Cleared for allocation to families: DBS, references and mandatory
	// training are met (or only due soon, so still in force).
	Cleared    bool       `bson:"cleared"`
	NextDue    *time.Time `bson:"next_due,omitempty"`
	ComputedAt time.Time  `bson:"computed_at"`
}

// Requirement returns the named requirement.
func (s Snapshot) Requirement(key string) Requirement {
	for _, r := range s.Requirements {
		if r.Key == key {
			return r
		}
	}
	return Requirement{Key: key, State: Missing}
}

// Evaluate computes an advocate's compliance at now. Dates are compared as
// dates in Europe/London. It changes nothing.
func Evaluate(p *Policy, a *Advocate, courseTitle func(string) string, now time.Time) Snapshot {
	now = now.In(London)
	reqs := []Requirement{
		evalDBS(p, a, now),
		evalReferences(p, a),
		evalTraining(p, a, courseTitle, now),
		evalCPD(p, a, now),
		evalSupervision(p, a, now),
		evalRegistration(p, a, now),
	}
	s := Snapshot{Requirements: reqs, Overall: Met, Cleared: true, ComputedAt: now.UTC()}
	for _, r := range reqs {
		if Worse(r.State, s.Overall) {
			s.Overall = r.State
		}
		if r.Due != nil && (s.NextDue == nil || r.Due.Before(*s.NextDue)) {
			d := *r.Due
			s.NextDue = &d
		}
		if (r.Key == ReqDBS || r.Key == ReqReferences || r.Key == ReqTraining) && r.State != Met && r.State != DueSoon {
			s.Cleared = false
		}
	}
	return s
}

// London is the time zone dates are shown and counted in.
var London = civil.London

// Every due-date rule counts in calendar dates (internal/civil): days are
// days whatever the clocks do, and a month after the 31st is the month's
// last day.

// day returns midnight (London) of t's date.
func day(t time.Time) time.Time { return civil.Of(t).Midnight() }

// addDays returns midnight (London) of the date n days after t's.
func addDays(t time.Time, n int) time.Time { return civil.Of(t).AddDays(n).Midnight() }

// byDate returns the state of something due on due (a date: overdue from
// the day after; due soon from windowDays calendar days before).
func byDate(now, due time.Time, windowDays int) State {
	today, d := civil.Of(now), civil.Of(due)
	switch {
	case today.After(d):
		return Overdue
	case !today.Before(d.AddDays(-windowDays)):
		return DueSoon
	}
	return Met
}

func fmtDate(t time.Time) string { return t.In(London).Format("2 January 2006") }

func ptr(t time.Time) *time.Time { u := t.UTC(); return &u }

// addMonths returns midnight (London) of the same date n months on,
// clamped to the month's end.
func addMonths(t time.Time, n int) time.Time { return civil.Of(t).AddMonths(n).Midnight() }

func evalDBS(p *Policy, a *Advocate, now time.Time) Requirement {
	r := Requirement{Key: ReqDBS}
	if len(a.DBS) == 0 {
		r.State, r.Reason = Missing, "No DBS check recorded"
		return r
	}
	c := a.DBS[0]
	for _, x := range a.DBS[1:] {
		if x.IssueDate.After(c.IssueDate) {
			c = x
		}
	}
	switch {
	case c.Decision == "":
		r.State, r.Reason = Missing, "Latest check (issued "+fmtDate(c.IssueDate)+") awaits a decision"
		return r
	case c.Decision == "not-suitable":
		r.State, r.Reason = Missing, "Latest check: decision was not suitable"
		return r
	case slices.Index(DBSLevels, c.Level) < slices.Index(DBSLevels, p.DBS.Level):
		r.State, r.Reason = Missing, fmt.Sprintf("A %s check does not meet the required %s check", c.Level, p.DBS.Level)
		return r
	}
	for _, l := range p.DBS.BarredLists {
		// Only an eligible role may have its barred lists checked, so a
		// role assessed as not eligible needs none.
		if c.RoleEligible == "not-eligible" {
			break
		}
		if !slices.Contains(c.BarredLists, l) {
			r.State = Missing
			if l == "adults" {
				r.Reason = "The adults' barred list was not checked"
			} else {
				r.Reason = "The children's barred list was not checked"
			}
			return r
		}
	}
	if !workforceCovers(c.Workforce, p.DBS.Workforce) {
		r.State, r.Reason = Missing, fmt.Sprintf("Workforce %q does not cover the required %q workforce", Label(c.Workforce), Label(p.DBS.Workforce))
		return r
	}
	due := addMonths(c.IssueDate, p.DBS.RecheckMonths)
	reason := fmt.Sprintf("Enhanced check issued %s; recheck due by %s", fmtDate(c.IssueDate), fmtDate(due))
	if c.UpdateService {
		// Checks that could not be made change nothing: the requirement
		// keeps its state until its due date.
		last := c.LastStatus()
		switch {
		case last.NeedsAction():
			r.State, r.Due = Overdue, ptr(last.Date)
			r.Reason = fmt.Sprintf("Action needed: the Update Service status check on %s found %s; record a decision (a new DBS check requested, or reviewed and clear)",
				fmtDate(last.Date), statusFinding(last.Result))
			return r
		case last != nil && !last.Clean() && last.Review.Decision == "new-check-requested":
			r.State, r.Due = Overdue, ptr(last.Date)
			r.Reason = fmt.Sprintf("A new DBS check was requested on %s after the status check found %s; record it when it comes",
				fmtDate(last.Review.At), statusFinding(last.Result))
			return r
		}
		base := c.IssueDate
		if last != nil {
			base = last.Date
		}
		if next := addMonths(base, p.DBS.UpdateServiceCheckMonths); next.After(due) {
			due = next
			reason = fmt.Sprintf("On the Update Service; next status check due by %s", fmtDate(due))
		}
	}
	r.State, r.Due, r.Reason = byDate(now, due, p.DueSoon()), ptr(due), reason
	if r.State == Overdue {
		r.Reason = "Recheck was due by " + fmtDate(due)
	}
	return r
}

// statusFinding says what a status check that was not clean found.
func statusFinding(result string) string {
	if result == "no-match" {
		return "no match for the certificate's details"
	}
	return "new information"
}

func workforceCovers(have, want string) bool {
	return have == want || have == "child-and-adult" && (want == "child" || want == "adult")
}

func evalReferences(p *Policy, a *Advocate) Requirement {
	r := Requirement{Key: ReqReferences}
	ok := 0
	for _, ref := range a.References {
		if ref.Outcome != "satisfactory" || ref.VerifiedBy == "" || ref.ReceivedAt == nil {
			continue
		}
		if a.ContractStart != nil && day(*ref.ReceivedAt).After(day(*a.ContractStart)) {
			continue
		}
		ok++
	}
	if ok >= p.References.Required {
		r.State, r.Reason = Met, fmt.Sprintf("%d satisfactory references, verified directly", ok)
		return r
	}
	r.State = Missing
	r.Reason = fmt.Sprintf("%d of %d satisfactory references verified and received before the contract start", ok, p.References.Required)
	return r
}

func evalTraining(p *Policy, a *Advocate, title func(string) string, now time.Time) Requirement {
	r := Requirement{Key: ReqTraining, State: Met, Reason: "No mandatory courses"}
	months := map[string]int{}
	for _, m := range p.MandatoryCourses {
		months[m.Course] = m.RecertifyMonths
	}
	courses := p.CoursesFor(a)
	sort.Strings(courses)
	var worst *Requirement
	var missing []string
	for _, slug := range courses {
		c := Requirement{Key: ReqTraining}
		done, ok := a.Training[slug]
		switch {
		case !ok:
			c.State, c.Reason = Missing, "Not completed: "+title(slug)
			missing = append(missing, title(slug))
		case months[slug] > 0:
			due := addMonths(done, months[slug])
			c.State, c.Due = byDate(now, due, p.DueSoon()), ptr(due)
			c.Reason = fmt.Sprintf("%s: completed %s, renew by %s", title(slug), fmtDate(done), fmtDate(due))
		default:
			c.State, c.Reason = Met, title(slug)+": completed "+fmtDate(done)
		}
		if worst == nil || Worse(c.State, worst.State) || c.State == worst.State && c.Due != nil && (worst.Due == nil || c.Due.Before(*worst.Due)) {
			worst = &c
		}
	}
	if worst != nil {
		r = *worst
		if r.State == Met && len(courses) > 1 {
			r.Reason = fmt.Sprintf("All %d mandatory courses completed", len(courses))
		}
		if len(missing) > 1 {
			r.Reason = "Not completed: " + strings.Join(missing, "; ")
		}
	}
	return r
}

func evalSupervision(p *Policy, a *Advocate, now time.Time) Requirement {
	r := Requirement{Key: ReqSupervision}
	var last *time.Time
	for i := range a.Supervisions {
		if last == nil || a.Supervisions[i].Date.After(*last) {
			last = &a.Supervisions[i].Date
		}
	}
	base := a.Created
	if a.ContractStart != nil {
		base = *a.ContractStart
	}
	if last != nil {
		base = *last
	}
	due := addDays(base, 7*p.Supervision.EveryWeeks)
	r.Due = ptr(due)
	r.State = byDate(now, due, p.Supervision.DueSoonDays)
	switch {
	case last == nil && r.State == Overdue:
		r.State, r.Reason = Missing, "No supervision recorded; the first was due by "+fmtDate(due)
	case last == nil:
		r.Reason = "First supervision due by " + fmtDate(due)
	case r.State == Overdue:
		r.Reason = fmt.Sprintf("Last supervision %s; next was due by %s", fmtDate(*last), fmtDate(due))
	default:
		r.Reason = fmt.Sprintf("Last supervision %s; next due by %s", fmtDate(*last), fmtDate(due))
	}
	return r
}

func evalRegistration(p *Policy, a *Advocate, now time.Time) Requirement {
	r := Requirement{Key: ReqRegistration}
	switch {
	case a.RegistrationDue != nil:
		r.Due = ptr(*a.RegistrationDue)
		r.State = byDate(now, *a.RegistrationDue, p.DueSoon())
		r.Reason = "Professional registration renews by " + fmtDate(*a.RegistrationDue)
		if r.State == Overdue {
			r.Reason = "Professional registration lapsed on " + fmtDate(*a.RegistrationDue)
		}
	case a.Profession == OtherAdvocate:
		r.State, r.Reason = Met, "No professional registration required"
	default:
		r.State, r.Reason = Missing, "No registration renewal date recorded"
	}
	return r
}
