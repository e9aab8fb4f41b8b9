package compliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/secrets"
)

// Store is the persistence compliance needs.
type Store interface {
	InsertAdvocate(ctx context.Context, a *Advocate) error // ECONFLICT when the user is already an advocate
	Advocate(ctx context.Context, id string) (*Advocate, error)
	// UpdateAdvocate applies fn to the advocate and saves it as one atomic
	// document write (retrying if it changed meanwhile). An error from a
	// step after the save wraps ErrSaved and comes with the saved advocate.
	UpdateAdvocate(ctx context.Context, id string, fn func(*Advocate) error) (*Advocate, error)
	// The follow-up queue (see followups.go).
	PutFollowUp(ctx context.Context, f *FollowUp) error
	DoneFollowUp(ctx context.Context, key string) error
	FollowUps(ctx context.Context, limit int) ([]FollowUp, error)
	AdvocateIDs(ctx context.Context) ([]string, error)
	PutRollupRow(ctx context.Context, orgID string, r Row) error
	DeleteRollupRow(ctx context.Context, orgID, id string) error
	Rollup(ctx context.Context, orgID string) (*Rollup, error)
	Rollups(ctx context.Context) ([]Rollup, error) // one small document per organisation
	// PutTrendPoint sets one day's point of an organisation's trend
	// (days written 2006-01-02) and drops the points before dropBefore.
	PutTrendPoint(ctx context.Context, orgID, day string, p TrendPoint, dropBefore string) error
	Trend(ctx context.Context, orgID string) (map[string]TrendPoint, error) // ENOTFOUND when none is recorded
	InsertScan(ctx context.Context, s *ScanRecord) error
	DueScans(ctx context.Context, now time.Time) ([]ScanRecord, error)
	DeleteScan(ctx context.Context, key string) error
	DeleteAdvocate(ctx context.Context, id string) error // (see personal.go)
}

// Blobs keeps evidence files and DBS scans, encrypted at rest (a
// blob.Sealed): Put encrypts, Open decrypts.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the file's plaintext and its size; legacy accepts a file
	// stored in plain before files were encrypted.
	Open(ctx context.Context, key string, legacy bool) (io.ReadCloser, int64, error)
	Delete(ctx context.Context, key string) error
	// SealLegacy encrypts a plain file in place; true when it is now sealed.
	SealLegacy(ctx context.Context, key string) (bool, error)
}

// Deps are what a Service uses besides its store.
type Deps struct {
	Policy    *Policy
	Blobs     Blobs
	Box       *secrets.Box
	Audit     *audit.Log
	Auth      *auth.Service
	Learning  learning.Store
	Catalogue *learning.Catalogue
	Now       func() time.Time
	Log       *slog.Logger
	Fonts     ReportFonts
	// StatusChecker runs Update Service status checks (nil: the app does
	// not check; managers record the checks they make by hand).
	StatusChecker StatusChecker
}

// Service manages advocates' compliance records. Its store stays inside:
// other packages use the methods.
type Service struct {
	Deps
	db Store
}

// NewService returns the service on st.
func NewService(st Store, d Deps) *Service { return &Service{Deps: d, db: st} }

// ScanDeleteAfter is when a DBS certificate scan, and the notes on the
// decision, must be deleted: six calendar months after the decision (at
// the same time of day; the month's last day when it is shorter).
func ScanDeleteAfter(decision time.Time) time.Time { return civil.AddMonthsTo(decision, 6).UTC() }

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CourseTitle returns a course's title, or the slug.
func (s *Service) CourseTitle(slug string) string {
	if c, err := s.Catalogue.Get(slug); err == nil {
		return c.Title
	}
	return slug
}

// authorize lets admins, and managers of the advocate's organisation, act
// on an advocate's record: never their own, whatever roles they hold
// (separation of duties: a check is recorded, verified and decided by
// someone other than its subject, and nobody reads notes written about
// them).
func authorize(actor *auth.User, a *Advocate) error {
	if actor.ID == a.ID {
		return errs.E(errs.EFORBIDDEN, "This is your own compliance record. Another manager or an administrator records and checks it; you see it as every advocate does, on My compliance.")
	}
	if actor.HasRole(auth.RoleAdmin) || actor.HasRole(auth.RoleManager) && actor.OrgID == a.OrgID {
		return nil
	}
	return errs.E(errs.EFORBIDDEN, "This advocate belongs to another organisation.")
}

