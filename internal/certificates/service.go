package certificates

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/secrets"
	"golang.org/x/sync/errgroup"
)

// Deps are what a Service uses besides its store.
type Deps struct {
	Blobs      Blobs
	Accounts   Accounts
	Enrolments Enrolments
	Catalogue  *learning.Catalogue
	Renderer   *Renderer
	Audit      *audit.Log
	Now        func() time.Time
	Log        *slog.Logger
	BaseURL    string
	OrgName    string
	Box        *secrets.Box // makes the keys of request counters (keyed hashes)

	// FaultAfterPut, when set (tests only), runs after the PDF is stored and
	// before the certificate is marked issued; an error stops issuing there,
	// as a crash would.
	FaultAfterPut func(code string) error
}

// Service issues, stores and verifies certificates. Its store stays
// inside: other packages use the methods.
type Service struct {
	Deps
	store Store
}

// NewService returns the service on st.
func NewService(st Store, d Deps) *Service { return &Service{Deps: d, store: st} }

// VerifyURL returns the public verification address of a code.
func (s *Service) VerifyURL(code string) string { return s.BaseURL + "/verify/" + code }

// Issue makes sure the completion recorded on an enrolment has its one
// certificate, creating and storing it if needed. Safe to call any number
// of times, concurrently, from any instance.
func (s *Service) Issue(ctx context.Context, enrolmentID string) (*Certificate, error) {
	// The code, and so the QR code of its verification address, does not
	// depend on the enrolment: encode it while the enrolment is read.
	code := NewCode()
	type qrResult struct {
		qr  *QRCode
		err error
	}
	qrDone := make(chan qrResult, 1)
	go func() { q, err := EncodeQR(s.VerifyURL(code)); qrDone <- qrResult{q, err} }()
	// Likewise the learner: an enrolment's ID starts with its user's ID.
	type userResult struct {
		u   *auth.User
		err error
	}
	userDone := make(chan userResult, 1)
	go func() {
		uid, _, _ := strings.Cut(enrolmentID, "/")
		u, err := s.Accounts.User(ctx, uid)
		userDone <- userResult{u, err}
	}()
	e, err := s.Enrolments.Enrolment(ctx, enrolmentID)
	if err != nil {
		return nil, err
	}
	if e.Completion == nil {
		return nil, errs.E(errs.ECONFLICT, "This course has not been completed yet.")
	}
	// 1. Claim: the first insert for this completion fixes its code. Meanwhile,
	// for the usual case where this call wins, the file is made and stored
	// under the new code. Once both the claim and the rendering are done, the
	// certificate is recorded as claimed (not yet downloadable) and handed
	// over to the enrolment, with its first revision and its file's hash,
	// while the upload runs; after the upload, one write marks it issued. A
	// crash anywhere leaves a claim, or a claimed record, that the reconciler
	// finishes. A call that loses the claim deletes its file.
	key := e.ID + "/" + strconv.Itoa(e.Completion.Attempt)
	claim := &Claim{Key: key, Code: code, At: s.Now().UTC()}
	var (
		u        *auth.User
		cert     *Certificate
		rev      *Revision
		pdf      []byte
		claimErr error
		rendered = make(chan bool, 1) // true when the PDF is ready
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if claimErr = s.store.InsertClaim(gctx, claim); claimErr != nil || !<-rendered {
			return nil
		}
		sum := sha256.Sum256(pdf)
		cert.SHA256, cert.Size = hex.EncodeToString(sum[:]), int64(len(pdf))
		rev.SHA256 = cert.SHA256
		w, wctx := errgroup.WithContext(gctx)
		w.Go(func() error { return ignoreConflict(s.store.InsertRevision(wctx, rev)) })
		w.Go(func() error {
			return s.store.PutHash(wctx, &Hash{SHA256: cert.SHA256, Code: claim.Code, Revision: 1})
		})
		w.Go(func() error {
			if err := ignoreConflict(s.store.InsertCertificate(wctx, cert)); err != nil {
				return err
			}
			return s.Enrolments.AttachCertificate(wctx, e.ID, cert.Code)
		})
		return w.Wait()
	})
	g.Go(func() (err error) {
		signalled := false
		signal := func(ok bool) {
			if !signalled {
				signalled = true
				rendered <- ok
			}
		}
		defer signal(false)
		if r := <-userDone; r.err == nil && r.u.ID == e.UserID {
			u = r.u
		} else if u, err = s.Accounts.User(gctx, e.UserID); err != nil {
			return err
		}
		q := <-qrDone
		if q.err != nil {
			return q.err
		}
		cert = s.newCertificate(e, claim, u, q.qr)
		rev = &Revision{ID: revisionID(cert.Code, 1), Code: cert.Code, N: 1, Name: cert.Name, IssuedAt: claim.At}
		if pdf, err = s.Renderer.Render(s.document(cert, rev)); err != nil {
			return err
		}
		signal(true) // the claim's side records the certificate during the upload
		return s.Blobs.Put(gctx, ObjectKey(cert.Code), bytes.NewReader(pdf), int64(len(pdf)), "application/pdf")
	})
	err = g.Wait()
	if claimErr != nil || err != nil {
		_ = s.Blobs.Delete(context.WithoutCancel(ctx), ObjectKey(claim.Code)) // not ours, or half done
	}
	if err != nil {
		return nil, fmt.Errorf("certificates: issue %s: %w", e.ID, err)
	}
	if claimErr == nil {
		return s.markNewIssued(ctx, cert)
	}
	if err = claimErr; !errs.Is(err, errs.ECONFLICT) {
		return nil, err
	}
	// Claimed before (a concurrent request, a retry, or a crash): finish
	// whatever is left.
	if claim, err = s.store.Claim(ctx, key); err != nil {
		return nil, err
	}
	cert, err = s.store.Certificate(ctx, claim.Code)
	if errs.Is(err, errs.ENOTFOUND) {
		qr, qerr := EncodeQR(s.VerifyURL(claim.Code))
		if qerr != nil {
			return nil, qerr
		}
		cert = s.newCertificate(e, claim, u, qr)
		if err = s.store.InsertCertificate(ctx, cert); errs.Is(err, errs.ECONFLICT) {
			cert, err = s.store.Certificate(ctx, claim.Code)
		}
	}
	if err != nil {
		return nil, err
	}
	if cert.Status != StatusIssued {
		if err := s.finish(ctx, cert, nil); err != nil {
			return nil, err
		}
		if cert, err = s.store.Certificate(ctx, claim.Code); err != nil {
			return nil, err
		}
	}
	if err := s.Enrolments.AttachCertificate(ctx, e.ID, cert.Code); err != nil {
		return nil, err
	}
	return cert, nil
}

