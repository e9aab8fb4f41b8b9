package server

import (
	"bufio"
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
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
}

// handleAdminCertificates handles GET /admin/certificates: find by code,
// reissue requests, and per-course bulk actions.
func (s *Server) handleAdminCertificates(c *fiber.Ctx) error {
	return s.renderAdminCertificates(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderAdminCertificates(c *fiber.Ctx, status int, f *formState) error {
	ctx := c.UserContext()
	p := &adminCertificatesPage{basePage: basePage{Title: "Certificates"}, Form: f, Courses: s.learn.Catalogue.All(), Counts: map[string]int{}}
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

// handleAdminCertificateFind handles POST /admin/certificates/find.
func (s *Server) handleAdminCertificateFind(c *fiber.Ctx) error {
	f := newForm(c, "code")
	code, err := certificates.ParseCode(f.Get("code"))
	if err != nil {
		f.Errors["code"] = "Enter a certificate code, like K7QX-M2PA-HW9D-R3 (" + err.Error() + ")"
		return s.renderAdminCertificates(c, fiber.StatusUnprocessableEntity, f)
	}
	return c.Redirect("/admin/certificates/"+code, fiber.StatusSeeOther)
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
			return s.renderAdminCertificates(c, statusFor(err), f)
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
