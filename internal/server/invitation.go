package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
)

// invitationPage is the page struct for /invitation: a person an
// administrator added chooses their first password.
type invitationPage struct {
	formPage
	Token       string
	Name, Email string
}

// handleInvitationForm handles GET /invitation?token=…: the link emailed
// to a person an administrator added.
func (s *Server) handleInvitationForm(c *fiber.Ctx) error {
	token := c.Query("token")
	u, err := s.auth.InvitationFor(c.UserContext(), token)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "invitation", &invitationPage{formPage: formPage{basePage: basePage{Title: "Choose your password"}, Form: emptyForm(nil)},
		Token: token, Name: u.Name, Email: u.Email})
}

// handleInvitationAccept handles POST /invitation: sets the password,
// which uses the link up, and sends the person to sign in.
func (s *Server) handleInvitationAccept(c *fiber.Ctx) error {
	f := newForm(c, "password")
	token := c.FormValue("token")
	u, err := s.auth.AcceptInvitation(c.UserContext(), token, f.Get("password"))
	if err != nil {
		if errs.Fields(err) != nil && f.absorb(err) {
			p := &invitationPage{formPage: formPage{basePage: basePage{Title: "Choose your password"}, Form: f}, Token: token}
			if u, err := s.auth.InvitationFor(c.UserContext(), token); err == nil {
				p.Name, p.Email = u.Name, u.Email
			}
			return s.render(c, statusFor(err), "invitation", p)
		}
		return err
	}
	s.sessions.dropUser(u.ID)
	return s.redirectWith(c, "/login", flash{Kind: "success", Text: "Your password is set. Sign in with " + u.Email + " and your new password."})
}