// markNewIssued marks a certificate this call has just recorded, and whose
// file is stored, as issued. If the process dies before this write, the
// reconciler finds the claimed record and repeats the job, producing the
// same file.
func (s *Service) markNewIssued(ctx context.Context, cert *Certificate) (*Certificate, error) {
	if s.FaultAfterPut != nil {
		if err := s.FaultAfterPut(cert.Code); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateCertificate(ctx, cert.Code, CertificateUpdate{Status: new(StatusIssued), Revision: new(1), PendingRevision: new(0),
		IssuedAt: new(cert.ClaimedAt), RevisedAt: new(cert.ClaimedAt)}); err != nil {
		return nil, err
	}
	cert.Status, cert.Revision, cert.PendingRevision, cert.IssuedAt, cert.RevisedAt = StatusIssued, 1, 0, cert.ClaimedAt, cert.ClaimedAt
	return cert, nil
}

// ignoreConflict treats "already exists" as done: the same record was
// written by a concurrent or earlier run.
func ignoreConflict(err error) error {
	if errs.Is(err, errs.ECONFLICT) {
		return nil
	}
	return err
}

func (s *Service) newCertificate(e *learning.Enrolment, claim *Claim, u *auth.User, qr *QRCode) *Certificate {
	comp := e.Completion
	c := &Certificate{
		Code: claim.Code, ClaimKey: claim.Key, EnrolmentID: e.ID, UserID: e.UserID, OrgID: u.OrgID, Name: u.Name,
		Course: e.Course, CourseTitle: comp.CourseTitle, CourseVersion: comp.CourseVersion, CompletedAt: comp.At,
		CPDHours: comp.CPDHours, QR: qr, Status: StatusClaimed, ClaimedAt: claim.At, PendingRevision: 1,
	}
	if course, err := s.Catalogue.Get(e.Course); err == nil && course.ValidForMonths > 0 {
		exp := comp.At.In(london).AddDate(0, course.ValidForMonths, 0).UTC()
		c.ExpiresAt = &exp
	}
	return c
}

func revisionID(code string, n int) string { return code + "/" + strconv.Itoa(n) }

// finish renders the certificate's pending revision (rev, or read when
// nil), stores the PDF and marks it issued. Every step repeats safely: the
// same revision always renders to the same bytes.
func (s *Service) finish(ctx context.Context, c *Certificate, rev *Revision) error {
	if c.NameErased {
		// The holder was erased while this was pending: the record stays for
		// verification, but no file is printed again.
		c.Status, c.PendingRevision = StatusIssued, 0
		return s.store.UpdateCertificate(ctx, c.Code, CertificateUpdate{Status: new(StatusIssued), PendingRevision: new(0)})
	}
	n := c.PendingRevision
	if n == 0 {
		n = c.Revision
	}
	if rev == nil {
		var err error
		rev, err = s.store.Revision(ctx, c.Code, n)
		if errs.Is(err, errs.ENOTFOUND) && (n == 1 || n == c.Revision) {
			// The revision's record was not stored (a crash before the first
			// one, or a bulk job's history write): the certificate record
			// says what it prints.
			at := c.RevisedAt
			if n == 1 || at.IsZero() {
				at = c.ClaimedAt
			}
			rev = &Revision{ID: revisionID(c.Code, n), Code: c.Code, N: n, Name: c.Name, IssuedAt: at}
			if err = s.store.InsertRevision(ctx, rev); errs.Is(err, errs.ECONFLICT) {
				rev, err = s.store.Revision(ctx, c.Code, n)
			}
		}
		if err != nil {
			return fmt.Errorf("certificates: revision %d of %s: %w", n, c.Code, err)
		}
	}
	pdf, err := s.Renderer.Render(s.document(c, rev))
	if err != nil {
		return err
	}
	if err := s.Blobs.Put(ctx, ObjectKey(c.Code), bytes.NewReader(pdf), int64(len(pdf)), "application/pdf"); err != nil {
		return err
	}
	if err := s.markIssued(ctx, c, rev, pdf, "", true); err != nil {
		return err
	}
	return s.erasedMeanwhile(ctx, c.Code, rev.N)
}

// markIssued records the stored file's hash (unless withHash is false: a
// bulk job records a batch's hashes in one write) and marks the certificate
// issued at revision rev (and, when enrolmentID is set, hands it over).
func (s *Service) markIssued(ctx context.Context, c *Certificate, rev *Revision, pdf []byte, enrolmentID string, withHash bool) error {
	if s.FaultAfterPut != nil {
		if err := s.FaultAfterPut(c.Code); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	issuedAt := c.IssuedAt
	if issuedAt.IsZero() {
		issuedAt = rev.IssuedAt
	}
	f := CertificateUpdate{Status: new(StatusIssued), Revision: new(rev.N), PendingRevision: new(0), SHA256: &sha, Size: new(int64(len(pdf))),
		Name: new(rev.Name), IssuedAt: &issuedAt, RevisedAt: new(rev.IssuedAt), OrgID: new(c.OrgID), LastJob: new(c.LastJob),
		ClearReissueRequest: c.ReissueRequest != nil && rev.N > 1}
	g, gctx := errgroup.WithContext(ctx)
	if withHash {
		g.Go(func() error { return s.store.PutHash(gctx, &Hash{SHA256: sha, Code: c.Code, Revision: rev.N}) })
	}
	if withHash && rev.SHA256 != sha {
		// A revision recorded before its file was made (a reissue, or one
		// the reconciler finishes) learns its file's hash; a bulk job's
		// revisions are written after, with it.
		g.Go(func() error { return s.store.SetRevisionSHA(gctx, c.Code, rev.N, sha) })
	}
	rev.SHA256 = sha
	g.Go(func() error { return s.store.UpdateCertificate(gctx, c.Code, f) })
	if enrolmentID != "" {
		g.Go(func() error { return s.Enrolments.AttachCertificate(gctx, enrolmentID, c.Code) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	c.Status, c.Revision, c.PendingRevision, c.SHA256, c.Size, c.Name, c.IssuedAt, c.RevisedAt = StatusIssued, rev.N, 0, sha, int64(len(pdf)), rev.Name, issuedAt, rev.IssuedAt
	return nil
}

// erasedMeanwhile checks, after revision n of a certificate was stored and
// recorded, whether its holder's data was erased while it was being made
// (erasure marks certificates before it deletes their files). If so, what
// this revision wrote is undone — its file, its revision record and the
// name on the certificate — and the result is ECONFLICT.
func (s *Service) erasedMeanwhile(ctx context.Context, code string, n int) error {
	c, err := s.store.Certificate(ctx, code)
	if err == nil && !c.NameErased {
		return nil
	}
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	if err == nil {
		f := CertificateUpdate{Name: new("")}
		if n > 1 && c.Revision == n {
			f.Revision = new(n - 1) // this revision did not take effect
		}
		if err := s.store.UpdateCertificate(ctx, code, f); err != nil {
			return err
		}
	}
	if err := s.Blobs.Delete(ctx, ObjectKey(code)); err != nil {
		return err
	}
	if err := s.store.DeleteRevision(ctx, code, n); err != nil {
		return err
	}
	return errs.E(errs.ECONFLICT, "The holder's personal data was erased; this certificate is kept for verification only.")
}

func (s *Service) document(c *Certificate, rev *Revision) Document {
	d := Document{Code: c.Code, Name: rev.Name, OrgName: s.OrgName, CourseTitle: c.CourseTitle, CourseVersion: c.CourseVersion,
		Completed: c.CompletedAt, CPDHours: c.CPDHours, VerifyURL: s.VerifyURL(c.Code), Issued: rev.IssuedAt, QR: c.QR}
	if c.ExpiresAt != nil {
		d.Expires = *c.ExpiresAt
	}
	return d
}

// ReconcileGrace is how long the reconciler leaves a new completion, or a
// certificate being issued, to the request that started it, so that it does
// not render and store the same certificate alongside that request.
const ReconcileGrace = time.Minute

// Reconcile finishes work a crash or a restart left: completions waiting
// for a certificate, certificates claimed but not issued, reissues started
// but not finished, and bulk jobs whose instance stopped.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	fixed := 0
	pending, err := s.Enrolments.PendingEnrolments(ctx, learning.PendingCertificate, s.Now(), 500)
	if err != nil {
		return 0, err
	}
	for _, e := range pending {
		if e.Completion != nil && s.Now().Sub(e.Completion.At) < ReconcileGrace {
			continue // the request that recorded it is issuing it
		}
		if _, err := s.Issue(ctx, e.ID); err != nil {
			return fixed, fmt.Errorf("certificates: issue for %s: %w", e.ID, err)
		}
		fixed++
	}
	unfinished, err := s.store.UnfinishedCertificates(ctx, s.Now(), 500)
	if err != nil {
		return fixed, err
	}
	for i := range unfinished {
		if c := &unfinished[i]; c.Status == StatusClaimed && s.Now().Sub(c.ClaimedAt) < ReconcileGrace {
			continue // being issued right now
		}
		if err := s.finish(ctx, &unfinished[i], nil); err != nil {
			return fixed, fmt.Errorf("certificates: finish %s: %w", unfinished[i].Code, err)
		}
		fixed++
	}
	jobs, err := s.store.UnfinishedJobs(ctx, s.Now())
	if err != nil {
		return fixed, err
	}
	for _, j := range jobs {
		if s.Now().Sub(j.Heartbeat) > jobStale {
			s.Log.Info("resuming bulk reissue", "job", j.ID, "done", j.Done, "total", j.Total)
			go s.runJob(context.WithoutCancel(ctx), j.ID)
			fixed++
		}
	}
	return fixed, nil
}

// Get returns a certificate.
func (s *Service) Get(ctx context.Context, code string) (*Certificate, error) {
	c, err := s.store.Certificate(ctx, code)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, errs.E(errs.ENOTFOUND, "We have no certificate with this code.")
	}
	return c, err
}

// Open returns the stored PDF of a certificate.
func (s *Service) Open(ctx context.Context, c *Certificate) (io.ReadCloser, int64, error) {
	if c.Status != StatusIssued {
		return nil, 0, errs.E(errs.ECONFLICT, "This certificate is still being prepared; try again in a minute.")
	}
	return s.Blobs.Open(ctx, ObjectKey(c.Code))
}

// PresignedURL returns a short-lived direct download address.
func (s *Service) PresignedURL(ctx context.Context, c *Certificate) (string, error) {
	return s.Blobs.PresignGet(ctx, ObjectKey(c.Code), FileName(c), 5*time.Minute)
}

// FileName is the download name of a certificate.
func FileName(c *Certificate) string { return "certificate-" + c.Code + ".pdf" }

// MayDownload reports whether a person may download a certificate: its
// learner, a manager of the learner's organisation, or an admin.
func (s *Service) MayDownload(ctx context.Context, who *auth.User, c *Certificate) (bool, error) {
	switch {
	case who.ID == c.UserID || who.HasRole(auth.RoleAdmin):
		return true, nil
	case !who.HasRole(auth.RoleManager):
		return false, nil
	}
	learner, err := s.Accounts.User(ctx, c.UserID)
	if err != nil {
		return false, err
	}
	return learner.OrgID != "" && learner.OrgID == who.OrgID, nil // in no organisation (yet): no manager's
}

// ForUser returns a learner's certificates, newest first, with one point
// read per catalogue course and per certificate.
func (s *Service) ForUser(ctx context.Context, userID string) ([]Certificate, error) {
	var out []Certificate
	for _, course := range s.Catalogue.All() {
		e, err := s.Enrolments.Enrolment(ctx, learning.EnrolmentID(userID, course.Slug))
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for i := len(e.CertificateCodes) - 1; i >= 0; i-- {
			c, err := s.store.Certificate(ctx, e.CertificateCodes[i])
			if err != nil {
				return nil, err
			}
			out = append(out, *c)
		}
	}
	return out, nil
}
