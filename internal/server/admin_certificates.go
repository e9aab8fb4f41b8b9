package server

import (
	"bufio"
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
)

// adminCertificatesPage is the page struct for GET /admin/certificates.
type adminCertificatesPage struct {
	basePage
	Form     *formState
	Courses  []*courses.Course
	Counts   map[string]int
	Requests []certificates.Certificate
	// A search by the holder's name or email: what was asked, how many
	// people match, and the first holdersShown of them with their
	// certificates.
	Query   string
	Holders int
	Found   []holderCertificates
}

// holderCertificates is one person a search found, with their certificates.
type holderCertificates struct {
	User         auth.User
	Certificates []userCertificate
}

// holdersShown bounds the people a search by name lists.
const holdersShown = 20

// handleAdminCertificates handles GET /admin/certificates?q=: find by
// code, or by the holder's name or email; reissue requests; per-course
// bulk actions.
func (s *Server) handleAdminCertificates(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		return s.renderAdminCertificates(c, fiber.StatusOK, emptyForm(nil), nil)
	}
	f := emptyForm(map[string]string{"q": q})
	code, err := certificates.ParseCode(q)
	if err == nil {
		return c.Redirect("/admin/certificates/"+code, fiber.StatusSeeOther)
	}
	if looksLikeCode(q) {
		f.Errors["q"] = "This looks like a certificate code with a mistake in it (" + err.Error() + "). Check it against the certificate, or search by the holder's name or email."
		return s.renderAdminCertificates(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	found, holders, err := s.certificatesOfHolders(c.UserContext(), q)
	if err != nil {
		return err
	}
	return s.renderAdminCertificates(c, fiber.StatusOK, f, &adminCertificatesPage{Query: q, Holders: holders, Found: found})
}

// certificatesOfHolders finds the people a search names (an email
// address: its account, through the claim on it; otherwise the index of
// names and emails the users page searches) and reads each one's
// certificates from their enrolments: point reads, never a search of the
// certificates.
func (s *Server) certificatesOfHolders(ctx context.Context, q string) ([]holderCertificates, int, error) {
	var users []auth.User
	total := 0
	if strings.Contains(q, "@") {
		u, err := s.auth.UserByEmail(ctx, q)
		switch {
		case errs.Is(err, errs.ENOTFOUND):
		case err != nil:
			return nil, 0, err
		default:
			users, total = []auth.User{*u}, 1
		}
	} else {
		var err error
		if users, total, err = s.auth.ListUsers(ctx, auth.UserQuery{Search: q, Limit: holdersShown}); err != nil {
			return nil, 0, err
		}
	}
	out := make([]holderCertificates, 0, len(users))
	for _, u := range users {
		certs, err := s.certs.ForUser(ctx, u.ID)
		if err != nil {
			return nil, 0, err
		}
		h := holderCertificates{User: u}
		for _, cert := range certs {
			h.Certificates = append(h.Certificates, userCertificate{Certificate: cert, State: certificates.StateOf(&cert, s.now())})
		}
		out = append(out, h)
	}
	return out, total, nil
}

// looksLikeCode reports whether a search is shaped like a certificate
// code (letters and at least one digit, 12 to 15 of them, perhaps with
// dashes) rather than a name.
func looksLikeCode(q string) bool {
	n, digits := 0, 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			n++
			digits++
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
			n++
		case r == '-' || r == ' ':
		default:
			return false
		}
	}
	return digits > 0 && n >= 12 && n <= 15
}

// renderAdminCertificates renders the page; search, when set, holds a
// search's results.
func (s *Server) renderAdminCertificates(c *fiber.Ctx, status int, f *formState, search *adminCertificatesPage) error {
	ctx := c.UserContext()
	p := &adminCertificatesPage{basePage: basePage{Title: "Certificates"}, Form: f, Courses: s.learn.Catalogue.All(), Counts: map[string]int{}}
	if search != nil {
		p.Query, p.Holders, p.Found = search.Query, search.Holders, search.Found
	}
	for _, course := range p.Courses {
		n, err := s.certs.CountForCourse(ctx, course.Slug)
		if err != nil {
			return err
		}
		p.Counts[course.Slug] = n
	}
	var err error
	if p.Requests, err = s.certs.ReissueRequests(ctx); err != nil {
		return err
	}
	return s.render(c, status, "admin_certificates", p)
}

