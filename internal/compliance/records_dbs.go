package compliance

import (
	"context"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

// ScanRecord schedules the deletion of a DBS certificate scan.
type ScanRecord struct {
	Key         string    `bson:"_id"`
	AdvocateID  string    `bson:"advocate_id"`
	CheckID     string    `bson:"check_id"`
	DeleteAfter time.Time `bson:"delete_after"`
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
			"issue_date": civil.Of(d.IssueDate).String(), "update_service": d.UpdateService, "decision": d.Decision, "scan": d.ScanKey != ""}, nil
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
				return nil, map[string]any{"check": checkID, "date": civil.Of(sc.Date).String(), "result": sc.Result}, nil
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
