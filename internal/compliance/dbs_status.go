package compliance

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/dbsupdate"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/input"
)

// CouldNotCheck is the result of a status check the DBS service did not
// answer properly: never a pass, and it leaves the requirement as it was.
const CouldNotCheck = "could-not-check"

// AutoChecker is the name status checks run by the app are recorded under.
const AutoChecker = "Automatic check"

// StatusChecker checks a certificate on the DBS Update Service
// (dbsupdate.Client).
type StatusChecker interface {
	Check(ctx context.Context, r dbsupdate.Request) (dbsupdate.Result, error)
}

// FailureNoticeDays is how many days running a check can fail before the
// manager is told (once).
const FailureNoticeDays = 3

// LatestDBS returns the advocate's DBS check with the latest issue date
// (the one their requirement is judged on), or nil.
func (a *Advocate) LatestDBS() *DBSCheck { return latestDBS(a) }

// latestDBS returns the check with the latest issue date, or nil.
func latestDBS(a *Advocate) *DBSCheck {
	var c *DBSCheck
	for i := range a.DBS {
		if c == nil || a.DBS[i].IssueDate.After(c.IssueDate) {
			c = &a.DBS[i]
		}
	}
	return c
}

// LastStatus returns the latest status check that had an answer (nil when
// none): what the certificate's state is known to be.
func (d *DBSCheck) LastStatus() *StatusCheck {
	var last *StatusCheck
	for i := range d.StatusChecks {
		c := &d.StatusChecks[i]
		if c.Result != CouldNotCheck && (last == nil || !c.Date.Before(last.Date)) {
			last = c
		}
	}
	return last
}

// LastEntry returns the status check log's latest entry, answered or not.
func (d *DBSCheck) LastEntry() *StatusCheck {
	var last *StatusCheck
	for i := range d.StatusChecks {
		c := &d.StatusChecks[i]
		if last == nil || !c.at().Before(last.at()) {
			last = c
		}
	}
	return last
}

// at is when an entry was last tried.
func (c *StatusCheck) at() time.Time {
	if c.Until != nil {
		return *c.Until
	}
	return c.Date
}

// NeedsAction reports whether the status check found something a manager
// must decide on (new information, or no match) and nobody has yet.
func (c *StatusCheck) NeedsAction() bool {
	return c != nil && (c.Result == "new-information" || c.Result == "no-match") && c.Review == nil
}

// Clean reports whether the check found nothing new.
func (c *StatusCheck) Clean() bool { return c != nil && c.Result == "no-new-information" }

// Words says what a status check found, for a manager.
func (c *StatusCheck) Words() string {
	switch {
	case c.Result == CouldNotCheck:
		return "Could not check: " + c.Reason
	case c.Status != "":
		return dbsupdate.Status(c.Status).Words()
	}
	return Label(c.Result)
}

// AutoCheckable reports whether the app may check the certificate: on the
// Update Service, with consent on record and the details the check sends.
func (d *DBSCheck) AutoCheckable() bool {
	return d.UpdateService && d.Consent.Given() && d.DateOfBirth != "" && d.Surname != ""
}

// NextAutoCheck returns the check the app checks next for the advocate and
// the day it is due (nil when none is checkable): the policy's interval
// after the last answered check (or at once, with consent and none yet),
// never twice on one day.
func (p *Policy) NextAutoCheck(a *Advocate) (*DBSCheck, *time.Time) {
	c := latestDBS(a)
	if c == nil || a.Status == StatusEnded || !c.AutoCheckable() {
		return nil, nil
	}
	due := day(c.Consent.At)
	if last := c.LastStatus(); last != nil {
		due = addDays(last.Date, p.AutoCheckDays())
	}
	if c.AutoDay != "" {
		if d, err := civil.Parse(c.AutoDay); err == nil {
			if next := d.AddDays(1).Midnight(); next.After(due) {
				due = next
			}
		}
	}
	return c, &due
}