// Manage returns an advocate the actor may act on as a manager or admin
// (never their own record).
func (s *Service) Manage(ctx context.Context, actor *auth.User, id string) (*Advocate, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := authorize(actor, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Get returns an advocate the actor may see: admins, managers of the same
// organisation, and the advocate themself.
func (s *Service) Get(ctx context.Context, actor *auth.User, id string) (*Advocate, error) {
	a, err := s.db.Advocate(ctx, id)
	if err != nil {
		if errs.Is(err, errs.ENOTFOUND) {
			return nil, errs.E(errs.ENOTFOUND, "We could not find that advocate.")
		}
		return nil, err
	}
	if actor.ID != a.ID {
		if err := authorize(actor, a); err != nil {
			return nil, err
		}
	}
	if day(a.Snapshot.ComputedAt).Before(day(s.Now())) {
		if fresh, err := s.recompute(ctx, id); err == nil {
			a = fresh
		}
	}
	return a, nil
}

// Current returns an advocate's record with its status computed today,
// without an access check (for scheduled jobs).
func (s *Service) Current(ctx context.Context, id string) (*Advocate, error) {
	a, err := s.db.Advocate(ctx, id)
	if err != nil {
		return nil, err
	}
	if day(a.Snapshot.ComputedAt).Before(day(s.Now())) {
		return s.recompute(ctx, id)
	}
	return a, nil
}

// Managers lists the managers of an organisation (for the named-manager field).
func (s *Service) Managers(ctx context.Context, orgID string) ([]auth.User, error) {
	users, _, err := s.Auth.ListUsers(ctx, auth.UserQuery{OrgID: orgID, Role: auth.RoleManager, Limit: 200})
	return users, err
}

func (s *Service) managerIDs(ctx context.Context, orgID string) ([]string, error) {
	ms, err := s.Managers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// Create records a new advocate in the actor's organisation, with an
// account (roles learner and advocate) and an email to choose a password.
// The account and the record are two writes: a follow-up holding the
// record is queued first, so that the reconciler creates the record if
// the call stops between them.
func (s *Service) Create(ctx context.Context, actor *auth.User, f NewAdvocateForm) (*Advocate, error) {
	managers, err := s.managerIDs(ctx, actor.OrgID)
	if err != nil {
		return nil, err
	}
	a, err := f.Check(s.Now(), managers, true)
	if err != nil {
		return nil, err
	}
	email, _ := auth.NormaliseEmail(a.Email)
	a.Name, a.OrgID = auth.NormaliseName(a.Name), actor.OrgID
	fu, err := s.followUp(ctx, "new:"+email, nil, &Advocate{Name: a.Name, Email: email, OrgID: actor.OrgID, Profession: a.Profession,
		ProfessionalBody: a.ProfessionalBody, RegistrationNo: a.RegistrationNo, RegistrationDue: a.RegistrationDue, ContractStart: a.ContractStart,
		Status: a.Status, ManagerID: a.ManagerID, MandatoryCourses: a.MandatoryCourses, Created: s.Now().UTC(), CreatedByID: actor.ID, CreatedBy: actor.Name})
	if err != nil {
		return nil, err
	}
	var pw [24]byte
	_, _ = rand.Read(pw[:])
	u, err := s.Auth.CreateUser(ctx, a.Email, a.Name, auth.HashPassword(hex.EncodeToString(pw[:])), actor.OrgID, auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate})
	if err != nil {
		s.abandon(ctx, fu)
		return nil, err
	}
	adv, err := s.CreateForUser(ctx, actor, u, a)
	if err != nil {
		// The account stands; the follow-up makes the record.
		s.Log.Warn("compliance: the new advocate's account was made but not their record; the reconciler finishes it", "user", u.ID, "err", err)
		return nil, errs.Wrap(errs.EUNAVAILABLE, err, "The account was created, but its compliance record could not be saved just now. It will be completed within a few minutes; you do not need to add the person again.")
	}
	_ = s.db.DoneFollowUp(ctx, fu.Key)
	if err := s.Auth.RequestPasswordReset(ctx, u.Email); err != nil {
		s.Log.Warn("could not send the new advocate's password email", "err", err)
	}
	return adv, nil
}

// resumeCreate makes the record of an advocate whose account a stopped
// Create made: only an account created after the follow-up, in the same
// organisation, as an advocate (never someone else's account).
func (s *Service) resumeCreate(ctx context.Context, f *FollowUp) error {
	p := f.Create
	u, err := s.Auth.UserByEmail(ctx, p.Email)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil // the account was never made
	}
	if err != nil {
		return err
	}
	if u.OrgID != p.OrgID || !u.HasRole(auth.RoleAdvocate) || u.Created.Before(f.Created.Add(-time.Second)) {
		return nil
	}
	if _, err := s.db.Advocate(ctx, u.ID); err == nil {
		return nil // made already
	}
	actor := &auth.User{ID: p.CreatedByID, Name: p.CreatedBy}
	prof := *p
	prof.CreatedByID, prof.CreatedBy = "", ""
	if _, err := s.CreateForUser(ctx, actor, u, prof); err != nil && !errs.Is(err, errs.EINVALID) {
		return err
	}
	if err := s.Auth.RequestPasswordReset(ctx, u.Email); err != nil {
		s.Log.Warn("could not send the new advocate's password email", "err", err)
	}
	return nil
}

// CreateForUser starts the compliance record of an existing account with
// the given profile (also used for demo data).
func (s *Service) CreateForUser(ctx context.Context, actor *auth.User, u *auth.User, p Advocate) (*Advocate, error) {
	now := s.Now().UTC()
	a := p
	a.ID, a.Name, a.Email, a.OrgID, a.Created, a.Updated = u.ID, u.Name, u.Email, u.OrgID, now, now
	if a.MandatoryCourses == nil {
		for _, m := range s.Policy.MandatoryCourses {
			a.MandatoryCourses = append(a.MandatoryCourses, m.Course)
		}
	}
	s.refreshTraining(ctx, &a)
	a.Snapshot = Evaluate(s.Policy, &a, s.CourseTitle, s.Now())
	a.Outbox = []audit.Event{s.event(actor.ID, actor.Name, "advocate.create", &a, nil, profileFields(&a), "")}
	fu, err := s.followUp(ctx, a.ID, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := s.db.InsertAdvocate(ctx, &a); err != nil {
		s.abandon(ctx, fu)
		if errs.Is(err, errs.ECONFLICT) {
			return nil, errs.FieldErrors{"email": "This person already has a compliance record"}.Err()
		}
		return nil, err
	}
	s.finish(ctx, fu, &a)
	return &a, nil
}

func profileFields(a *Advocate) map[string]any {
	m := map[string]any{"name": a.Name, "profession": a.Profession, "professional_body": a.ProfessionalBody,
		"registration_no": a.RegistrationNo, "status": a.Status, "manager_id": a.ManagerID}
	if a.RegistrationDue != nil {
		m["registration_due"] = civil.Of(*a.RegistrationDue).String()
	}
	if a.ContractStart != nil {
		m["contract_start"] = civil.Of(*a.ContractStart).String()
	}
	return m
}

func (s *Service) audit(ctx context.Context, actor *auth.User, action string, a *Advocate, before, after map[string]any, note string) error {
	return s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: a.OrgID, Action: action,
		Target: "advocate:" + a.ID, Before: before, After: after, Note: note})
}

