package certificates

import (
	"context"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Revoke revokes a certificate, with a reason category and a note.
func (s *Service) Revoke(ctx context.Context, code, reason, note string, actor *auth.User) error {
	if _, ok := RevocationReasons[reason]; !ok {
		return errs.FieldErrors{"reason": "Choose a reason"}.Err()
	}
	c, err := s.Get(ctx, code)
	if err != nil {
		return err
	}
	if c.Revoked != nil {
		return errs.E(errs.ECONFLICT, "This certificate is already revoked.")
	}
	rv := &Revocation{At: s.Now().UTC(), Reason: reason, Note: note, By: actor.ID}
	if err := s.store.UpdateCertificate(ctx, code, CertificateUpdate{Revoked: rv}); err != nil {
		return err
	}
	return s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: c.OrgID, Action: "certificate.revoke",
		Target: "certificate:" + code, Before: map[string]any{"state": string(StateOf(c, s.Now()))}, After: map[string]any{"state": "revoked", "reason": reason}, Note: note})
}

// Reissue renders a new revision of a certificate with the learner's
// current name: same code, new PDF; files of older revisions then verify as
// replaced by a corrected copy.
func (s *Service) Reissue(ctx context.Context, code, reason string, actor *auth.User) (*Certificate, error) {
	c, err := s.Get(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := s.reissue(ctx, c, reason, actor.ID); err != nil {
		return nil, err
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: c.OrgID, Action: "certificate.reissue",
		Target: "certificate:" + code, Before: map[string]any{"revision": c.Revision, "name": c.Name}, Note: reason}); err != nil {
		return nil, err
	}
	return s.Get(ctx, code)
}

// reissue adds revision n+1 and finishes it. The certificate is marked as
// having a reissue pending first, so the reconciler finishes it after a
// crash; a revision that a crash left unfinished is finished rather than
// started again. (Bulk jobs reissue through reissueInJob.)
func (s *Service) reissue(ctx context.Context, c *Certificate, reason, by string) error {
	if c.Revoked != nil {
		return errs.E(errs.ECONFLICT, "A revoked certificate cannot be reissued.")
	}
	if c.NameErased {
		return errs.E(errs.ECONFLICT, "The holder's personal data was erased; this certificate is kept for verification only.")
	}
	if c.Status != StatusIssued {
		return errs.E(errs.ECONFLICT, "This certificate is still being issued; try again in a minute.")
	}
	u, err := s.Accounts.User(ctx, c.UserID)
	if err != nil {
		return err
	}
	n := c.Revision + 1
	rev := &Revision{ID: revisionID(c.Code, n), Code: c.Code, N: n, Name: u.Name, IssuedAt: s.Now().UTC(), Reason: reason, By: by}
	if err := s.store.InsertRevision(ctx, rev); err != nil {
		if !errs.Is(err, errs.ECONFLICT) {
			return err
		}
		// Revision n exists: another reissue is running, or one stopped half-way.
		if rev, err = s.store.Revision(ctx, c.Code, n); err != nil {
			return err
		}
		if s.Now().Sub(rev.IssuedAt) < time.Minute {
			return errs.E(errs.ECONFLICT, "This certificate is being reissued already.")
		}
	}
	if err := s.store.UpdateCertificate(ctx, c.Code, CertificateUpdate{PendingRevision: &n}); err != nil {
		return err
	}
	c.PendingRevision, c.OrgID = n, u.OrgID
	return s.finish(ctx, c, rev)
}

// RequestReissue records a learner's request for a copy of their own
// certificate in their current account name; an admin reissues it.
func (s *Service) RequestReissue(ctx context.Context, code string, who *auth.User) error {
	c, err := s.Get(ctx, code)
	if err != nil {
		return err
	}
	if c.UserID != who.ID {
		return errs.E(errs.ENOTFOUND, "We have no certificate with this code.")
	}
	if c.Name == who.Name {
		return errs.E(errs.ECONFLICT, "This certificate already shows the name on your account.")
	}
	if c.Revoked != nil {
		return errs.E(errs.ECONFLICT, "A revoked certificate cannot be reissued.")
	}
	return s.store.UpdateCertificate(ctx, code, CertificateUpdate{ReissueRequest: &ReissueRequest{At: s.Now().UTC(), Name: who.Name}})
}

// ReissueRequests lists certificates whose learners asked for a new copy.
func (s *Service) ReissueRequests(ctx context.Context) ([]Certificate, error) {
	return s.store.ReissueRequests(ctx, s.Now(), 200)
}