// handleAdminCertificateFind handles POST /admin/certificates/find (the
// form before searches were by GET): a code goes to its certificate;
// anything else is searched as a holder's name or email.
func (s *Server) handleAdminCertificateFind(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.FormValue("q"))
	if q == "" {
		q = strings.TrimSpace(c.FormValue("code"))
	}
	if q == "" {
		f := emptyForm(nil)
		f.Errors["q"] = "Enter a certificate code, like K7QX-M2PA-HW9D-R3, or the holder's name or email address"
		return s.renderAdminCertificates(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	return c.Redirect("/admin/certificates?q="+url.QueryEscape(q), fiber.StatusSeeOther)
}

// adminCertificatePage is the page struct for GET /admin/certificates/:code.
type adminCertificatePage struct {
	basePage
	Certificate *certificates.Certificate
	State       certificates.State
	Reasons     map[string]string
	Form        *formState
}

// handleAdminCertificate handles GET /admin/certificates/:code.
func (s *Server) handleAdminCertificate(c *fiber.Ctx) error {
	return s.renderAdminCertificate(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderAdminCertificate(c *fiber.Ctx, status int, f *formState) error {
	cert, err := s.certs.Get(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return s.render(c, status, "admin_certificate", &adminCertificatePage{basePage: basePage{Title: "Certificate " + cert.Code},
		Certificate: cert, State: certificates.StateOf(cert, s.now()), Reasons: certificates.RevocationReasons, Form: f})
}

// handleAdminCertificateRevoke handles POST /admin/certificates/:code/revoke.
func (s *Server) handleAdminCertificateRevoke(c *fiber.Ctx) error {
	code := c.Params("code")
	f := newForm(c, "reason", "note")
	if err := s.certs.Revoke(c.UserContext(), code, f.Get("reason"), f.Get("note"), viewerOf(c).user); err != nil {
		if f.absorb(err) {
			return s.renderAdminCertificate(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/admin/certificates/"+code, flash{Kind: "success", Text: "The certificate has been revoked. Its verification page now says so."})
}

// handleAdminCertificateReissue handles POST /admin/certificates/:code/reissue.
func (s *Server) handleAdminCertificateReissue(c *fiber.Ctx) error {
	code := c.Params("code")
	reason := c.FormValue("reason")
	if reason == "" {
		reason = "Corrected copy"
	}
	if _, err := s.certs.Reissue(c.UserContext(), code, reason, viewerOf(c).user); err != nil {
		if errs.Is(err, errs.ECONFLICT) {
			return s.redirectWith(c, "/admin/certificates/"+code, flash{Kind: "warning", Text: errs.MessageOf(err)})
		}
		return err
	}
	return s.redirectWith(c, "/admin/certificates/"+code, flash{Kind: "success", Text: "A corrected copy has been issued with the same code. Earlier files now verify as replaced."})
}

// handleAdminBulkReissue handles POST /admin/courses/:slug/certificates/reissue.
func (s *Server) handleAdminBulkReissue(c *fiber.Ctx) error {
	f := newForm(c, "reason")
	j, err := s.certs.StartBulkReissue(s.ctx, c.Params("slug"), f.Get("reason"), viewerOf(c).user)
	if err != nil {
		if f.absorb(err) {
			return s.renderAdminCertificates(c, statusFor(err), f, nil)
		}
		return err
	}
	return c.Redirect("/admin/jobs/"+j.ID, fiber.StatusSeeOther)
}

// jobPage is the page struct for GET /admin/jobs/:id.
type jobPage struct {
	basePage
	Job     *certificates.Job
	Percent int
	Running bool
}

// handleAdminJob handles GET /admin/jobs/:id: progress, refreshing itself
// every two seconds while the job runs.
func (s *Server) handleAdminJob(c *fiber.Ctx) error {
	j, err := s.certs.Job(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	p := &jobPage{basePage: basePage{Title: "Bulk reissue"}, Job: j, Percent: percent(j.Done+j.Failed, j.Total), Running: j.Finished.IsZero()}
	if p.Running {
		p.Percent = min(p.Percent, 99)
	}
	return s.render(c, fiber.StatusOK, "admin_job", p)
}

// handleAdminCourseZip handles GET /admin/courses/:slug/certificates.zip:
// every issued certificate of the course, streamed.
func (s *Server) handleAdminCourseZip(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if _, err := s.learn.Catalogue.Get(slug); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="certificates-`+slug+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	certs, log, base := s.certs, s.log, s.ctx
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(base, 30*time.Minute) // a stop ends it
		defer cancel()
		if err := certs.WriteCourseZip(ctx, slug, w); err != nil {
			log.Error("course certificates zip", "course", slug, "err", err)
		}
		_ = w.Flush()
	})
	return nil
}
