package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
)

// Confirming the email address of a self-registered account (verify
// mode): a link is emailed at registration and on request from the banner
// every page shows until the address is confirmed.

// confirmPage is the page struct for GET /account/confirm.
type confirmPage struct {
	basePage
	Email string
	Token string
}

// handleConfirmForm handles GET /account/confirm?token=…: it asks to
// confirm, so that a link opened by a mail scanner uses up nothing.
func (s *Server) handleConfirmForm(c *fiber.Ctx) error {
	token := c.Query("token")
	u, err := s.auth.EmailConfirmFor(c.UserContext(), token)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "account_confirm", &confirmPage{basePage: basePage{Title: "Confirm your email address"}, Email: u.Email, Token: token})
}

// handleConfirm handles POST /account/confirm: the address is confirmed
// and the link used up.
func (s *Server) handleConfirm(c *fiber.Ctx) error {
	u, err := s.auth.ConfirmEmail(c.UserContext(), c.FormValue("token"))
	if err != nil {
		return err
	}
	s.sessions.dropUser(u.ID)
	text := "Thank you: your email address is confirmed. You can enrol on courses now."
	if v := viewerOf(c); v != nil && v.ID == u.ID {
		return s.redirectWith(c, "/courses", flash{Kind: "success", Text: text})
	}
	return s.redirectWith(c, "/login", flash{Kind: "success", Text: text + " Sign in to start."})
}

// handleConfirmSend handles POST /account/confirm/send: a new link to the
// viewer's address (limited per account and per network address).
func (s *Server) handleConfirmSend(c *fiber.Ctx) error {
	v := viewerOf(c)
	if !v.MustConfirmEmail {
		return s.redirectWith(c, "/account", flash{Kind: "info", Text: "Your email address is confirmed already."})
	}
	err := s.auth.ResendEmailConfirm(c.UserContext(), v.user, s.clientIP(c))
	if errs.CodeOf(err) == errs.ETOOMANY {
		return s.redirectWith(c, "/", flash{Kind: "warning", Text: errs.MessageOf(err)})
	}
	if err != nil {
		return err
	}
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/", flash{Kind: "success", Text: "We have sent a new link to " + v.Email + ". It works once, for 24 hours; the links sent before no longer work."})
}