// ConsentForm is consent to status checks as typed.
type ConsentForm struct {
	DateOfBirth, Surname string
	Agreed               bool // the advocate's own tick, or the manager's that the signed form is held
}

// check validates the form.
func (f ConsentForm) check(now time.Time) (dob civil.Date, surname string, err error) {
	c := &checker{fe: errs.FieldErrors{}, now: now}
	// A date of birth is older than the records' earliest date: its own
	// range, 16 to 100 years ago.
	today := civil.Of(now)
	t, p := input.Date(f.DateOfBirth, London, today.AddYears(-100).Midnight(), today.AddYears(-16).Midnight())
	switch {
	case p == input.OK:
		dob = civil.Of(t)
	case p == input.Empty:
		c.fe.Add("date_of_birth", "Enter the date of birth")
	case p == input.TooHigh:
		c.fe.Add("date_of_birth", "Date of birth must be at least 16 years ago")
	case p == input.TooLow:
		c.fe.Add("date_of_birth", "Date of birth must be within the last 100 years")
	default:
		c.fe.Add("date_of_birth", input.DateMessage("Date of birth", p, true))
	}
	surname = c.text("surname", f.Surname, "the surname on the certificate", true, 60)
	if !f.Agreed {
		c.fe.Add("agreed", "Confirm the consent to status checks")
	}
	return dob, surname, c.fe.Err()
}

