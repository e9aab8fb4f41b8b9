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
	"sync"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/lifecycle"
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

	// Background owns the jobs started in the background (bulk reissues);
	// nil runs them on their own.
	Background *lifecycle.Group

	// LiveCodes returns the codes of a person's live training certificates
	// (nil: none).
	LiveCodes func(ctx context.Context, userID string) ([]string, error)

	// FaultAfterPut, when set (tests only), runs after the PDF is stored and
	// before the certificate is marked issued; an error stops issuing there,
	// as a crash would.
	FaultAfterPut func(code string) error
}

// Service issues, stores and verifies certificates. Its store stays
// inside: other packages use the methods.
type Service struct {
	Deps
	store   Store
	running sync.Map // IDs of the jobs this process is running
}

// NewService returns the service on st.
func NewService(st Store, d Deps) *Service { return &Service{Deps: d, store: st} }

// VerifyURL returns the public verification address of a code.
func (s *Service) VerifyURL(code string) string { return s.BaseURL + "/verify/" + code }

// Issue makes sure the completion recorded on an enrolment has its one
// certificate, creating and storing it if needed. Safe to call any number
// of times, concurrently, from any instance. It runs in order:
//
//  1. claim: the first insert of a claim for this completion fixes its
//     code; every later call finds that claim and carries on with its code;
//  2. record: the certificate is recorded as claimed (in its lists, its
//     holder's list and the unfinished-certificates queue first), so no
//     file is ever stored that has no record — erasure, the data download
//     and /verify all see it from here on;
//  3. render, 4. upload, 5. mark issued (finish), and hand over to the
//     enrolment.
//
// A crash between any two steps leaves a claim or a claimed record that
// the reconciler finishes the same way; rendering is deterministic, so a
// repeated upload stores the same file.
func (s *Service) Issue(ctx context.Context, enrolmentID string) (*Certificate, error) {
	e, err := s.Enrolments.Enrolment(ctx, enrolmentID)
	if err != nil {
		return nil, err
	}
	if e.Completion == nil {
		return nil, errs.E(errs.ECONFLICT, "This course has not been completed yet.")
	}
	comp := e.Completion
	done := Completed{Key: e.ID + "/" + strconv.Itoa(comp.Attempt), EnrolmentID: e.ID, UserID: e.UserID, Course: e.Course,
		Title: comp.CourseTitle, Version: comp.CourseVersion, At: comp.At, CPDHours: comp.CPDHours}
	if course, err := s.Catalogue.Get(e.Course); err == nil {
		done.ValidMonths = course.ValidForMonths
	}
	cert, err := s.IssueFor(ctx, done)
	if err != nil {
		return nil, err
	}
	if err := s.Enrolments.AttachCertificate(ctx, e.ID, cert.Code); err != nil {
		return nil, err
	}
	return cert, nil
}

// Completed is a completion to certify: a course passed (EnrolmentID set)
// or a live session attended (Live set). Key fixes its one certificate.
type Completed struct {
	Key         string
	EnrolmentID string
	Live        string // the live session
	UserID      string
	Course      string // the course, or for a live session "live/<event>"
	Title       string
	Version     string
	At          time.Time
	CPDHours    float64
	ValidMonths int // 0: does not expire
}

// IssueFor makes sure a completion has its one certificate (claim,
// record, render, upload, mark issued; see Issue), whatever calls it and
// however often.
func (s *Service) IssueFor(ctx context.Context, done Completed) (*Certificate, error) {
	claim, fresh, err := s.claim(ctx, done.Key)
	if err != nil {
		return nil, fmt.Errorf("certificates: claim for %s: %w", done.Key, err)
	}
	cert, err := s.record(ctx, done, claim, fresh)
	if err != nil {
		return nil, fmt.Errorf("certificates: record for %s: %w", done.Key, err)
	}
	if cert.Status != StatusIssued || cert.PendingRevision > 0 {
		var first *Revision // this call's own first revision, saved with its file's hash
		if fresh {
			first = &Revision{ID: revisionID(cert.Code, 1), Code: cert.Code, N: 1, Name: cert.Name, IssuedAt: cert.ClaimedAt, unsaved: true}
		}
		if err := s.finish(ctx, cert, first); err != nil {
			return nil, fmt.Errorf("certificates: issue %s: %w", cert.Code, err)
		}
	}
	return cert, nil
}

// claim returns the claim of a completion: a new one with a new code
// (fresh), or the one an earlier or concurrent call made.
func (s *Service) claim(ctx context.Context, key string) (*Claim, bool, error) {
	c := &Claim{Key: key, Code: NewCode(), At: s.Now().UTC()}
	err := s.store.InsertClaim(ctx, c)
	if errs.Is(err, errs.ECONFLICT) {
		c, err = s.store.Claim(ctx, key)
		return c, false, err
	}
	return c, err == nil, err
}

