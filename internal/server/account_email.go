package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
)

// Changing the email address: asked for on the account page with the
// current password (and code), made when the link emailed to the new
// address is followed.

// handleEmailChange handles POST /account/email: it sends the link to the
// new address and tells the old one.
func (s *Server) handleEmailChange(c *fiber.Ctx) error {
	v := viewerOf(c)
	f := newForm(c, "new_email", "current_password", "code")
	if err := s.auth.RequestEmailChange(c.UserContext(), v.user, f.Get("new_email"), s.reauthOf(c, f)); err != nil {
		if f.absorb(err) {
			return s.renderAccount(c, statusFor(err), &accountPage{Email: f})
		}
		return err
	}
	s.sessions.dropUser(v.ID)
	email, _ := auth.NormaliseEmail(f.Get("new_email"))
	return s.redirectWith(c, "/account", flash{Kind: "success",
		Text: "We have emailed a link to " + email + ". Your email address changes when you follow it, within one hour. We have told your current address too."})
}

// emailConfirmPage is the page struct for GET /account/email/confirm.
type emailConfirmPage struct {
	basePage
	Email string // the new address
	Token string
}

// handleEmailConfirmForm handles GET /account/email/confirm?token=…: it
// asks to confirm, so that a link opened by a mail scanner changes nothing.
func (s *Server) handleEmailConfirmForm(c *fiber.Ctx) error {
	token := c.Query("token")
	_, ch, err := s.auth.EmailChangeFor(c.UserContext(), token)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "account_email_confirm", &emailConfirmPage{basePage: basePage{Title: "Confirm your new email address"}, Email: ch.Email, Token: token})
}

// handleEmailConfirm handles POST /account/email/confirm: the change is made.
func (s *Server) handleEmailConfirm(c *fiber.Ctx) error {
	u, err := s.auth.ConfirmEmailChange(c.UserContext(), c.FormValue("token"))
	if err != nil {
		return err
	}
	s.sessions.dropUser(u.ID)
	if v := viewerOf(c); v != nil && v.ID == u.ID {
		return s.redirectWith(c, "/account", flash{Kind: "success", Text: "Your email address has been changed."})
	}
	return s.redirectWith(c, "/login", flash{Kind: "success", Text: "Your email address has been changed. Sign in with your new address."})
}
