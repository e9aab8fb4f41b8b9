package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
)

// Verification limits per client address per minute.
const (
	verifyPerMinute = 30
	uploadPerMinute = 10
)

// verifyPage is the page struct for the verification pages.
type verifyPage struct {
	basePage
	Form        *formState
	Certificate *certificates.Certificate
	State       certificates.State
	Reason      string // revocation reason, in words
	Checked     bool   // a file was checked
	FileOurs    bool
	Code        string
}

// handleVerifyForm handles GET /verify.
func (s *Server) handleVerifyForm(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "verify", &verifyPage{basePage: basePage{Title: "Verify a certificate"}, Form: emptyForm(nil)})
}

// handleVerifyCode handles POST /verify: a typed code.
func (s *Server) handleVerifyCode(c *fiber.Ctx) error {
	f := newForm(c, "code")
	code, err := certificates.ParseCode(f.Get("code"))
	if err != nil {
		f.Errors["code"] = strings.ToUpper(err.Error()[:1]) + err.Error()[1:]
		return s.render(c, fiber.StatusUnprocessableEntity, "verify", &verifyPage{basePage: basePage{Title: "Verify a certificate"}, Form: f})
	}
	return c.Redirect("/verify/"+code, fiber.StatusSeeOther)
}

// handleVerifyResult handles GET /verify/:code: what anyone may know of a
// certificate — name, course, version, dates, CPD hours and its state.
func (s *Server) handleVerifyResult(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := s.certs.Allow(ctx, "verify:"+s.clientIP(c), verifyPerMinute); err != nil {
		return err
	}
	p := &verifyPage{basePage: basePage{Title: "Certificate check"}, Form: emptyForm(map[string]string{"code": c.Params("code")}), Code: c.Params("code")}
	cert, state, err := s.certs.Verify(ctx, c.Params("code"))
	switch {
	case errs.Is(err, errs.EINVALID):
		p.Form.Errors["code"] = errs.MessageOf(err)
		return s.render(c, fiber.StatusUnprocessableEntity, "verify", p)
	case errs.Is(err, errs.ENOTFOUND):
		p.Form.Errors["code"] = "We have no certificate with this code. Check it against the certificate; if it matches, the certificate is not one of ours."
		return s.render(c, fiber.StatusNotFound, "verify", p)
	case err != nil:
		return err
	}
	p.Certificate, p.State = cert, state
	if cert.Revoked != nil {
		p.Reason = certificates.RevocationReasons[cert.Revoked.Reason]
	}
	return s.render(c, fiber.StatusOK, "verify_result", p)
}

// handleVerifyFile handles POST /verify/file: an uploaded PDF, checked by
// its SHA-256 against the files we issued. The file is not kept.
func (s *Server) handleVerifyFile(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := s.certs.Allow(ctx, "verify-file:"+s.clientIP(c), uploadPerMinute); err != nil {
		return err
	}
	p := &verifyPage{basePage: basePage{Title: "Certificate check"}, Form: emptyForm(nil)}
	fh, err := c.FormFile("file")
	if err != nil {
		p.Form.Errors["file"] = "Choose the certificate's PDF file"
		return s.render(c, fiber.StatusUnprocessableEntity, "verify", p)
	}
	if fh.Size > 5<<20 {
		p.Form.Errors["file"] = "That file is larger than any certificate we issue (5 MB)"
		return s.render(c, fiber.StatusUnprocessableEntity, "verify", p)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := s.certs.VerifyFile(ctx, f)
	if err != nil {
		return err
	}
	p.Checked, p.FileOurs = true, res.Ours
	if res.Ours {
		p.Certificate, p.State = res.Certificate, res.State
		if res.Certificate.Revoked != nil {
			p.Reason = certificates.RevocationReasons[res.Certificate.Revoked.Reason]
		}
	}
	return s.render(c, fiber.StatusOK, "verify_result", p)
}
