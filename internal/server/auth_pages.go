package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// formPage is a page that is one form.
type formPage struct {
	basePage
	Form *formState
	Next string
}

// registerPage is the page struct for GET/POST /register.
type registerPage struct {
	formPage
	Orgs     []auth.Organisation
	JobRoles []struct {
		Value auth.JobRole
		Label string
	}
	NoOrg  string // the value of "I do not work for an organisation"
	Verify bool   // the address is confirmed before enrolling
	Closed bool   // invite mode: staff create accounts
}

// UnlistedOrg is the value of "My organisation is not listed" (its name
// is typed in org_name).
func (p *registerPage) UnlistedOrg() string { return auth.UnlistedOrganisation }

// selfRegistration reports whether people may create their own accounts
// (LMS_REGISTRATION is not invite).
func (s *Server) selfRegistration() bool {
	return s.cfg.Registration != string(auth.RegistrationInvite)
}

// handleRegisterForm handles GET /register.
func (s *Server) handleRegisterForm(c *fiber.Ctx) error {
	if viewerOf(c) != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return s.renderRegister(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderRegister(c *fiber.Ctx, status int, f *formState) error {
	p := &registerPage{formPage: formPage{basePage: basePage{Title: "Create an account"}, Form: f}, JobRoles: auth.JobRoles, NoOrg: auth.NoOrganisation,
		Verify: s.auth.SelfRegistration() == auth.RegistrationVerify, Closed: !s.selfRegistration()}
	if !p.Closed {
		var err error
		if p.Orgs, err = s.auth.Organisations(c.UserContext()); err != nil {
			return err
		}
	}
	return s.render(c, status, "register", p)
}

// handleRegister handles POST /register (refused in invite mode). The new
// account is in no organisation: the one chosen gets a request to join.
func (s *Server) handleRegister(c *fiber.Ctx) error {
	f := newForm(c, "name", "email", "password", "org", "org_name", "job_role")
	ctx := c.UserContext()
	org, orgName, err := s.listedByName(ctx, f.Get("org"), f.Get("org_name"))
	if err != nil {
		return err
	}
	u, err := s.auth.Register(ctx, auth.Registration{
		Name: f.Get("name"), Email: f.Get("email"), Password: f.Get("password"),
		OrgID: org, OrgName: orgName, JobRole: auth.JobRole(f.Get("job_role")), From: s.clientIP(c),
	})
	if err != nil {
		if s.selfRegistration() && f.absorb(err) {
			return s.renderRegister(c, statusFor(err), f)
		}
		return err
	}
	if s.auth.SelfRegistration() == auth.RegistrationVerify {
		// Not signed in until the emailed link: the answer is the same
		// whether the address was new (u) or had an account (u == nil,
		// its owner emailed), and says only what the form said.
		email, _ := auth.NormaliseEmail(f.Get("email"))
		text := "Thank you. We have sent an email to " + email + ": follow the link in it to confirm your address, then sign in. If it does not arrive in a few minutes, look in your junk folder."
		if org != auth.NoOrganisation {
			if o, err := s.auth.Organisation(ctx, org); err == nil {
				text += " We will ask " + o.Name + " to confirm that you work with them."
			}
		}
		if orgName != "" {
			text += " You told us you work for “" + strings.Join(strings.Fields(orgName), " ") + "”, which is not on our list yet: once it is, we will ask it to confirm that you work with them."
		}
		return s.redirectWith(c, "/login", flash{Kind: "success", Text: text})
	}
	// Open registration: the new account is signed in straight away.
	res, err := s.auth.Login(ctx, u.Email, f.Get("password"), s.clientIP(c), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, res.Token)
	text := "Welcome, " + u.Name + ". Your account is ready."
	if !u.EmailConfirmed() {
		text = "Welcome, " + u.Name + ". We have sent a link to " + u.Email + ": follow it to confirm your email address, and then you can enrol on courses."
	}
	if u.JoinRequest != nil {
		if o, err := s.auth.Organisation(ctx, u.JoinRequest.OrgID); err == nil {
			text += " We have asked " + o.Name + " to confirm that you work with them, and will tell you when they have."
		}
	}
	if u.UnlistedOrg != "" {
		text += " You told us you work for “" + u.UnlistedOrg + "”, which is not on our list yet: once it is, we will ask it to confirm that you work with them."
	}
	return s.redirectWith(c, "/", flash{Kind: "success", Text: text})
}

// handleLoginForm handles GET /login.
func (s *Server) handleLoginForm(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"), "")
	if viewerOf(c) != nil {
		return c.Redirect(safeNext(next, "/"), fiber.StatusSeeOther)
	}
	return s.render(c, fiber.StatusOK, "login", &formPage{basePage: basePage{Title: "Sign in"}, Form: emptyForm(nil), Next: next})
}

// handleLogin handles POST /login.
func (s *Server) handleLogin(c *fiber.Ctx) error {
	f := newForm(c, "email", "password")
	next := safeNext(c.FormValue("next"), "")
	res, err := s.auth.Login(c.UserContext(), f.Get("email"), f.Get("password"), s.clientIP(c), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		if f.absorb(err) {
			return s.render(c, statusFor(err), "login", &formPage{basePage: basePage{Title: "Sign in"}, Form: f, Next: next})
		}
		return err
	}
	// A new session on every sign-in: end the one this browser had, if any.
	if old := c.Cookies(sessionCookie); old != "" {
		id := auth.TokenID(old)
		_ = s.auth.Logout(c.UserContext(), id)
		s.sessions.drop(id)
	}
	s.setSessionCookie(c, res.Token)
	switch {
	case res.NeedsCode:
		return c.Redirect("/login/2fa?next="+urlQueryEscape(next), fiber.StatusSeeOther)
	case res.MustSetupMFA:
		return s.redirectWith(c, "/account/2fa", flash{Kind: "warning", Text: "Your role needs two-factor authentication. Set it up to continue."})
	}
	return c.Redirect(safeNext(next, "/"), fiber.StatusSeeOther)
}

// handleSecondFactorForm handles GET /login/2fa.
func (s *Server) handleSecondFactorForm(c *fiber.Ctx) error {
	if _, ok := c.Locals(localPending).(cachedSession); !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return s.render(c, fiber.StatusOK, "login_2fa", &formPage{basePage: basePage{Title: "Enter your code"}, Form: emptyForm(nil), Next: safeNext(c.Query("next"), "")})
}

// handleSecondFactor handles POST /login/2fa.
func (s *Server) handleSecondFactor(c *fiber.Ctx) error {
	pending, ok := c.Locals(localPending).(cachedSession)
	if !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	f := newForm(c, "code")
	next := safeNext(c.FormValue("next"), "")
	// A new session replaces the waiting one: a token taken before the code
	// never signs anyone in.
	token, _, err := s.auth.CompleteSecondFactor(c.UserContext(), pending.sess.ID, pending.user, f.Get("code"))
	if err != nil {
		if f.absorb(err) {
			return s.render(c, statusFor(err), "login_2fa", &formPage{basePage: basePage{Title: "Enter your code"}, Form: f, Next: next})
		}
		return err
	}
	s.sessions.drop(pending.sess.ID)
	s.setSessionCookie(c, token)
	return c.Redirect(safeNext(next, "/"), fiber.StatusSeeOther)
}

// handleLogout handles POST /logout: the session (signed in, or waiting for
// its second factor) ends in the database and in this instance's cache at
// once.
func (s *Server) handleLogout(c *fiber.Ctx) error {
	if token := c.Cookies(sessionCookie); token != "" {
		id := auth.TokenID(token)
		if err := s.auth.Logout(c.UserContext(), id); err != nil {
			return err
		}
		s.sessions.drop(id)
	}
	s.clearSessionCookie(c)
	return s.redirectWith(c, "/", flash{Kind: "success", Text: "You have signed out."})
}

// handleForgotForm handles GET /password/forgot.
func (s *Server) handleForgotForm(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "forgot", &formPage{basePage: basePage{Title: "Reset your password"}, Form: emptyForm(nil)})
}

// handleForgot handles POST /password/forgot. The answer is the same whether
// or not the address has an account, and past the limits on requests
// (when no email is sent).
func (s *Server) handleForgot(c *fiber.Ctx) error {
	f := newForm(c, "email")
	if err := s.auth.ForgotPassword(c.UserContext(), f.Get("email"), s.clientIP(c)); err != nil {
		if f.absorb(err) {
			return s.render(c, statusFor(err), "forgot", &formPage{basePage: basePage{Title: "Reset your password"}, Form: f})
		}
		return err
	}
	return s.redirectWith(c, "/login", flash{Kind: "info", Text: "If an account uses that address, we have emailed it a link to reset the password. The link works once, for one hour."})
}

// resetPage is the page struct for /password/reset.
type resetPage struct {
	formPage
	Token string
}

// handleResetForm handles GET /password/reset?token=….
func (s *Server) handleResetForm(c *fiber.Ctx) error {
	token := c.Query("token")
	if _, err := s.auth.ResetUser(c.UserContext(), token); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "reset", &resetPage{formPage: formPage{basePage: basePage{Title: "Choose a new password"}, Form: emptyForm(nil)}, Token: token})
}

// handleReset handles POST /password/reset.
func (s *Server) handleReset(c *fiber.Ctx) error {
	f := newForm(c, "password")
	token := c.FormValue("token")
	u, err := s.auth.ResetPassword(c.UserContext(), token, f.Get("password"))
	if err != nil {
		if errs.Fields(err) != nil && f.absorb(err) {
			return s.render(c, statusFor(err), "reset", &resetPage{formPage: formPage{basePage: basePage{Title: "Choose a new password"}, Form: f}, Token: token})
		}
		return err
	}
	s.sessions.dropUser(u.ID)
	return s.redirectWith(c, "/login", flash{Kind: "success", Text: "Your password has been changed. Sign in with your new password."})
}
