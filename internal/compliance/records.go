package compliance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// ScanRecord schedules the deletion of a DBS certificate scan.
type ScanRecord struct {
	Key         string    `bson:"_id"`
	AdvocateID  string    `bson:"advocate_id"`
	CheckID     string    `bson:"check_id"`
	DeleteAfter time.Time `bson:"delete_after"`
}

// MaxUpload is the largest evidence or scan file accepted.
const MaxUpload = 10 << 20

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

// store puts an upload in object storage under key, encrypted (Blobs
// seals it with the key and content type). The key is in the call's
// follow-up already, so a file whose record is never saved is deleted.
func (s *Service) store(ctx context.Context, key string, u *Upload, ct string) error {
	return s.Blobs.Put(ctx, key, bytes.NewReader(u.Data), int64(len(u.Data)), ct)
}

func (s *Service) sealed(advocateID, what, id, v string) string {
	return s.Box.Seal(v, "advocate:"+advocateID+":"+what+":"+id)
}

// AddDBS records a DBS check, with an optional scan of the certificate.
func (s *Service) AddDBS(ctx context.Context, actor *auth.User, id string, f DBSForm, scan *Upload) (*Advocate, error) {
	if _, err := s.Manage(ctx, actor, id); err != nil {
		return nil, err
	}
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
	d.ID, d.RecordedBy, d.RecordedAt = newID(), actor.Name, now
	d.NumberLast4 = d.CertificateNumber[len(d.CertificateNumber)-4:]
	d.CertificateNumber = s.sealed(id, "dbs-number", d.ID, d.CertificateNumber)
	d.DecisionNotes = s.sealed(id, "dbs-notes", d.ID, d.DecisionNotes)
	if d.Decision != "" {
		d.DecisionAt = &now
	}
	// The scan is stored before the record that points at it, under a key
	// its follow-up names first: if the record is not saved, the file is
	// deleted (at once, or by the reconciler after a crash); once it is
	// saved, nothing deletes it but its retention.
	var files []string
	if scan != nil {
		d.ScanKey, d.ScanSealed = "dbs-scans/"+id+"/"+newID(), true
		files = []string{d.ScanKey}
	}
	fu, err := s.followUp(ctx, id, files, nil)
	if err != nil {
		return nil, err
	}
	if scan != nil {
		if err := s.store(ctx, d.ScanKey, scan, ct); err != nil {
			s.abandon(ctx, fu)
			return nil, err
		}
		if d.DecisionAt != nil {
			del := ScanDeleteAfter(*d.DecisionAt)
			d.ScanDeleteAfter = &del
			// Scheduled before the record is saved: a scan is never kept
			// past its retention for want of a schedule (a schedule whose
			// scan was never saved deletes nothing that exists).
			if err := s.db.InsertScan(ctx, &ScanRecord{Key: d.ScanKey, AdvocateID: id, CheckID: d.ID, DeleteAfter: del}); err != nil {
				s.abandon(ctx, fu)
				return nil, err
			}
		}
	}
	a, err := s.apply(ctx, fu, actor, false, id, "dbs.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.DBS = append(a.DBS, d)
		return nil, map[string]any{"check": d.ID, "level": d.Level, "workforce": d.Workforce, "barred_lists": d.BarredLists, "role_eligible": d.RoleEligible,
			"issue_date": d.IssueDate.Format(time.DateOnly), "update_service": d.UpdateService, "decision": d.Decision, "scan": d.ScanKey != ""}, nil
	})
	if err != nil && d.ScanDeleteAfter != nil {
		_ = s.db.DeleteScan(context.WithoutCancel(ctx), d.ScanKey)
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

// DecideDBS records the recruitment decision on a DBS check awaiting one
// (or changes it, e.g. after a risk assessment). A scan of the certificate
// is then scheduled for deletion six months after the first decision.
func (s *Service) DecideDBS(ctx context.Context, actor *auth.User, id, checkID string, f DecisionForm) (*Advocate, error) {
	now := s.Now().UTC()
	decision, notes, err := f.Check(now)
	if err != nil {
		return nil, err
	}
	cur, err := s.Manage(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cur.DBS, func(d DBSCheck) bool { return d.ID == checkID })
	if i < 0 {
		return nil, errs.E(errs.ENOTFOUND, "We could not find that DBS check.")
	}
	if decision == "clear-after-risk-assessment" && notes == "" && cur.DBS[i].DecisionNotes == "" {
		return nil, errs.FieldErrors{"decision_notes": "Record the risk assessment in the notes"}.Err()
	}
	// A scan awaiting the decision is scheduled for deletion first, so a
	// crash after this point cannot leave it kept for ever (scheduling it
	// again is harmless).
	var deleteAfter *time.Time
	if d := cur.DBS[i]; d.ScanKey != "" && d.ScanDeleteAfter == nil {
		at := now
		if d.DecisionAt != nil {
			at = *d.DecisionAt
		}
		del := ScanDeleteAfter(at)
		if err := s.db.InsertScan(ctx, &ScanRecord{Key: d.ScanKey, AdvocateID: id, CheckID: d.ID, DeleteAfter: del}); err != nil {
			return nil, err
		}
		deleteAfter = &del
	}
	return s.update(ctx, actor, id, "dbs.decision", func(a *Advocate) (map[string]any, map[string]any, error) {
		for i := range a.DBS {
			d := &a.DBS[i]
			if d.ID != checkID {
				continue
			}
			before := map[string]any{"check": checkID, "decision": d.Decision}
			d.Decision = decision
			if d.DecisionAt == nil {
				d.DecisionAt = &now
			}
			if notes != "" {
				d.DecisionNotes = s.sealed(id, "dbs-notes", d.ID, notes)
			}
			if d.ScanKey != "" && d.ScanDeleteAfter == nil {
				d.ScanDeleteAfter = deleteAfter
			}
			return before, map[string]any{"check": checkID, "decision": decision, "notes_changed": notes != ""}, nil
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that DBS check.")
	})
}

// RecordReferenceOutcome records that a requested reference has arrived,
// and its outcome.
func (s *Service) RecordReferenceOutcome(ctx context.Context, actor *auth.User, id, refID string, f OutcomeForm) (*Advocate, error) {
	at, outcome, err := f.Check(s.Now())
	if err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, "reference.outcome", func(a *Advocate) (map[string]any, map[string]any, error) {
		for i := range a.References {
			r := &a.References[i]
			if r.ID != refID {
				continue
			}
			if r.RequestedAt != nil && at.Before(*r.RequestedAt) {
				return nil, nil, errs.FieldErrors{"received_at": "Date received cannot be before the date requested"}.Err()
			}
			before := map[string]any{"reference": refID, "outcome": r.Outcome}
			r.ReceivedAt, r.Outcome = &at, outcome
			return before, map[string]any{"reference": refID, "outcome": outcome, "received_at": at.Format(time.DateOnly)}, nil
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that reference.")
	})
}

// RevealDBSNumber decrypts a DBS certificate number for the actor; the view
// is audited.
func (s *Service) RevealDBSNumber(ctx context.Context, actor *auth.User, id, checkID string) (string, error) {
	a, err := s.Manage(ctx, actor, id) // advocates see their own number masked only
	if err != nil {
		return "", err
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
	if sealed == "" {
		return "" // none, or deleted under the retention rules
	}
	v, err := s.Box.Open(sealed, "advocate:"+a.ID+":"+kind+":"+recordID)
	if err != nil {
		return "(cannot be decrypted)"
	}
	return v
}

// NotesViewed records that the actor was shown the decrypted notes of
// these records (DBS decisions, references, supervisions).
func (s *Service) NotesViewed(ctx context.Context, actor *auth.User, a *Advocate, recordIDs []string) error {
	return s.audit(ctx, actor, "advocate.notes_viewed", a, nil, map[string]any{"records": recordIDs}, "")
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
	e.ID, e.Source, e.RecordedBy, e.RecordedByID, e.RecordedAt = newID(), "manual", actor.Name, actor.ID, now
	// The files are stored before the record that points at them, under
	// keys the follow-up names first (see AddDBS).
	var files []string
	for i, u := range evidence {
		key := "evidence/" + id + "/" + newID()
		files = append(files, key)
		e.Evidence = append(e.Evidence, Evidence{Key: key, Name: u.Name, ContentType: cts[i], Size: int64(len(u.Data)), Sealed: true})
	}
	fu, err := s.followUp(ctx, id, files, nil)
	if err != nil {
		return nil, err
	}
	for i, u := range evidence {
		if err := s.store(ctx, files[i], u, cts[i]); err != nil {
			s.abandon(ctx, fu)
			return nil, err
		}
	}
	return s.apply(ctx, fu, actor, true, id, "cpd.create", func(a *Advocate) (map[string]any, map[string]any, error) {
		a.CPD = append(a.CPD, e)
		return nil, map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours, "date": e.Date.Format(time.DateOnly), "evidence": len(e.Evidence)}, nil
	})
}

// VerifyCPD records that a manager checked a CPD entry.
func (s *Service) VerifyCPD(ctx context.Context, actor *auth.User, id, entryID string) (*Advocate, error) {
	now := s.Now().UTC()
	return s.update(ctx, actor, id, "cpd.verify", func(a *Advocate) (map[string]any, map[string]any, error) {
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
// delete any of them on others' records; an advocate may delete only CPD
// entries they recorded themselves that are neither verified nor recorded
// from a completed course. The audit event keeps the deleted record's
// non-sensitive fields.
func (s *Service) DeleteRecord(ctx context.Context, actor *auth.User, id, kind, recordID string) (*Advocate, error) {
	// The follow-up names the entry's files, which are deleted once the
	// saved record no longer points at them (by the reconciler, if this
	// call stops first).
	cur, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range cur.CPD {
		if kind == KindCPD && e.ID == recordID {
			for _, ev := range e.Evidence {
				files = append(files, ev.Key)
			}
		}
	}
	fu, err := s.followUp(ctx, id, files, nil)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, fu, actor, true, id, kind+".delete", func(a *Advocate) (map[string]any, map[string]any, error) {
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
			} else if own && !e.RecordedByAdvocate(a) {
				return nil, nil, errs.E(errs.EFORBIDDEN, "Your manager recorded this entry; ask them to remove it.")
			}
			if e, ok := take(&a.CPD, i); ok {
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

// Evidence opens an evidence file of a CPD entry, decrypted. The whole
// file is read and authenticated before it is returned (uploads are at
// most MaxUpload), so an altered file is an error, never served in part.
func (s *Service) Evidence(ctx context.Context, actor *auth.User, id, entryID string, n int) (*Evidence, io.ReadCloser, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range a.CPD {
		if e.ID == entryID && n >= 0 && n < len(e.Evidence) {
			ev := e.Evidence[n]
			b, err := s.readFile(ctx, ev.Key, !ev.Sealed)
			if err != nil {
				return nil, nil, err
			}
			ev.Size = int64(len(b))
			return &ev, io.NopCloser(bytes.NewReader(b)), nil
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

// PurgeScans deletes DBS certificate scans kept six months after the
// decision, from object storage and from the record. It returns how many.
func (s *Service) PurgeScans(ctx context.Context) (int, error) {
	due, err := s.db.DueScans(ctx, s.Now())
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
					a.DBS[i].ScanKey, a.DBS[i].ScanSealed, a.DBS[i].ScanDeletedAt = "", false, &now
				}
			}
			return nil, nil, nil
		})
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return 0, err
		}
		if err := s.db.DeleteScan(ctx, sc.Key); err != nil {
			return 0, err
		}
		_ = s.Audit.Record(ctx, audit.Event{ActorID: "system", Actor: "Retention job", Action: "dbs.scan_deleted", Target: "advocate:" + sc.AdvocateID,
			After: map[string]any{"check": sc.CheckID}, Note: "DBS certificate scan deleted six months after the decision"})
	}
	return len(due), nil
}
