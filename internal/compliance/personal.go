package compliance

import (
	"context"
	"errors"

	"github.com/family-advocacy/lms/internal/errs"
)

// DeleteAdvocateRecord deletes an advocate's compliance record: first
// their evidence files and DBS scans, then the scans' deletion schedule,
// their row on the dashboard of their organisation (and of any other
// organisation given) and last the record itself, from which the rest is
// found, so a deletion that stopped half-way is finished by running it
// again. Retention (contracts ended long ago) and erasure use it.
func (s *Service) DeleteAdvocateRecord(ctx context.Context, a *Advocate, orgs ...string) error {
	for _, e := range a.CPD {
		for _, ev := range e.Evidence {
			if err := s.Blobs.Delete(ctx, ev.Key); err != nil {
				return err
			}
		}
	}
	for _, d := range a.DBS {
		if d.ScanKey != "" {
			if err := s.Blobs.Delete(ctx, d.ScanKey); err != nil {
				return err
			}
		}
	}
	for _, d := range a.DBS {
		if d.ScanKey != "" {
			if err := s.db.DeleteScan(ctx, d.ScanKey); err != nil {
				return err
			}
		}
	}
	for _, org := range append([]string{a.OrgID}, orgs...) {
		if org == "" {
			continue
		}
		if err := s.db.DeleteRollupRow(ctx, org, a.ID); err != nil {
			return err
		}
	}
	return s.db.DeleteAdvocate(ctx, a.ID)
}

var errUnchanged = errors.New("unchanged")

// RedactRecords applies redact (which replaces an erased person's name
// and email) to what other advocates' records say in free text and in
// the names of who recorded, saw or verified what — including encrypted
// notes, which are opened, redacted and sealed again — and returns how
// many records changed. Erasure calls it with the advocates whose records
// the person changed (the targets of the audit events they caused). The
// advocate's own name and email stay.
func (s *Service) RedactRecords(ctx context.Context, ids []string, redact func(string) string) (int, error) {
	n := 0
	for _, id := range ids {
		_, err := s.db.UpdateAdvocate(ctx, id, func(a *Advocate) error {
			if !s.redactAdvocate(a, redact) {
				return errUnchanged
			}
			return nil
		})
		switch {
		case errors.Is(err, errUnchanged), errs.Is(err, errs.ENOTFOUND):
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// redactAdvocate redacts one record in place and reports whether it changed.
func (s *Service) redactAdvocate(a *Advocate, redact func(string) string) bool {
	changed := false
	text := func(p *string) {
		if r := redact(*p); r != *p {
			*p, changed = r, true
		}
	}
	sealed := func(p *string, what, id string) {
		if *p == "" {
			return
		}
		ctx := "advocate:" + a.ID + ":" + what + ":" + id
		plain, err := s.Box.Open(*p, ctx)
		if err != nil {
			return // cannot be read: nothing to find in it
		}
		if r := redact(plain); r != plain {
			*p, changed = s.Box.Seal(r, ctx), true
		}
	}
	text(&a.ProfessionalBody)
	text(&a.RegistrationNo)
	for i := range a.DBS {
		d := &a.DBS[i]
		text(&d.OriginalSeenBy)
		text(&d.RecordedBy)
		for j := range d.StatusChecks {
			sc := &d.StatusChecks[j]
			text(&sc.CheckedBy)
			if sc.Review != nil {
				text(&sc.Review.By)
				sealed(&sc.Review.Reason, "dbs-status-review", reviewKey(d, sc))
			}
		}
		if d.Consent != nil {
			text(&d.Consent.RecordedBy)
			text(&d.Consent.WithdrawnBy)
		}
		sealed(&d.DecisionNotes, "dbs-notes", d.ID)
	}
	for i := range a.References {
		r := &a.References[i]
		for _, p := range []*string{&r.Referee, &r.Relationship, &r.Organisation, &r.Contact, &r.VerifiedBy, &r.RecordedBy} {
			text(p)
		}
		sealed(&r.Notes, "reference-notes", r.ID)
	}
	for i := range a.CPD {
		e := &a.CPD[i]
		for _, p := range []*string{&e.Title, &e.Learnt, &e.Impact, &e.PeerName, &e.VerifiedBy, &e.RecordedBy} {
			text(p)
		}
		for j := range e.Evidence {
			text(&e.Evidence[j].Name)
		}
	}
	for i := range a.Supervisions {
		sp := &a.Supervisions[i]
		text(&sp.Supervisor)
		text(&sp.RecordedBy)
		sealed(&sp.Notes, "supervision-notes", sp.ID)
	}
	return changed
}
