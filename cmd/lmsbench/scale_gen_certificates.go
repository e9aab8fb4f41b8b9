package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/learning"
)

// Certificates: one per completion, as the certificate service records
// them, a few revoked or reissued since; the bench subjects' are issued by
// the service itself.

// certificate makes the issued certificate of a completion as the
// certificate service records it (certificates.Service.newCertificate and
// markNewIssued): claimed a moment after the pass, issued at once.
func (g *generator) certificate(rng *rand.Rand, u *auth.User, c *courses.Course, e *learning.Enrolment) (*certificates.Certificate, error) {
	code := certCode(rng)
	qr, err := certificates.EncodeQR(scaleBaseURL + "/verify/" + code)
	if err != nil {
		return nil, err
	}
	comp := e.Completion
	at := comp.At.Add(time.Duration(300+rng.IntN(2500)) * time.Millisecond)
	cert := &certificates.Certificate{Code: code, ClaimKey: e.ID + "/" + strconv.Itoa(comp.Attempt), EnrolmentID: e.ID, UserID: u.ID, OrgID: u.OrgID,
		Name: u.Name, Course: c.Slug, CourseTitle: comp.CourseTitle, CourseVersion: comp.CourseVersion, CompletedAt: comp.At, CPDHours: comp.CPDHours,
		QR: qr, Status: certificates.StatusIssued, ClaimedAt: at, IssuedAt: at, Revision: 1, RevisedAt: at, Size: int64(36000 + rng.IntN(12000))}
	cert.SHA256 = fileHash(code, 1)
	if c.ValidForMonths > 0 {
		exp := civil.AddMonthsTo(comp.At, c.ValidForMonths).UTC()
		cert.ExpiresAt = &exp
	}
	if len(g.meta.Codes) < 200 {
		g.meta.Codes = append(g.meta.Codes, code)
	}
	return cert, nil
}

// fileHash stands for the SHA-256 of a certificate's PDF: the generator
// does not render the files (the bench subjects' are real).
func fileHash(code string, revision int) string {
	sum := sha256.Sum256([]byte("lmsbench certificate " + code + "/" + strconv.Itoa(revision)))
	return hex.EncodeToString(sum[:])
}

// laterRevision is a reissued certificate's first revision, written after
// the loader (which takes one revision per certificate).
type laterRevision struct {
	rev  *certificates.Revision
	hash *certificates.Hash
}

// certificateLife adds the certificate with what happened to it since: a
// few are revoked by an admin, a few reissued in a changed name.
func (g *generator) certificateLife(ctx context.Context, rng *rand.Rand, u *auth.User, c *certificates.Certificate) error {
	rev := &certificates.Revision{ID: c.Code + "/1", Code: c.Code, N: 1, Name: c.Name, IssuedAt: c.ClaimedAt}
	h := &certificates.Hash{SHA256: c.SHA256, Code: c.Code, Revision: 1}
	admin := g.admins[rng.IntN(len(g.admins))]
	window := func() time.Time { return between(rng, c.ClaimedAt, g.anchor.Add(-time.Minute)) }
	switch r := rng.Float64(); {
	case r < 0.001:
		reason := []string{"issued-in-error", "learner-request", "not-genuine"}[rng.IntN(3)]
		c.Revoked = &certificates.Revocation{At: window(), Reason: reason, Note: "Checked with the learner's organisation.", By: admin.ID}
		if err := g.event(ctx, &audit.Event{ID: hexID(rng, 12), At: c.Revoked.At, ActorID: admin.ID, Actor: admin.Name, OrgID: c.OrgID,
			Action: "certificate.revoke", Target: "certificate:" + c.Code, Before: map[string]any{"state": "valid"},
			After: map[string]any{"state": "revoked", "reason": reason}, Note: c.Revoked.Note}); err != nil {
			return err
		}
	case r < 0.003:
		// Printed first in a former name; reissued in the account's name.
		old := firstWord(u.Name) + " " + lastNames[rng.IntN(len(lastNames))]
		at := window()
		g.laterRevision(&certificates.Revision{ID: c.Code + "/1", Code: c.Code, N: 1, Name: old, IssuedAt: c.ClaimedAt},
			&certificates.Hash{SHA256: c.SHA256, Code: c.Code, Revision: 1})
		rev = &certificates.Revision{ID: c.Code + "/2", Code: c.Code, N: 2, Name: u.Name, IssuedAt: at, Reason: "Name changed", By: admin.ID}
		c.Revision, c.RevisedAt, c.SHA256 = 2, at, fileHash(c.Code, 2)
		h = &certificates.Hash{SHA256: c.SHA256, Code: c.Code, Revision: 2}
		if err := g.event(ctx, &audit.Event{ID: hexID(rng, 12), At: at, ActorID: admin.ID, Actor: admin.Name, OrgID: c.OrgID,
			Action: "certificate.reissue", Target: "certificate:" + c.Code, Before: map[string]any{"revision": 1, "name": old}, Note: "Name changed"}); err != nil {
			return err
		}
	}
	claim := &certificates.Claim{Key: c.ClaimKey, Code: c.Code, At: c.ClaimedAt}
	if err := g.ld.Certificate(ctx, c, claim, rev, h); err != nil {
		return err
	}
	g.docs += 4
	return nil
}

func (g *generator) laterRevision(rev *certificates.Revision, h *certificates.Hash) {
	g.laterRev = append(g.laterRev, laterRevision{rev: rev, hash: h})
}

// writeLaterRevisions writes the first revisions of reissued certificates
// with the certificate store's own methods.
func (g *generator) writeLaterRevisions(ctx context.Context) error {
	var revs []*certificates.Revision
	var hashes []*certificates.Hash
	for _, l := range g.laterRev {
		revs, hashes = append(revs, l.rev), append(hashes, l.hash)
	}
	if len(revs) == 0 {
		return nil
	}
	if err := g.db.InsertRevisions(ctx, revs); err != nil {
		return err
	}
	g.docs += 2 * len(revs)
	return g.db.PutHashes(ctx, hashes)
}

// issueSubjects issues the bench subjects' certificates through the
// certificate service, so that their PDFs are real files in MinIO.
func (g *generator) issueSubjects(ctx context.Context) error {
	for _, uid := range []string{g.meta.ExportUser, g.meta.EraseUser} {
		for _, c := range g.catalog {
			cert, err := g.svc.Certs.Issue(ctx, learning.EnrolmentID(uid, c.Slug))
			if err != nil {
				return fmt.Errorf("issuing the bench subject's certificate: %w", err)
			}
			g.meta.Codes = append(g.meta.Codes, cert.Code)
			if uid == g.meta.ExportUser && g.meta.FileCode == "" {
				g.meta.FileCode = cert.Code
			}
		}
	}
	return nil
}
