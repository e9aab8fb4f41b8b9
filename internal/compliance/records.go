package compliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

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
			return before, map[string]any{"reference": refID, "outcome": outcome, "received_at": civil.Of(at).String()}, nil
		}
		return nil, nil, errs.E(errs.ENOTFOUND, "We could not find that reference.")
	})
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
// these records (DBS decisions, references, supervisions): once per
// person, advocate and London calendar day, however many times the page
// is shown. The event's ID is fixed by the three, so a later view the
// same day is one point read and writes nothing; the records named are
// those of the day's first view.
func (s *Service) NotesViewed(ctx context.Context, actor *auth.User, a *Advocate, recordIDs []string) error {
	day := civil.Of(s.Now()).String()
	sum := sha256.Sum256([]byte("advocate.notes_viewed\x00" + actor.ID + "\x00" + a.ID + "\x00" + day))
	e := s.event(actor.ID, actor.Name, "advocate.notes_viewed", a, nil, map[string]any{"records": recordIDs}, "")
	e.ID = "notes-viewed-" + hex.EncodeToString(sum[:16])
	return s.Audit.RecordOnce(ctx, e)
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
		return nil, map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours, "date": civil.Of(e.Date).String(), "evidence": len(e.Evidence)}, nil
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
				return map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours, "date": civil.Of(e.Date).String(), "source": e.Source, "evidence": len(e.Evidence)}, nil, nil
			}
		case KindReference:
			if r, ok := take(&a.References, slices.IndexFunc(a.References, func(r Reference) bool { return r.ID == recordID })); ok {
				return map[string]any{"reference": r.ID, "referee": r.Referee, "organisation": r.Organisation, "outcome": r.Outcome, "verified": r.VerifiedAt != nil}, nil, nil
			}
		case KindSupervision:
			if x, ok := take(&a.Supervisions, slices.IndexFunc(a.Supervisions, func(x Supervision) bool { return x.ID == recordID })); ok {
				return map[string]any{"supervision": x.ID, "date": civil.Of(x.Date).String(), "supervisor": x.Supervisor, "kind": x.Kind}, nil, nil
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
		return nil, map[string]any{"supervision": sup.ID, "date": civil.Of(sup.Date).String(), "kind": sup.Kind, "supervisor": sup.Supervisor}, nil
	})
}
