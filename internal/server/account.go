package server

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// accountPage is the page struct for GET /account.
type accountPage struct {
	basePage
	Account      *auth.User
	OrgName      string
	Profile      *formState
	Email        *formState // change of email address
	EmailPending *auth.EmailChange
	Password     *formState
	Sessions     []auth.Session
	CurrentID    string
}

// handleAccount handles GET /account.
func (s *Server) handleAccount(c *fiber.Ctx) error {
	return s.renderAccount(c, fiber.StatusOK, &accountPage{})
}

// renderAccount renders the account page with the forms p has (the
// others empty).
func (s *Server) renderAccount(c *fiber.Ctx, status int, p *accountPage) error {
	v := viewerOf(c)
	ctx := c.UserContext()
	sessions, err := s.auth.Sessions(ctx, v.ID)
	if err != nil {
		return err
	}
	p.basePage = basePage{Title: "Your account"}
	p.Account, p.Sessions, p.CurrentID = v.user, sessions, v.SessionID
	if p.Profile == nil {
		p.Profile = emptyForm(map[string]string{"name": v.user.Name})
	}
	if p.Email == nil {
		p.Email = emptyForm(nil)
	}
	p.Email.ID = "email" // its current_password and code are not the password form's
	if p.Password == nil {
		p.Password = emptyForm(nil)
	}
	if v.user.EmailChange.Live(s.now()) {
		p.EmailPending = v.user.EmailChange
	}
	if o, err := s.auth.Organisation(ctx, v.OrgID); err == nil && v.OrgID != "" {
		p.OrgName = o.Name
	} else if jr := v.user.JoinRequest; jr != nil {
		p.OrgName = "none yet"
		if o, err := s.auth.Organisation(ctx, jr.OrgID); err == nil {
			p.OrgName = "none yet: waiting for " + o.Name + " to confirm that you work with them"
		}
	} else {
		p.OrgName = "none"
	}
	return s.render(c, status, "account", p)
}

// QRSrc is the set-up QR code's data: URL for an img src (html/template
// would otherwise replace a data: URL given as a string with #ZgotmplZ).
func (p *twoFactorPage) QRSrc() template.URL {
	if p.Setup == nil || !strings.HasPrefix(p.Setup.QRPNG, "data:image/png;base64,") {
		return ""
	}
	return template.URL(p.Setup.QRPNG)
}

// reauthOf reads the proof of identity an account-changing form carries.
func (s *Server) reauthOf(c *fiber.Ctx, f *formState) auth.Reauth {
	v := viewerOf(c)
	return auth.Reauth{Password: f.Get("current_password"), Code: f.Get("code"), Addr: s.clientIP(c), SessionID: v.SessionID}
}

// handleProfile handles POST /account/profile (the name; the email address
// changes through POST /account/email).
func (s *Server) handleProfile(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "name")
	var err error
	if email, _ := auth.NormaliseEmail(c.FormValue("email")); email != "" && email != v.user.Email {
		err = errs.E(errs.EINVALID, "Change your email address with the form for it below: it asks for your password and confirms the new address by email.")
	} else {
		err = s.auth.UpdateProfile(c.UserContext(), v.user, f.Get("name"))
	}
	if err != nil {
		if f.absorb(err) {
			return s.renderAccount(c, statusFor(err), &accountPage{Profile: f})
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Your details have been saved."})
}

// handlePassword handles POST /account/password, with the current password
// (and code). Other sessions end.
func (s *Server) handlePassword(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "current_password", "code", "new_password")
	if err := s.auth.ChangePassword(c.UserContext(), v.user, s.reauthOf(c, f), f.Get("new_password")); err != nil {
		if f.absorb(err) {
			return s.renderAccount(c, statusFor(err), &accountPage{Password: f})
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Your password has been changed. You have been signed out everywhere else."})
}

// handleRevokeSession handles POST /account/sessions/:id/revoke. Only the
// viewer's own sessions can be ended; any other ID is not found.
func (s *Server) handleRevokeSession(c *fiber.Ctx) error {
	v := viewerOf(c)
	id := c.Params("id")
	sess, err := s.auth.Session(c.UserContext(), id)
	if err != nil || sess.UserID != v.ID {
		return errs.E(errs.ENOTFOUND, "We could not find that session.")
	}
	if err := s.auth.Logout(c.UserContext(), id); err != nil {
		return err
	}
	s.sessions.drop(id)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "That session has been signed out."})
}