// RecordConsent records, for a manager, an advocate's signed consent to
// the app's status checks on a DBS check on the Update Service, with the
// date of birth and surname they send.
func (s *Service) RecordConsent(ctx context.Context, actor *auth.User, id, checkID string, f ConsentForm) (*Advocate, error) {
	if _, err := s.Manage(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.consent(ctx, actor, id, checkID, "signed-form", f)
}

// RecordOwnConsent records an advocate's own consent, given in the app:
// the one thing on their record that is theirs to record.
func (s *Service) RecordOwnConsent(ctx context.Context, actor *auth.User, checkID string, f ConsentForm) (*Advocate, error) {
	return s.consent(ctx, actor, actor.ID, checkID, "advocate-in-app", f)
}

func (s *Service) consent(ctx context.Context, actor *auth.User, id, checkID, how string, f ConsentForm) (*Advocate, error) {
	now := s.Now().UTC()
	dob, surname, err := f.check(now)
	if err != nil {
		return nil, err
	}
	return s.updateOwn(ctx, actor, id, "dbs.consent", func(a *Advocate) (map[string]any, map[string]any, error) {
		d, err := dbsByID(a, checkID)
		if err != nil {
			return nil, nil, err
		}
		if !d.UpdateService {
			return nil, nil, errs.FieldErrors{"agreed": "This certificate is not on the Update Service, so it cannot be status checked"}.Err()
		}
		d.Consent = &UpdateConsent{How: how, At: now, RecordedBy: actor.Name, RecordedByID: actor.ID}
		d.DateOfBirth = s.sealed(id, "dbs-dob", d.ID, dob.String())
		d.Surname = s.sealed(id, "dbs-surname", d.ID, surname)
		return nil, map[string]any{"check": d.ID, "how": how}, nil
	})
}

// WithdrawConsent records, for a manager, that an advocate withdrew their
// consent to status checks: the app stops checking and forgets the date
// of birth and surname. WithdrawOwnConsent is the advocate's own.
func (s *Service) WithdrawConsent(ctx context.Context, actor *auth.User, id, checkID string) (*Advocate, error) {
	if _, err := s.Manage(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.withdraw(ctx, actor, id, checkID)
}

// WithdrawOwnConsent is an advocate withdrawing their own consent.
func (s *Service) WithdrawOwnConsent(ctx context.Context, actor *auth.User, checkID string) (*Advocate, error) {
	return s.withdraw(ctx, actor, actor.ID, checkID)
}

func (s *Service) withdraw(ctx context.Context, actor *auth.User, id, checkID string) (*Advocate, error) {
	now := s.Now().UTC()
	return s.updateOwn(ctx, actor, id, "dbs.consent_withdrawn", func(a *Advocate) (map[string]any, map[string]any, error) {
		d, err := dbsByID(a, checkID)
		if err != nil {
			return nil, nil, err
		}
		if !d.Consent.Given() {
			return nil, nil, errs.E(errs.ECONFLICT, "There is no consent to status checks to withdraw.")
		}
		d.Consent.WithdrawnAt, d.Consent.WithdrawnBy = &now, actor.Name
		d.DateOfBirth, d.Surname = "", ""
		return nil, map[string]any{"check": d.ID}, nil
	})
}

// RevealDateOfBirth decrypts the date of birth kept for status checks; the
// view is audited.
func (s *Service) RevealDateOfBirth(ctx context.Context, actor *auth.User, id, checkID string) (string, error) {
	a, err := s.Manage(ctx, actor, id)
	if err != nil {
		return "", err
	}
	d, err := dbsByID(a, checkID)
	if err != nil {
		return "", err
	}
	if d.DateOfBirth == "" {
		return "", errs.E(errs.ENOTFOUND, "No date of birth is kept for this check.")
	}
	v, err := s.Box.Open(d.DateOfBirth, "advocate:"+id+":dbs-dob:"+checkID)
	if err != nil {
		return "", err
	}
	dob, err := civil.Parse(v)
	if err != nil {
		return "", err
	}
	return dob.Midnight().Format("2 January 2006"), s.audit(ctx, actor, "dbs.reveal_dob", a, nil, map[string]any{"check": checkID}, "")
}

// StatusReviewForm is a manager's decision on a status check, as typed.
type StatusReviewForm struct{ Decision, Reason string }

// ReviewStatusCheck records a manager's decision on the latest status
// check of a DBS check, when it found new information or no match: a new
// DBS check was requested (the advocate stays not cleared until it is
// recorded), or the information was reviewed and they are clear (with the
// reason).
func (s *Service) ReviewStatusCheck(ctx context.Context, actor *auth.User, id, checkID string, f StatusReviewForm) (*Advocate, error) {
	if _, err := s.Manage(ctx, actor, id); err != nil {
		return nil, err
	}
	c := &checker{fe: errs.FieldErrors{}, now: s.Now()}
	decision := c.choice("status_decision", f.Decision, "the decision", StatusDecisions, true)
	reason := c.text("status_reason", f.Reason, "the reason", decision == "reviewed-clear", 2000)
	if err := c.fe.Err(); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	return s.update(ctx, actor, id, "dbs.status_review", func(a *Advocate) (map[string]any, map[string]any, error) {
		d, err := dbsByID(a, checkID)
		if err != nil {
			return nil, nil, err
		}
		last := d.LastStatus()
		if !last.NeedsAction() {
			return nil, nil, errs.E(errs.ECONFLICT, "The latest status check of this certificate needs no decision.")
		}
		last.Review = &StatusReview{Decision: decision, Reason: s.sealed(id, "dbs-status-review", reviewKey(d, last), reason),
			By: actor.Name, ByID: actor.ID, At: now}
		return nil, map[string]any{"check": d.ID, "date": civil.Of(last.Date).String(), "decision": decision}, nil
	})
}

// ReviewReason decrypts the reason a manager gave for a status review.
func (s *Service) ReviewReason(a *Advocate, d *DBSCheck, c *StatusCheck) string {
	if c.Review == nil || c.Review.Reason == "" {
		return ""
	}
	v, err := s.Box.Open(c.Review.Reason, "advocate:"+a.ID+":dbs-status-review:"+reviewKey(d, c))
	if err != nil {
		return ""
	}
	return v
}

func reviewKey(d *DBSCheck, c *StatusCheck) string { return d.ID + "/" + civil.Of(c.Date).String() }

// ErrNotDue is returned by AutoStatusCheck when there is nothing to check.
var ErrNotDue = errors.New("compliance: no status check due")

// CheckStatusNow runs a status check at once, for a manager on the
// advocate's DBS section.
func (s *Service) CheckStatusNow(ctx context.Context, actor *auth.User, id, checkID string) (*Advocate, error) {
	a, err := s.Manage(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if s.StatusChecker == nil {
		return nil, errs.E(errs.ECONFLICT, "Automatic status checks are not set up on this installation: record a check you made on the DBS website instead.")
	}
	d, err := dbsByID(a, checkID)
	if err != nil {
		return nil, err
	}
	if !d.AutoCheckable() {
		return nil, errs.E(errs.ECONFLICT, "The app may check this certificate only with the advocate's consent, their date of birth and surname on record.")
	}
	return s.statusCheck(ctx, actor, a, d)
}

// AutoStatusCheck runs the scheduled status check of an advocate if one is
// due today (ErrNotDue otherwise). The day is claimed on the record before
// the check is sent, so a rerun, a crash or a second instance never checks
// the same person twice on one day.
func (s *Service) AutoStatusCheck(ctx context.Context, id string) (*Advocate, error) {
	if s.StatusChecker == nil {
		return nil, ErrNotDue
	}
	today := civil.Of(s.Now())
	var claimed *DBSCheck
	a, err := s.update(ctx, nil, id, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		d, due := s.Policy.NextAutoCheck(a)
		if d == nil || due.After(today.Midnight()) {
			return nil, nil, ErrNotDue
		}
		d.AutoDay = today.String()
		claimed = d
		return nil, nil, nil
	})
	if err != nil {
		return nil, err
	}
	d, err := dbsByID(a, claimed.ID)
	if err != nil {
		return nil, err
	}
	return s.statusCheck(ctx, nil, a, d)
}

// statusCheck sends the check and records its result (actor nil: the
// automatic check).
func (s *Service) statusCheck(ctx context.Context, actor *auth.User, a *Advocate, d *DBSCheck) (*Advocate, error) {
	req, err := s.statusRequest(a, d)
	if err != nil {
		return nil, err
	}
	res, err := s.StatusChecker.Check(ctx, req)
	var fail *dbsupdate.Failure
	if err != nil && !errors.As(err, &fail) {
		fail = &dbsupdate.Failure{Reason: "the check was interrupted", Temporary: true}
	}
	now := s.Now().UTC()
	by, byID := AutoChecker, "system"
	if actor != nil {
		by, byID = actor.Name, actor.ID
	}
	return s.update(context.WithoutCancel(ctx), nil, a.ID, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		d, err := dbsByID(a, d.ID)
		if err != nil {
			return nil, nil, err
		}
		after := map[string]any{"check": d.ID, "date": civil.Of(now).String()}
		if fail != nil {
			after["result"], after["reason"] = CouldNotCheck, fail.Reason
			d.addFailure(now, by, actor == nil, fail.Reason)
		} else {
			sc := StatusCheck{Date: now, Result: resultOf(res.Status), Status: string(res.Status), CheckedBy: by, Auto: actor == nil}
			d.StatusChecks = append(d.StatusChecks, sc)
			after["result"] = sc.Result
		}
		a.Outbox = append(a.Outbox, s.event(byID, by, "dbs.status_check", a, nil, after, ""))
		return nil, nil, nil
	})
}

// addFailure logs a check that could not be made: a run of them on
// consecutive days is one entry.
func (d *DBSCheck) addFailure(now time.Time, by string, auto bool, reason string) {
	if last := d.LastEntry(); last != nil && last.Result == CouldNotCheck && !civil.Of(last.at()).AddDays(1).Before(civil.Of(now)) {
		if civil.Of(last.at()) != civil.Of(now) {
			last.Days++
		}
		last.Until, last.Reason, last.CheckedBy, last.Auto = &now, reason, by, auto
		return
	}
	d.StatusChecks = append(d.StatusChecks, StatusCheck{Date: now, Until: &now, Days: 1, Result: CouldNotCheck, Reason: reason, CheckedBy: by, Auto: auto})
}

// FailingSince returns the day a run of failed checks began when it has
// lasted FailureNoticeDays days or more, and whether it has.
func (d *DBSCheck) FailingSince() (time.Time, bool) {
	last := d.LastEntry()
	if last == nil || last.Result != CouldNotCheck || last.Days < FailureNoticeDays {
		return time.Time{}, false
	}
	return last.Date, true
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func resultOf(st dbsupdate.Status) string {
	switch st {
	case dbsupdate.BlankNoNewInfo, dbsupdate.NonBlankNoNewInfo:
		return "no-new-information"
	case dbsupdate.NewInfo:
		return "new-information"
	}
	return "no-match"
}

// statusRequest opens the sealed details a check sends.
func (s *Service) statusRequest(a *Advocate, d *DBSCheck) (dbsupdate.Request, error) {
	number, err := s.Box.Open(d.CertificateNumber, "advocate:"+a.ID+":dbs-number:"+d.ID)
	if err != nil {
		return dbsupdate.Request{}, err
	}
	dob, err := s.Box.Open(d.DateOfBirth, "advocate:"+a.ID+":dbs-dob:"+d.ID)
	if err != nil {
		return dbsupdate.Request{}, err
	}
	surname, err := s.Box.Open(d.Surname, "advocate:"+a.ID+":dbs-surname:"+d.ID)
	if err != nil {
		return dbsupdate.Request{}, err
	}
	born, err := civil.Parse(dob)
	if err != nil {
		return dbsupdate.Request{}, err
	}
	return dbsupdate.Request{CertificateNumber: number, DateOfBirth: time.Date(born.Year, born.Month, born.Day, 0, 0, 0, 0, time.UTC), Surname: surname}, nil
}

func dbsByID(a *Advocate, checkID string) (*DBSCheck, error) {
	i := slices.IndexFunc(a.DBS, func(d DBSCheck) bool { return d.ID == checkID })
	if i < 0 {
		return nil, errs.E(errs.ENOTFOUND, "We could not find that DBS check.")
	}
	return &a.DBS[i], nil
}

// StatusSummary is the last status check for a dashboard row.
type StatusSummary struct {
	At     time.Time `bson:"at"`
	Result string    `bson:"result"`
	Auto   bool      `bson:"auto"`
	Words  string    `bson:"words"`
	Short  string    `bson:"short"`            // "No new information", "Could not check (3 days)"
	Action bool      `bson:"action,omitempty"` // found something a manager must decide on
	Days   int       `bson:"days,omitempty"`   // a run of failed checks: the days it spans
}

// Clean reports whether the check found nothing new.
func (s *StatusSummary) Clean() bool { return s != nil && s.Result == "no-new-information" }

// StatusSummaryOf returns the latest DBS check's latest status check entry.
func StatusSummaryOf(a *Advocate) *StatusSummary {
	c := latestDBS(a)
	if c == nil {
		return nil
	}
	last := c.LastEntry()
	if last == nil {
		return nil
	}
	w, short := last.Words(), Label(last.Result)
	if last.Result == CouldNotCheck && last.Days > 1 {
		w = "Could not check (" + plural(last.Days, "day") + " running)"
		short = "Could not check (" + plural(last.Days, "day") + ")"
	} else if last.Review != nil {
		w += " – " + strings.ToLower(Label(last.Review.Decision))
		short += ", " + strings.ToLower(Label(last.Review.Decision))
	}
	return &StatusSummary{At: last.at(), Result: last.Result, Auto: last.Auto, Words: w, Short: short, Action: c.LastStatus().NeedsAction(), Days: last.Days}
}
