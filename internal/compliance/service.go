package compliance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/secrets"
)

// Row is an advocate's line on the organisation's dashboard.
type Row struct {
	ID         string                `bson:"id"`
	Name       string                `bson:"name"`
	Status     string                `bson:"status"`
	Profession string                `bson:"profession"`
	Overall    State                 `bson:"overall"`
	Cleared    bool                  `bson:"cleared"`
	States     map[string]State      `bson:"states"`
	Due        map[string]*time.Time `bson:"due"`
	NextDue    *time.Time            `bson:"next_due,omitempty"`
	CPDMonths  []float64             `bson:"cpd_months"` // hours in each of the last 12 months, oldest first
	Updated    time.Time             `bson:"updated_at"`
	Computed   time.Time             `bson:"computed_at"` // when the states were computed
}

// Rollup is one organisation's dashboard rows, kept in one document so the
// dashboard is a point read.
type Rollup struct {
	OrgID string         `bson:"_id"`
	Rows  map[string]Row `bson:"rows"`
}

// ScanRecord schedules the deletion of a DBS certificate scan.
type ScanRecord struct {
	Key         string    `bson:"_id"`
	AdvocateID  string    `bson:"advocate_id"`
	CheckID     string    `bson:"check_id"`
	DeleteAfter time.Time `bson:"delete_after"`
}

// Store is the persistence compliance needs.
type Store interface {
	InsertAdvocate(ctx context.Context, a *Advocate) error // ECONFLICT when the user is already an advocate
	Advocate(ctx context.Context, id string) (*Advocate, error)
	// UpdateAdvocate applies fn to the advocate and saves it as one atomic
	// document write (retrying if it changed meanwhile).
	UpdateAdvocate(ctx context.Context, id string, fn func(*Advocate) error) (*Advocate, error)
	AdvocateIDs(ctx context.Context) ([]string, error)
	PutRollupRow(ctx context.Context, orgID string, r Row) error
	DeleteRollupRow(ctx context.Context, orgID, id string) error
	Rollup(ctx context.Context, orgID string) (*Rollup, error)
	InsertScan(ctx context.Context, s *ScanRecord) error
	DueScans(ctx context.Context, now time.Time) ([]ScanRecord, error)
	DeleteScan(ctx context.Context, key string) error
}

// Blobs keeps evidence files and DBS scans.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	Delete(ctx context.Context, key string) error
}

// Service manages advocates' compliance records.
type Service struct {
	Store     Store
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
}

// ScanRetention is how long a DBS certificate scan may be kept after the decision.
const ScanRetention = 183 * 24 * time.Hour // six months

// MaxUpload is the largest evidence or scan file accepted.
const MaxUpload = 10 << 20

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

// authorize lets admins, and managers of the advocate's organisation, act.
func authorize(actor *auth.User, a *Advocate) error {
	if actor.HasRole(auth.RoleAdmin) || actor.HasRole(auth.RoleManager) && actor.OrgID == a.OrgID {
		return nil
	}
	return errs.E(errs.EFORBIDDEN, "This advocate belongs to another organisation.")
}