// update applies fn to an advocate the actor may manage (never their own
// record), recomputes the snapshot in the same write, refreshes the
// dashboard row and records the audit event. A nil actor is the system.
func (s *Service) update(ctx context.Context, actor *auth.User, id, action string, fn func(a *Advocate) (before, after map[string]any, err error)) (*Advocate, error) {
	return s.write(ctx, actor, false, id, action, fn)
}

// updateOwn is update for what an advocate may also do on their own record
// (recording CPD, removing CPD they recorded); fn checks the rest.
func (s *Service) updateOwn(ctx context.Context, actor *auth.User, id, action string, fn func(a *Advocate) (before, after map[string]any, err error)) (*Advocate, error) {
	return s.write(ctx, actor, true, id, action, fn)
}

func (s *Service) write(ctx context.Context, actor *auth.User, ownOK bool, id, action string, fn func(a *Advocate) (before, after map[string]any, err error)) (*Advocate, error) {
	return s.apply(ctx, nil, actor, ownOK, id, action, fn)
}

// apply saves fn's change to an advocate's record, its recomputed status
// and (for an actor) the audit event describing it, in one write; then it
// finishes the follow-up f (queued by the caller with the files it stored,
// or here when nil). Once the write is done, nothing fails the call. When
// the write fails, the follow-up is abandoned: its files are deleted.
func (s *Service) apply(ctx context.Context, f *FollowUp, actor *auth.User, ownOK bool, id, action string, fn func(a *Advocate) (before, after map[string]any, err error)) (*Advocate, error) {
	if f == nil {
		var err error
		if f, err = s.followUp(ctx, id, nil, nil); err != nil {
			return nil, err
		}
	}
	a, err := s.db.UpdateAdvocate(ctx, id, func(a *Advocate) error {
		if actor != nil && !(ownOK && actor.ID == a.ID) {
			if err := authorize(actor, a); err != nil {
				return err
			}
		}
		before, after, err := fn(a)
		if err != nil {
			return err
		}
		a.Updated = s.Now().UTC()
		a.Snapshot = Evaluate(s.Policy, a, s.CourseTitle, s.Now())
		if actor != nil {
			a.Outbox = append(a.Outbox, s.event(actor.ID, actor.Name, action, a, before, after, ""))
		}
		return nil
	})
	if errors.Is(err, ErrSaved) {
		s.Log.Warn("compliance: a step after saving an advocate failed; the reconciler finishes it", "advocate", id, "err", err)
		err = nil
	}
	if err != nil {
		s.abandon(ctx, f)
		return nil, err
	}
	s.finish(ctx, f, a)
	return a, nil
}

