package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
)

// renewWindow is how long before expiry My certificates prompts a renewal.
const renewWindow = 60 * 24 * time.Hour

// certView is a certificate as listed for its learner.
type certView struct {
	certificates.Certificate
	State      certificates.State
	RenewSoon  bool
	NameDiffer bool
	Share      *shareLinks // a valid certificate's links for sharing (certificates_share.go)
}

// myCertificatesPage is the page struct for GET /my/certificates.
type myCertificatesPage struct {
	basePage
	Certificates []certView
	AccountName  string
}

// handleMyCertificates handles GET /my/certificates.
func (s *Server) handleMyCertificates(c *fiber.Ctx) error {
	v := viewerOf(c)
	list, err := s.certs.ForUser(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	now := s.now()
	p := &myCertificatesPage{basePage: basePage{Title: "My certificates"}, AccountName: v.Name}
	for _, cert := range list {
		cv := certView{Certificate: cert, State: certificates.StateOf(&cert, now), NameDiffer: cert.Name != v.Name}
		if cert.ExpiresAt != nil && cv.State == certificates.StateValid && cert.ExpiresAt.Sub(now) <= renewWindow {
			cv.RenewSoon = true
		}
		if cv.State == certificates.StateValid {
			cv.Share = shareOf(&cert, s.cfg.BaseURL, s.cfg.OrgName)
		}
		p.Certificates = append(p.Certificates, cv)
	}
	return s.render(c, fiber.StatusOK, "my_certificates", p)
}

// handleCertificateDownload handles GET /certificates/:code/download: the
// learner, a manager of their organisation or an admin; anyone else 403.
func (s *Server) handleCertificateDownload(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cert, err := s.certs.Get(ctx, c.Params("code"))
	if err != nil {
		return err
	}
	ok, err := s.certs.MayDownload(ctx, viewerOf(c).user, cert)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.EFORBIDDEN, "You may not download this certificate.")
	}
	if s.cfg.CertificateDelivery == "presign" {
		u, err := s.certs.PresignedURL(ctx, cert)
		if err != nil {
			return err
		}
		return c.Redirect(u, fiber.StatusSeeOther)
	}
	sctx, done := s.streamContext(c)
	r, size, err := s.certs.Open(sctx, cert)
	if err != nil {
		done()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+certificates.FileName(cert)+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Response().SetBodyStream(closeThen{r, done}, int(size)) // fasthttp closes r when done
	return nil
}

// handleReissueRequest handles POST /my/certificates/:code/reissue-request.
func (s *Server) handleReissueRequest(c *fiber.Ctx) error {
	if err := s.certs.RequestReissue(c.UserContext(), c.Params("code"), viewerOf(c).user); err != nil {
		if errs.Is(err, errs.ECONFLICT) {
			return s.redirectWith(c, "/my/certificates", flash{Kind: "warning", Text: errs.MessageOf(err)})
		}
		return err
	}
	return s.redirectWith(c, "/my/certificates", flash{Kind: "success", Text: "We have asked an administrator to reissue this certificate in your current name. The code stays the same."})
}