// Get returns an advocate the actor may see: admins, managers of the same
// organisation, and the advocate themself.
func (s *Service) Get(ctx context.Context, actor *auth.User, id string) (*Advocate, error) {
	a, err := s.Store.Advocate(ctx, id)
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
	a, err := s.Store.Advocate(ctx, id)
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
	users, _, err := s.Auth.Store.ListUsers(ctx, auth.UserQuery{OrgID: orgID, Role: auth.RoleManager, Limit: 200})
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
func (s *Service) Create(ctx context.Context, actor *auth.User, f NewAdvocateForm) (*Advocate, error) {
	managers, err := s.managerIDs(ctx, actor.OrgID)
	if err != nil {
		return nil, err
	}
	a, err := f.Check(s.Now(), managers, true)
	if err != nil {
		return nil, err
	}
	var pw [24]byte
	_, _ = rand.Read(pw[:])
	u, err := s.Auth.CreateUser(ctx, a.Email, auth.NormaliseName(a.Name), auth.HashPassword(hex.EncodeToString(pw[:])), actor.OrgID, auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate})
	if err != nil {
		return nil, err
	}
	adv, err := s.CreateForUser(ctx, actor, u, a)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.RequestPasswordReset(ctx, u.Email); err != nil {
		s.Log.Warn("could not send the new advocate's password email", "err", err)
	}
	return adv, nil
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
	if err := s.Store.InsertAdvocate(ctx, &a); err != nil {
		if errs.Is(err, errs.ECONFLICT) {
			return nil, errs.FieldErrors{"email": "This person already has a compliance record"}.Err()
		}
		return nil, err
	}
	if err := s.rollup(ctx, &a); err != nil {
		return nil, err
	}
	return &a, s.audit(ctx, actor, "advocate.create", &a, nil, profileFields(&a), "")
}

func profileFields(a *Advocate) map[string]any {
	m := map[string]any{"name": a.Name, "profession": a.Profession, "professional_body": a.ProfessionalBody,
		"registration_no": a.RegistrationNo, "status": a.Status, "manager_id": a.ManagerID}
	if a.RegistrationDue != nil {
		m["registration_due"] = a.RegistrationDue.Format(time.DateOnly)
	}
	if a.ContractStart != nil {
		m["contract_start"] = a.ContractStart.Format(time.DateOnly)
	}
	return m
}

func (s *Service) audit(ctx context.Context, actor *auth.User, action string, a *Advocate, before, after map[string]any, note string) error {
	return s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: a.OrgID, Action: action,
		Target: "advocate:" + a.ID, Before: before, After: after, Note: note})
}