// record returns the certificate of a claim, recording it as claimed if
// it is not recorded yet (a fresh claim's certificate cannot be).
func (s *Service) record(ctx context.Context, done Completed, claim *Claim, fresh bool) (*Certificate, error) {
	if !fresh {
		cert, err := s.store.Certificate(ctx, claim.Code)
		if !errs.Is(err, errs.ENOTFOUND) {
			return cert, err
		}
	}
	u, err := s.Accounts.User(ctx, done.UserID)
	if err != nil {
		return nil, err
	}
	qr, err := EncodeQR(s.VerifyURL(claim.Code))
	if err != nil {
		return nil, err
	}
	cert := s.newCertificate(done, claim, u, qr)
	if err := s.store.InsertCertificate(ctx, cert); errs.Is(err, errs.ECONFLICT) {
		return s.store.Certificate(ctx, claim.Code) // a concurrent call recorded it
	} else if err != nil {
		return nil, err
	}
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

func (s *Service) newCertificate(done Completed, claim *Claim, u *auth.User, qr *QRCode) *Certificate {
	c := &Certificate{
		Code: claim.Code, ClaimKey: claim.Key, EnrolmentID: done.EnrolmentID, Live: done.Live, UserID: done.UserID, OrgID: u.OrgID, Name: u.Name,
		Course: done.Course, CourseTitle: done.Title, CourseVersion: done.Version, CompletedAt: done.At,
		CPDHours: done.CPDHours, QR: qr, Status: StatusClaimed, ClaimedAt: claim.At, PendingRevision: 1,
	}
	if done.ValidMonths > 0 {
		exp := civil.AddMonthsTo(done.At, done.ValidMonths).UTC() // the month's last day when it is shorter
		c.ExpiresAt = &exp
	}
	return c
}

func revisionID(code string, n int) string { return code + "/" + strconv.Itoa(n) }

// finish renders the certificate's pending revision (rev, or read when
// nil), stores the PDF and marks it issued. A revision not saved yet (a
// first issue's) is saved once its file is stored, with the file's hash.
// Every step repeats safely: the same revision always renders to the same
// bytes.
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
	// The file is uploaded while what points at it is written: a first
	// issue's rows in its course's list and the expiry schedule, the
	// revision's record (or its file's hash on it) and the hash by which an
	// uploaded copy verifies. All of it before the write that marks the
	// certificate issued, after which the reconciler no longer looks at it.
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return s.Blobs.Put(gctx, ObjectKey(c.Code), bytes.NewReader(pdf), int64(len(pdf)), "application/pdf")
	})
	if c.Status == StatusClaimed {
		g.Go(func() error { return s.store.ListCertificate(gctx, c) })
	}
	g.Go(func() error {
		switch {
		case rev.unsaved:
			rev.SHA256 = sha
			return ignoreConflict(s.store.InsertRevision(gctx, rev))
		case rev.SHA256 != sha:
			return s.store.SetRevisionSHA(gctx, c.Code, rev.N, sha)
		}
		return nil
	})
	g.Go(func() error { return s.store.PutHash(gctx, &Hash{SHA256: sha, Code: c.Code, Revision: rev.N}) })
	if err := g.Wait(); err != nil {
		return err
	}
	rev.unsaved, rev.SHA256 = false, sha
	if err := s.markIssued(ctx, c, rev, pdf); err != nil {
		return err
	}
	if !c.NameErased {
		return nil
	}
	return s.erasedMeanwhile(ctx, c.Code, rev.N)
}

// markIssued marks the certificate issued at revision rev, whose file is
// stored and whose hashes are recorded (by finish, or, for a bulk job, a
// batch at a time). It notes on c whether the holder was erased meanwhile.
func (s *Service) markIssued(ctx context.Context, c *Certificate, rev *Revision, pdf []byte) error {
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
	rev.SHA256 = sha
	after, err := s.store.UpdateCertificateAndGet(ctx, c.Code, f)
	if err != nil {
		return err
	}
	c.NameErased = after.NameErased // erased meanwhile? (see erasedMeanwhile)
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
	d := Document{Code: c.Code, Name: rev.Name, OrgName: s.OrgName, CourseTitle: c.CourseTitle, CourseVersion: c.CourseVersion, Live: c.Live != "",
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

// Reconcile finishes work a crash or a restart left: certificates claimed
// but not issued, reissues started but not finished, and bulk jobs whose
// instance stopped. (Completions waiting for their certificate are handed
// over by the handover package, which calls Issue.)
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	fixed := 0
	unfinished, err := s.store.UnfinishedCertificates(ctx, s.Now(), 500)
	if err != nil {
		return fixed, err
	}
	for i := range unfinished {
		c := &unfinished[i]
		if c.Status == StatusClaimed && s.Now().Sub(c.ClaimedAt) < ReconcileGrace {
			continue // being issued right now
		}
		first := c.Status == StatusClaimed
		if err := s.finish(ctx, c, nil); err != nil {
			return fixed, fmt.Errorf("certificates: finish %s: %w", c.Code, err)
		}
		if first && c.EnrolmentID != "" { // a first issue: hand it to its enrolment, as Issue does
			if err := s.Enrolments.AttachCertificate(ctx, c.EnrolmentID, c.Code); err != nil && !errs.Is(err, errs.ENOTFOUND) { // erased meanwhile
				return fixed, err
			}
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
			s.startJob(j.ID)
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

// ForUser returns a learner's certificates: per catalogue course newest
// first, then those of live training; one point read per catalogue course
// and per certificate.
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
	if s.LiveCodes == nil {
		return out, nil
	}
	codes, err := s.LiveCodes(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, code := range codes {
		c, err := s.store.Certificate(ctx, code)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}
