package certificates

import (
	"context"

	"github.com/family-advocacy/lms/internal/errs"
)

// HolderRecords are a person's certificate records, as found for an
// erasure (privacy gathers them by _id from the person's list and
// enrolments).
type HolderRecords struct {
	Certificates []Certificate
	Revisions    []Revision
	Claims       []string // claim keys
	Hashes       []string // SHA-256 of issued files
}

// EraseHolder erases a holder's certificates once EraseHolderName has
// marked them: the PDF files are deleted; then, when keep is true, each
// certificate stays for verification without the name (revisions lose
// the name, a request for a copy in a new name goes, a revocation note
// is redacted, and the certificate leaves the list of those that expire,
// so no renewal reminder is sent); otherwise the hashes, revisions,
// claims and certificates are deleted, in that order (each is found from
// the next, so an erasure that stopped half-way finds the rest when it
// runs again). redact replaces the person's name and email in free text.
func (s *Service) EraseHolder(ctx context.Context, r HolderRecords, keep bool, redact func(string) string) error {
	for _, c := range r.Certificates {
		if err := s.Blobs.Delete(ctx, ObjectKey(c.Code)); err != nil {
			return err
		}
	}
	if keep {
		for _, rev := range r.Revisions {
			if err := s.store.EraseRevisionName(ctx, rev.Code, rev.N, redact(rev.Reason)); err != nil {
				return err
			}
		}
		for i := range r.Certificates {
			c := &r.Certificates[i]
			u := CertificateUpdate{Name: new(""), NameErased: new(true), ClearReissueRequest: c.ReissueRequest != nil}
			if c.Revoked != nil {
				rv := *c.Revoked
				rv.Note = redact(rv.Note)
				u.Revoked = &rv
			}
			if err := s.store.UpdateCertificate(ctx, c.Code, u); err != nil && !errs.Is(err, errs.ENOTFOUND) {
				return err
			}
			if err := s.store.UnlistCertificateExpiry(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, sha := range r.Hashes {
		if err := s.store.DeleteHash(ctx, sha); err != nil {
			return err
		}
	}
	for _, rev := range r.Revisions {
		if err := s.store.DeleteRevision(ctx, rev.Code, rev.N); err != nil {
			return err
		}
	}
	for _, key := range r.Claims {
		if err := s.store.DeleteClaim(ctx, key); err != nil {
			return err
		}
	}
	for i := range r.Certificates {
		if err := s.store.DeleteCertificate(ctx, &r.Certificates[i]); err != nil {
			return err
		}
	}
	return nil
}

// DeleteJobs deletes bulk jobs (those an erased person started).
func (s *Service) DeleteJobs(ctx context.Context, ids []string) error {
	for _, id := range ids {
		j, err := s.store.Job(ctx, id)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.store.DeleteJob(ctx, j); err != nil {
			return err
		}
	}
	return nil
}