// abandon ends a follow-up whose change was not saved: it deletes the
// files the call stored that no record points at, and drops the item (the
// reconciler does both if this fails).
func (s *Service) abandon(ctx context.Context, f *FollowUp) {
	ctx = context.WithoutCancel(ctx)
	if err := s.dropUnreferenced(ctx, f, nil); err != nil {
		s.Log.Warn("compliance: could not delete a file of an unsaved change; the reconciler retries", "err", err)
		return
	}
	_ = s.db.DoneFollowUp(ctx, f.Key)
}

// UpdateProfile changes an advocate's profile.
func (s *Service) UpdateProfile(ctx context.Context, actor *auth.User, id string, f ProfileForm) (*Advocate, error) {
	cur, err := s.Manage(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	managers, err := s.managerIDs(ctx, cur.OrgID)
	if err != nil {
		return nil, err
	}
	p, err := f.Check(s.Now(), managers, false)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, "advocate.update", func(a *Advocate) (map[string]any, map[string]any, error) {
		before := profileFields(a)
		a.Profession, a.ProfessionalBody, a.RegistrationNo, a.RegistrationDue = p.Profession, p.ProfessionalBody, p.RegistrationNo, p.RegistrationDue
		if p.Status == StatusEnded && a.Status != StatusEnded {
			now := s.Now().UTC()
			a.EndedAt = &now // the retention period runs from here
		} else if p.Status != StatusEnded {
			a.EndedAt = nil
		}
		a.ContractStart, a.Status, a.ManagerID = p.ContractStart, p.Status, p.ManagerID
		return before, profileFields(a), nil
	})
}