// update applies fn to an authorised advocate, recomputes the snapshot in
// the same write, refreshes the dashboard row and records the audit event.
func (s *Service) update(ctx context.Context, actor *auth.User, id, action string, fn func(a *Advocate) (before, after map[string]any, err error)) (*Advocate, error) {
	var before, after map[string]any
	a, err := s.Store.UpdateAdvocate(ctx, id, func(a *Advocate) error {
		if actor != nil && actor.ID != a.ID {
			if err := authorize(actor, a); err != nil {
				return err
			}
		}
		var err error
		if before, after, err = fn(a); err != nil {
			return err
		}
		a.Updated = s.Now().UTC()
		a.Snapshot = Evaluate(s.Policy, a, s.CourseTitle, s.Now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.rollup(ctx, a); err != nil {
		return nil, err
	}
	if actor != nil {
		return a, s.audit(ctx, actor, action, a, before, after, "")
	}
	return a, nil
}

// UpdateProfile changes an advocate's profile.
func (s *Service) UpdateProfile(ctx context.Context, actor *auth.User, id string, f ProfileForm) (*Advocate, error) {
	cur, err := s.Get(ctx, actor, id)
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

// SetMandatoryCourses sets the courses this advocate must complete.
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
	for _, slug := range a.MandatoryCourses {
		e, err := s.Learning.Enrolment(ctx, learning.EnrolmentID(a.ID, slug))
		if err == nil && e.Completion != nil && e.Completion.At.After(a.Training[slug]) {
			a.Training[slug] = e.Completion.At
		}
	}
}

// Upload is a file sent with a form.
type Upload struct {
	Name string
	Size int64
	Data []byte
}

// CheckUpload checks an evidence or scan file by its content, not its
// name: PDF, JPEG or PNG, at most 10 MB. It returns the content type.
func CheckUpload(field string, u *Upload) (string, error) {
	if u.Size > MaxUpload || int64(len(u.Data)) > MaxUpload {
		return "", errs.FieldErrors{field: fmt.Sprintf("%s is larger than 10 MB", u.Name)}.Err()
	}
	if len(u.Data) == 0 {
		return "", errs.FieldErrors{field: fmt.Sprintf("%s is empty", u.Name)}.Err()
	}
	if bytes.HasPrefix(u.Data, []byte("%PDF-")) {
		return "application/pdf", nil
	}
	switch ct := http.DetectContentType(u.Data); ct {
	case "image/jpeg", "image/png":
		return ct, nil
	}
	return "", errs.FieldErrors{field: fmt.Sprintf("%s is not a PDF, JPEG or PNG file", u.Name)}.Err()
}

// store puts an upload in object storage under prefix.
func (s *Service) store(ctx context.Context, prefix string, u *Upload, ct string) (string, error) {
	key := prefix + newID()
	if err := s.Blobs.Put(ctx, key, bytes.NewReader(u.Data), int64(len(u.Data)), ct); err != nil {
		return "", err
	}
	return key, nil
}

func (s *Service) sealed(advocateID, what, id, v string) string {
	return s.Box.Seal(v, "advocate:"+advocateID+":"+what+":"+id)
}

// AddDBS records a DBS check, with an optional scan of the certificate.
func (s *Service) AddDBS(ctx context.Context, actor *auth.User, id string, f DBSForm, scan *Upload) (*Advocate, error) {
	now := s.Now().UTC()
	d, err := f.Check(now)
	ct := ""
	if scan != nil {
		if ct, err = mergeErr(err, func() (string, error) { return CheckUpload("scan", scan) }); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	d.ID, d.RecordedBy, d.RecordedAt = newID(), actor.Name, now
	d.NumberLast4 = d.CertificateNumber[len(d.CertificateNumber)-4:]
	d.CertificateNumber = s.sealed(id, "dbs-number", d.ID, d.CertificateNumber)
	d.DecisionNotes = s.sealed(id, "dbs-notes", d.ID, d.DecisionNotes)
	if d.Decision != "" {
		d.DecisionAt = &now
	}
	if scan != nil {
		// Stored first; if the record cannot be saved, the file is removed.
		key, err := s.store(ctx, "dbs-scans/"+id+"/", scan, ct)
		if err != nil {
			return nil, err
		}
		d.ScanKey = key
		if d.DecisionAt != nil {
			del := d.DecisionAt.Add(ScanRetention)
			d.ScanDeleteAfter = &del
			if err := s.Store.InsertScan(ctx, &ScanRecord{Key: key, AdvocateID: id, CheckID: d.ID, DeleteAfter: del}); err != nil {
				_ = s.Blobs.Delete(ctx, key)
				return nil, err
			}
		}
	}
	a, err := s.update(ctx, actor, id, "dbs.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.DBS = append(a.DBS, d)
		return nil, map[string]any{"check": d.ID, "level": d.Level, "workforce": d.Workforce, "barred_lists": d.BarredLists,
			"issue_date": d.IssueDate.Format(time.DateOnly), "update_service": d.UpdateService, "decision": d.Decision, "scan": d.ScanKey != ""}, nil
	})
	if err != nil && d.ScanKey != "" {
		_ = s.Blobs.Delete(ctx, d.ScanKey)
		_ = s.Store.DeleteScan(ctx, d.ScanKey)
	}
	return a, err
}

func mergeErr(prev error, fn func() (string, error)) (string, error) {
	v, err := fn()
	pf, nf := errs.Fields(prev), errs.Fields(err)
	switch {
	case prev == nil:
		return v, err
	case err == nil:
		return v, prev
	}
	for k, m := range nf {
		pf.Add(k, m)
	}
	return v, pf.Err()
}

// AddStatusCheck records an Update Service status check on a DBS check.
func (s *Service) AddStatusCheck(ctx context.Context, actor *auth.User, id, checkID string, f StatusCheckForm) (*Advocate, error) {
	sc, err := f.Check(s.Now())
	if err != nil {
		return nil, err
	}
	sc.CheckedBy = actor.Name
	return s.update(ctx, actor, id, "dbs.status_check", func(a *Advocate) (map[string]any, map[string]any, error) {
		for i := range a.DBS {
			if a.DBS[i].ID == checkID {
				if !a.DBS[i].UpdateService {
					return nil, nil, errs.FieldErrors{"result": "This certificate is not on the Update Service"}.Err()
				}
				a.DBS[i].StatusChecks = append(a.DBS[i].StatusChecks, sc)
				return nil, map[string]any{"check": checkID, "date": sc.Date.Format(time.DateOnly), "result": sc.Result}, nil
			}
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that DBS check.")
	})
}

// RevealDBSNumber decrypts a DBS certificate number for the actor; the view
// is audited.
func (s *Service) RevealDBSNumber(ctx context.Context, actor *auth.User, id, checkID string) (string, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return "", err
	}
	if actor.ID == a.ID {
		if err := authorize(actor, a); err != nil {
			return "", err // advocates see their number masked only
		}
	}
	for _, d := range a.DBS {
		if d.ID == checkID {
			n, err := s.Box.Open(d.CertificateNumber, "advocate:"+id+":dbs-number:"+checkID)
			if err != nil {
				return "", err
			}
			return n, s.audit(ctx, actor, "dbs.reveal_number", a, nil, map[string]any{"check": checkID}, "")
		}
	}
	return "", errs.E(errs.ENOTFOUND, "We could not find that DBS check.")
}

// Notes returns decrypted notes of a record for a manager's view of an
// advocate (kind: dbs-notes, reference-notes, supervision-notes).
func (s *Service) Notes(a *Advocate, kind, recordID, sealed string) string {
	v, err := s.Box.Open(sealed, "advocate:"+a.ID+":"+kind+":"+recordID)
	if err != nil {
		return "(cannot be decrypted)"
	}
	return v
}

// AddReference records a reference.
func (s *Service) AddReference(ctx context.Context, actor *auth.User, id string, f ReferenceForm) (*Advocate, error) {
	now := s.Now().UTC()
	r, err := f.Check(now)
	if err != nil {
		return nil, err
	}
	r.ID, r.RecordedBy, r.RecordedAt = newID(), actor.Name, now
	if f.VerifiedDirectly {
		r.VerifiedBy, r.VerifiedAt = actor.Name, &now
	}
	r.Notes = s.sealed(id, "reference-notes", r.ID, r.Notes)
	return s.update(ctx, actor, id, "reference.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.References = append(a.References, r)
		return nil, map[string]any{"reference": r.ID, "referee": r.Referee, "outcome": r.Outcome, "verified": r.VerifiedBy != ""}, nil
	})
}

// VerifyReference records that a reference was checked directly with the referee.
func (s *Service) VerifyReference(ctx context.Context, actor *auth.User, id, refID string) (*Advocate, error) {
	now := s.Now().UTC()
	return s.update(ctx, actor, id, "reference.verify", func(a *Advocate) (map[string]any, map[string]any, error) {
		for i := range a.References {
			if a.References[i].ID == refID {
				a.References[i].VerifiedBy, a.References[i].VerifiedAt = actor.Name, &now
				return map[string]any{"reference": refID, "verified": false}, map[string]any{"reference": refID, "verified": true}, nil
			}
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that reference.")
	})
}

// AddCPD records a CPD entry with evidence files; an advocate may add their own.
func (s *Service) AddCPD(ctx context.Context, actor *auth.User, id string, f CPDForm, evidence []*Upload) (*Advocate, error) {
	now := s.Now().UTC()
	e, err := f.Check(now)
	cts := make([]string, len(evidence))
	for i, u := range evidence {
		cts[i], err = mergeErr(err, func() (string, error) { return CheckUpload("evidence", u) })
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	e.ID, e.Source, e.RecordedBy, e.RecordedAt = newID(), "manual", actor.Name, now
	for i, u := range evidence {
		key, err := s.store(ctx, "evidence/"+id+"/", u, cts[i])
		if err != nil {
			s.deleteEvidence(ctx, e.Evidence)
			return nil, err
		}
		e.Evidence = append(e.Evidence, Evidence{Key: key, Name: u.Name, ContentType: cts[i], Size: int64(len(u.Data))})
	}
	a, err := s.update(ctx, actor, id, "cpd.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.CPD = append(a.CPD, e)
		return nil, map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours, "date": e.Date.Format(time.DateOnly), "evidence": len(e.Evidence)}, nil
	})
	if err != nil {
		s.deleteEvidence(ctx, e.Evidence)
	}
	return a, err
}

func (s *Service) deleteEvidence(ctx context.Context, ev []Evidence) {
	for _, x := range ev {
		_ = s.Blobs.Delete(ctx, x.Key)
	}
}

// VerifyCPD records that a manager checked a CPD entry.
func (s *Service) VerifyCPD(ctx context.Context, actor *auth.User, id, entryID string) (*Advocate, error) {
	now := s.Now().UTC()
	return s.update(ctx, actor, id, "cpd.verify", func(a *Advocate) (map[string]any, map[string]any, error) {
		if actor.ID == a.ID {
			return nil, nil, errs.E(errs.EFORBIDDEN, "Your own CPD is verified by your manager.")
		}
		for i := range a.CPD {
			if a.CPD[i].ID == entryID {
				a.CPD[i].VerifiedBy, a.CPD[i].VerifiedAt = actor.Name, &now
				return nil, map[string]any{"entry": entryID, "verified": true}, nil
			}
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that CPD entry.")
	})
}

// Record kinds that can be deleted.
const (
	KindCPD         = "cpd"
	KindReference   = "references"
	KindSupervision = "supervisions"
)

// DeleteRecord removes one CPD entry, reference or supervision. Managers may
// delete any of them; an advocate may delete only their own CPD entries that
// are neither verified nor recorded from a completed course. The audit event
// keeps the deleted record's non-sensitive fields.
func (s *Service) DeleteRecord(ctx context.Context, actor *auth.User, id, kind, recordID string) (*Advocate, error) {
	var gone []Evidence
	a, err := s.update(ctx, actor, id, kind+".delete", func(a *Advocate) (map[string]any, map[string]any, error) {
		own := actor.ID == a.ID
		if own && kind != KindCPD {
			return nil, nil, errs.E(errs.EFORBIDDEN, "Only your manager can remove this record.")
		}
		switch kind {
		case KindCPD:
			i := slices.IndexFunc(a.CPD, func(e CPDEntry) bool { return e.ID == recordID })
			if i < 0 {
				break
			}
			if e := a.CPD[i]; own && (e.VerifiedAt != nil || e.Source != "manual") {
				return nil, nil, errs.E(errs.EFORBIDDEN, "This entry has been verified or comes from a completed course; ask your manager to remove it.")
			}
			if e, ok := take(&a.CPD, i); ok {
				gone = e.Evidence
				return map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours, "date": e.Date.Format(time.DateOnly), "source": e.Source, "evidence": len(e.Evidence)}, nil, nil
			}
		case KindReference:
			if r, ok := take(&a.References, slices.IndexFunc(a.References, func(r Reference) bool { return r.ID == recordID })); ok {
				return map[string]any{"reference": r.ID, "referee": r.Referee, "organisation": r.Organisation, "outcome": r.Outcome, "verified": r.VerifiedAt != nil}, nil, nil
			}
		case KindSupervision:
			if x, ok := take(&a.Supervisions, slices.IndexFunc(a.Supervisions, func(x Supervision) bool { return x.ID == recordID })); ok {
				return map[string]any{"supervision": x.ID, "date": x.Date.Format(time.DateOnly), "supervisor": x.Supervisor, "kind": x.Kind}, nil, nil
			}
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that record; it may already have been removed.")
	})
	if err == nil {
		s.deleteEvidence(ctx, gone) // after the record no longer points at them
	}
	return a, err
}

// take removes and returns xs[i]; false when i is out of range (not found).
func take[T any](xs *[]T, i int) (T, bool) {
	var x T
	if i < 0 || i >= len(*xs) {
		return x, false
	}
	x = (*xs)[i]
	*xs = slices.Delete(*xs, i, i+1)
	return x, true
}

// Evidence opens an evidence file of a CPD entry.
func (s *Service) Evidence(ctx context.Context, actor *auth.User, id, entryID string, n int) (*Evidence, io.ReadCloser, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range a.CPD {
		if e.ID == entryID && n >= 0 && n < len(e.Evidence) {
			r, _, err := s.Blobs.Open(ctx, e.Evidence[n].Key)
			return &e.Evidence[n], r, err
		}
	}
	return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that file.")
}

// AddSupervision records a supervision session.
func (s *Service) AddSupervision(ctx context.Context, actor *auth.User, id string, f SupervisionForm) (*Advocate, error) {
	now := s.Now().UTC()
	sup, err := f.Check(now)
	if err != nil {
		return nil, err
	}
	sup.ID, sup.RecordedBy, sup.RecordedAt = newID(), actor.Name, now
	sup.Notes = s.sealed(id, "supervision-notes", sup.ID, sup.Notes)
	return s.update(ctx, actor, id, "supervision.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.Supervisions = append(a.Supervisions, sup)
		return nil, map[string]any{"supervision": sup.ID, "date": sup.Date.Format(time.DateOnly), "kind": sup.Kind, "supervisor": sup.Supervisor}, nil
	})
}

// RecordCourseCompletion is the CPD hand-over from learning: a completed
// course becomes a CPD entry (once) and counts towards mandatory training.
// It reports whether the learner is an advocate.
func (s *Service) RecordCourseCompletion(ctx context.Context, e *learning.Enrolment) (bool, error) {
	if e.Completion == nil {
		return false, nil
	}
	entryID := "course:" + e.Course + ":" + strconv.Itoa(e.Completion.Attempt)
	_, err := s.update(ctx, nil, e.UserID, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		if a.Training == nil {
			a.Training = map[string]time.Time{}
		}
		if e.Completion.At.After(a.Training[e.Course]) {
			a.Training[e.Course] = e.Completion.At
		}
		if !slices.ContainsFunc(a.CPD, func(x CPDEntry) bool { return x.ID == entryID }) {
			a.CPD = append(a.CPD, CPDEntry{ID: entryID, Date: e.Completion.At, Title: e.Completion.CourseTitle, Type: "course",
				Hours: e.Completion.CPDHours, Learnt: "Completed the course and passed its assessment (" + strconv.Itoa(e.Completion.Percent) + "%).",
				Source: "course:" + e.Course, RecordedBy: "Family Advocacy Learning", RecordedAt: s.Now().UTC()})
		}
		return nil, nil, nil
	})
	if errs.Is(err, errs.ENOTFOUND) {
		return false, nil
	}
	return err == nil, err
}

// ReconcileCPD hands completed courses over to CPD records (from the pending
// marker on enrolments) and clears the marker.
func (s *Service) ReconcileCPD(ctx context.Context, marks interface {
	PendingEnrolments(ctx context.Context, marker string, limit int) ([]learning.Enrolment, error)
	ClearPending(ctx context.Context, enrolmentID, marker string) error
}) (int, error) {
	pending, err := marks.PendingEnrolments(ctx, learning.PendingCPD, 500)
	if err != nil {
		return 0, err
	}
	for i := range pending {
		if _, err := s.RecordCourseCompletion(ctx, &pending[i]); err != nil {
			return i, err
		}
		if err := marks.ClearPending(ctx, pending[i].ID, learning.PendingCPD); err != nil {
			return i, err
		}
	}
	return len(pending), nil
}

// staleBatch bounds the rows one dashboard view recomputes.
const staleBatch = 100

// Recompute recomputes one advocate's snapshot (dates pass).
func (s *Service) Recompute(ctx context.Context, id string) error {
	_, err := s.recompute(ctx, id)
	return err
}

func (s *Service) recompute(ctx context.Context, id string) (*Advocate, error) {
	return s.update(ctx, nil, id, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		s.refreshTraining(ctx, a)
		return nil, nil, nil
	})
}

