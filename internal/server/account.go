package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// accountPage is the page struct for GET /account.
type accountPage struct {
	basePage
	Account   *auth.User
	OrgName   string
	Profile   *formState
	Password  *formState
	Sessions  []auth.Session
	CurrentID string
}

// handleAccount handles GET /account.
func (s *Server) handleAccount(c *fiber.Ctx) error {
	v := viewerOf(c)
	return s.renderAccount(c, fiber.StatusOK, emptyForm(map[string]string{"name": v.user.Name, "email": v.user.Email}), emptyForm(nil))
}

func (s *Server) renderAccount(c *fiber.Ctx, status int, profile, password *formState) error {
	v := viewerOf(c)
	ctx := c.UserContext()
	sessions, err := s.auth.Sessions(ctx, v.ID)
	if err != nil {
		return err
	}
	p := &accountPage{basePage: basePage{Title: "Your account"}, Account: v.user, Profile: profile, Password: password, Sessions: sessions, CurrentID: v.SessionID}
	if o, err := s.auth.Organisation(ctx, v.OrgID); err == nil {
		p.OrgName = o.Name
	}
	return s.render(c, status, "account", p)
}

// handleProfile handles POST /account/profile (name and email).
func (s *Server) handleProfile(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "name", "email")
	if err := s.auth.UpdateProfile(c.UserContext(), v.user, f.Get("name"), f.Get("email")); err != nil {
		if f.absorb(err) {
			return s.renderAccount(c, statusFor(err), f, emptyForm(nil))
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Your details have been saved."})
}

// handlePassword handles POST /account/password. Other sessions end.
func (s *Server) handlePassword(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "current_password", "new_password")
	if err := s.auth.ChangePassword(c.UserContext(), v.user, v.SessionID, f.Get("current_password"), f.Get("new_password")); err != nil {
		if f.absorb(err) {
			return s.renderAccount(c, statusFor(err), emptyForm(map[string]string{"name": v.user.Name, "email": v.user.Email}), f)
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
	Enabled  bool
	Required bool
	Setup    *auth.TOTPSetup
	Form     *formState
	Codes    []string // recovery codes, shown once
}

// handleTwoFactor handles GET /account/2fa: status, or set-up with a QR code.
func (s *Server) handleTwoFactor(c *fiber.Ctx) error {
	v := viewerOf(c)
	p := &twoFactorPage{basePage: basePage{Title: "Two-factor authentication"}, Enabled: v.user.TOTPEnabled, Required: v.user.NeedsTwoFactor(), Form: emptyForm(nil)}
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

// handleRecoveryCodes handles POST /account/2fa/recovery-codes: new codes.
func (s *Server) handleRecoveryCodes(c *fiber.Ctx) error {
	v := viewerOf(c)
	codes, err := s.auth.RegenerateRecoveryCodes(c.UserContext(), v.user)
	if err != nil {
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.render(c, fiber.StatusOK, "account_2fa", &twoFactorPage{basePage: basePage{Title: "New recovery codes"}, Enabled: true, Codes: codes, Required: v.user.NeedsTwoFactor()})
}

// handleTwoFactorDisable handles POST /account/2fa/disable.
func (s *Server) handleTwoFactorDisable(c *fiber.Ctx) error {
	v := viewerOf(c)
	if err := s.auth.DisableTOTP(c.UserContext(), v.user); err != nil {
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Two-factor authentication is off."})
}