// twoFactorPage is the page struct for /account/2fa.
type twoFactorPage struct {
	basePage
	Enabled     bool
	Required    bool
	Setup       *auth.TOTPSetup // its QR code is shown through QRSrc
	Form        *formState      // set-up
	CodesForm   *formState      // new recovery codes
	DisableForm *formState      // turning it off
	Codes       []string        // recovery codes, shown once
}

// twoFactorForms gives an enabled page its forms (empty where nil), each
// with field ids of its own.
func (p *twoFactorPage) twoFactorForms() *twoFactorPage {
	if p.CodesForm == nil {
		p.CodesForm = emptyForm(nil)
	}
	if p.DisableForm == nil {
		p.DisableForm = emptyForm(nil)
	}
	p.CodesForm.ID, p.DisableForm.ID = "codes", "disable"
	return p
}

// handleTwoFactor handles GET /account/2fa: status, or set-up with a QR code.
func (s *Server) handleTwoFactor(c *fiber.Ctx) error {
	v := viewerOf(c)
	p := (&twoFactorPage{basePage: basePage{Title: "Two-factor authentication"}, Enabled: v.user.TOTPEnabled, Required: v.user.NeedsTwoFactor(), Form: emptyForm(nil)}).twoFactorForms()
	if !p.Enabled {
		setup, err := s.auth.PendingTOTP(v.user)
		if err != nil {
			if setup, err = s.auth.BeginTOTP(c.UserContext(), v.user); err != nil {
				return err
			}
			s.sessions.dropUser(v.ID)
		}
		p.Setup = setup
	}
	return s.render(c, fiber.StatusOK, "account_2fa", p)
}

// handleTwoFactorConfirm handles POST /account/2fa: confirm set-up with a code.
func (s *Server) handleTwoFactorConfirm(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "code")
	codes, err := s.auth.ConfirmTOTP(c.UserContext(), v.user, f.Get("code"))
	if err != nil {
		if f.absorb(err) {
			p := &twoFactorPage{basePage: basePage{Title: "Two-factor authentication"}, Required: v.user.NeedsTwoFactor(), Form: f}
			if p.Setup, err = s.auth.PendingTOTP(v.user); err != nil {
				// No set-up in progress (e.g. it was confirmed in another tab).
				return c.Redirect("/account/2fa", fiber.StatusSeeOther)
			}
			return s.render(c, fiber.StatusUnprocessableEntity, "account_2fa", p)
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	p := &twoFactorPage{basePage: basePage{Title: "Two-factor authentication is on", Flash: &flash{Kind: "success", Text: "Two-factor authentication is now on."}}, Enabled: true, Codes: codes}
	return s.render(c, fiber.StatusOK, "account_2fa", p)
}

// handleRecoveryCodes handles POST /account/2fa/recovery-codes: new codes,
// with the current password and a code.
func (s *Server) handleRecoveryCodes(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "current_password", "code")
	codes, err := s.auth.RegenerateRecoveryCodes(c.UserContext(), v.user, s.reauthOf(c, f))
	if err != nil {
		if f.absorb(err) {
			return s.renderTwoFactorForms(c, statusFor(err), &twoFactorPage{CodesForm: f})
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.render(c, fiber.StatusOK, "account_2fa", &twoFactorPage{basePage: basePage{Title: "New recovery codes"}, Enabled: true, Codes: codes, Required: v.user.NeedsTwoFactor()})
}

// handleTwoFactorDisable handles POST /account/2fa/disable, with the
// current password and a code.
func (s *Server) handleTwoFactorDisable(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "current_password", "code")
	if err := s.auth.DisableTOTP(c.UserContext(), v.user, s.reauthOf(c, f)); err != nil {
		if f.absorb(err) {
			return s.renderTwoFactorForms(c, statusFor(err), &twoFactorPage{DisableForm: f})
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Two-factor authentication is off."})
}

// renderTwoFactorForms renders the page of an account with two-factor on,
// with the form that failed.
func (s *Server) renderTwoFactorForms(c *fiber.Ctx, status int, p *twoFactorPage) error {
	v := viewerOf(c)
	if !v.user.TOTPEnabled { // turned off meanwhile (another tab)
		return c.Redirect("/account/2fa", fiber.StatusSeeOther)
	}
	p.basePage = basePage{Title: "Two-factor authentication"}
	p.Enabled, p.Required = true, v.user.NeedsTwoFactor()
	return s.render(c, status, "account_2fa", p.twoFactorForms())
}