// RecomputeAll recomputes every advocate (the daily job).
func (s *Service) RecomputeAll(ctx context.Context) (int, error) {
	ids, err := s.Store.AdvocateIDs(ctx)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.Recompute(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// rollup writes the advocate's dashboard row.
func (s *Service) rollup(ctx context.Context, a *Advocate) error {
	return s.Store.PutRollupRow(ctx, a.OrgID, s.RowOf(a))
}

// RowOf builds an advocate's dashboard row.
func (s *Service) RowOf(a *Advocate) Row {
	r := Row{ID: a.ID, Name: a.Name, Status: a.Status, Profession: a.Profession, Overall: a.Snapshot.Overall, Cleared: a.Snapshot.Cleared,
		States: map[string]State{}, Due: map[string]*time.Time{}, NextDue: a.Snapshot.NextDue, Updated: a.Updated, Computed: a.Snapshot.ComputedAt,
		CPDMonths: make([]float64, 12)}
	for _, q := range a.Snapshot.Requirements {
		r.States[q.Key], r.Due[q.Key] = q.State, q.Due
	}
	now := s.Now().In(London)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, London).AddDate(0, -11, 0)
	for _, e := range a.CPD {
		d := e.Date.In(London)
		m := (d.Year()-first.Year())*12 + int(d.Month()-first.Month())
		if m >= 0 && m < 12 {
			r.CPDMonths[m] += e.Hours
		}
	}
	return r
}

// PurgeScans deletes DBS certificate scans kept six months after the
// decision, from object storage and from the record. It returns how many.
func (s *Service) PurgeScans(ctx context.Context) (int, error) {
	due, err := s.Store.DueScans(ctx, s.Now())
	if err != nil {
		return 0, err
	}
	for _, sc := range due {
		if err := s.Blobs.Delete(ctx, sc.Key); err != nil {
			return 0, err
		}
		now := s.Now().UTC()
		_, err := s.update(ctx, nil, sc.AdvocateID, "", func(a *Advocate) (map[string]any, map[string]any, error) {
			for i := range a.DBS {
				if a.DBS[i].ScanKey == sc.Key {
					a.DBS[i].ScanKey, a.DBS[i].ScanDeletedAt = "", &now
				}
			}
			return nil, nil, nil
		})
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return 0, err
		}
		if err := s.Store.DeleteScan(ctx, sc.Key); err != nil {
			return 0, err
		}
		_ = s.Audit.Record(ctx, audit.Event{ActorID: "system", Actor: "Retention job", Action: "dbs.scan_deleted", Target: "advocate:" + sc.AdvocateID,
			After: map[string]any{"check": sc.CheckID}, Note: "DBS certificate scan deleted six months after the decision"})
	}
	return len(due), nil
}