// SetMandatoryCourses sets the courses this advocate must complete beyond
// the policy's, which apply to everyone whatever is chosen here.
func (s *Service) SetMandatoryCourses(ctx context.Context, actor *auth.User, id string, slugs []string) (*Advocate, error) {
	var clean []string
	for _, sl := range slugs {
		if _, err := s.Catalogue.Get(sl); err == nil && !slices.Contains(clean, sl) {
			clean = append(clean, sl)
		}
	}
	return s.update(ctx, actor, id, "advocate.mandatory_training", func(a *Advocate) (map[string]any, map[string]any, error) {
		before := map[string]any{"mandatory_courses": a.MandatoryCourses}
		a.MandatoryCourses = clean
		s.refreshTraining(ctx, a)
		return before, map[string]any{"mandatory_courses": clean}, nil
	})
}

// refreshTraining reads the advocate's completions of their mandatory
// courses (one point read each).
func (s *Service) refreshTraining(ctx context.Context, a *Advocate) {
	if a.Training == nil {
		a.Training = map[string]time.Time{}
	}
	for _, slug := range s.Policy.CoursesFor(a) {
		e, err := s.Learning.Enrolment(ctx, learning.EnrolmentID(a.ID, slug))
		if err == nil && e.Completion != nil && e.Completion.At.After(a.Training[slug]) {
			a.Training[slug] = e.Completion.At
		}
	}
}

// RecordCourseCompletion is the CPD hand-over from learning: a completed
// course becomes a CPD entry (once) and counts towards mandatory training.
// It reports whether the learner is an advocate.
func (s *Service) RecordCourseCompletion(ctx context.Context, e *learning.Enrolment) (bool, error) {
	if e.Completion == nil {
		return false, nil
	}
	c := e.Completion
	return s.recordLearning(ctx, e.UserID, e.Course, CPDEntry{ID: "course:" + e.Course + ":" + strconv.Itoa(c.Attempt), Date: c.At, Title: c.CourseTitle,
		Type: "course", Hours: c.CPDHours, Learnt: "Completed the course and passed its assessment (" + strconv.Itoa(c.Percent) + "%).",
		Source: "course:" + e.Course}, map[string]any{"version": c.CourseVersion}, "Course completed in the LMS")
}

// RecordLiveAttendance is the CPD hand-over from live training: a session
// attended becomes a CPD entry (once, keyed by the attendance), and, when
// the session is linked to a course, counts towards that course's
// mandatory training. It reports whether the person is an advocate.
func (s *Service) RecordLiveAttendance(ctx context.Context, userID, key, course, title, learnt string, hours float64, at time.Time) (bool, error) {
	return s.recordLearning(ctx, userID, course, CPDEntry{ID: key, Date: at, Title: title, Type: "course", Hours: hours, Learnt: learnt,
		Source: key}, nil, "Live training attended")
}

// recordLearning adds an entry the LMS recorded to an advocate's CPD log
// (once: an entry with its ID already there is left) and counts it as
// training in course (if any) at the entry's date.
func (s *Service) recordLearning(ctx context.Context, userID, course string, entry CPDEntry, extra map[string]any, reason string) (bool, error) {
	_, err := s.update(ctx, nil, userID, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		if course != "" {
			if a.Training == nil {
				a.Training = map[string]time.Time{}
			}
			if entry.Date.After(a.Training[course]) {
				a.Training[course] = entry.Date
			}
		}
		if !slices.ContainsFunc(a.CPD, func(x CPDEntry) bool { return x.ID == entry.ID }) {
			entry.RecordedBy, entry.RecordedAt = "Family Advocacy Learning", s.Now().UTC()
			a.CPD = append(a.CPD, entry)
			fields := map[string]any{"entry": entry.ID, "title": entry.Title, "hours": entry.Hours, "source": entry.Source}
			maps.Copy(fields, extra)
			a.Outbox = append(a.Outbox, s.event("system", "Family Advocacy Learning", "cpd.create", a, nil, fields, reason))
		}
		return nil, nil, nil
	})
	if errs.Is(err, errs.ENOTFOUND) {
		return false, nil
	}
	return err == nil, err
}