// DashboardQuery selects and orders dashboard rows.
type DashboardQuery struct {
	Search      string
	Filter      string // "", "overdue", "due30", "due60", "due90", "not-cleared"
	Requirement string // show only advocates not met on this requirement
	Sort        string // "name", "overall", "next-due"
	Offset      int
	Limit       int
	Status      string // advocate status; "" = all but ended
}

// Dashboard is what the manager dashboard shows.
type Dashboard struct {
	Rows      []Row
	Total     int           // rows matching
	Counts    map[State]int // by overall state, all active rows
	Cleared   int           // cleared for allocation
	Advocates int           // rows counted
	CPDMonths []float64     // organisation's CPD hours per month (last 12)
	Months    []string      // labels of those months
}

// Dashboard returns an organisation's dashboard: one point read of the
// rollup, then filtering, sorting and paging in memory.
func (s *Service) Dashboard(ctx context.Context, orgID string, q DashboardQuery) (*Dashboard, error) {
	ru, err := s.Store.Rollup(ctx, orgID)
	if errs.Is(err, errs.ENOTFOUND) {
		ru = &Rollup{Rows: map[string]Row{}}
	} else if err != nil {
		return nil, err
	}
	now := s.Now()
	// Dates pass: rows computed before today are recomputed now (the
	// periodic job normally has done it; at most staleBatch per view).
	stale := 0
	for id, r := range ru.Rows {
		if day(r.Computed).Before(day(now)) && stale < staleBatch {
			stale++
			if a, err := s.recompute(ctx, id); err == nil {
				ru.Rows[id] = s.RowOf(a)
			}
		}
	}
	d := &Dashboard{Counts: map[State]int{}, CPDMonths: make([]float64, 12)}
	first := time.Date(now.In(London).Year(), now.In(London).Month(), 1, 0, 0, 0, 0, London).AddDate(0, -11, 0)
	for i := 0; i < 12; i++ {
		d.Months = append(d.Months, first.AddDate(0, i, 0).Format("Jan"))
	}
	var rows []Row
	for _, r := range ru.Rows {
		if q.Status == "" && r.Status == StatusEnded || q.Status != "" && q.Status != "all" && r.Status != q.Status {
			continue
		}
		d.Advocates++
		d.Counts[r.Overall]++
		if r.Cleared {
			d.Cleared++
		}
		for i, h := range r.CPDMonths {
			if i < 12 {
				d.CPDMonths[i] += h
			}
		}
		if q.Search != "" && !containsFold(r.Name, q.Search) {
			continue
		}
		if !matches(r, q, now) {
			continue
		}
		rows = append(rows, r)
	}
	sortRows(rows, q.Sort)
	d.Total = len(rows)
	if q.Limit <= 0 {
		q.Limit = len(rows)
	}
	from, to := min(q.Offset, len(rows)), min(q.Offset+q.Limit, len(rows))
	d.Rows = rows[from:to]
	return d, nil
}

func matches(r Row, q DashboardQuery, now time.Time) bool {
	if q.Requirement != "" {
		st := r.States[q.Requirement]
		if st == Met {
			return false
		}
	}
	within := func(days int) bool {
		for _, due := range r.Due {
			if due != nil && !due.After(now.Add(time.Duration(days)*24*time.Hour)) {
				return true
			}
		}
		return false
	}
	switch q.Filter {
	case "overdue":
		return r.Overall == Overdue || r.Overall == Missing
	case "due30":
		return within(30)
	case "due60":
		return within(60)
	case "due90":
		return within(90)
	case "not-cleared":
		return !r.Cleared
	}
	return true
}

func sortRows(rows []Row, by string) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch by {
		case "overall":
			if a.Overall != b.Overall {
				return Worse(a.Overall, b.Overall)
			}
		case "next-due":
			switch {
			case a.NextDue == nil && b.NextDue != nil:
				return false
			case a.NextDue != nil && b.NextDue == nil:
				return true
			case a.NextDue != nil && !a.NextDue.Equal(*b.NextDue):
				return a.NextDue.Before(*b.NextDue)
			}
		}
		return a.Name < b.Name
	})
}

func containsFold(s, sub string) bool {
	return bytes.Contains(bytes.ToLower([]byte(s)), bytes.ToLower([]byte(sub)))
}

// Count returns how many advocates are in a state (for templates).
func (d *Dashboard) Count(state string) int { return d.Counts[State(state)] }
