package server

import (
	"crypto/subtle"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/secrets"
)

// UnsubscribeToken is the token of a person's one-click link that turns
// their optional emails off: a keyed hash of their account ID, so the link
// works without signing in and cannot be made for anyone else.
func UnsubscribeToken(box *secrets.Box, userID string) string {
	return box.Hash("unsubscribe-optional-emails", userID)[:32]
}

type unsubscribePage struct {
	basePage
	UserID, Token string
}

func (s *Server) unsubscribeUser(c *fiber.Ctx) (string, string, error) {
	u, t := c.Query("u", c.FormValue("u")), c.Query("t", c.FormValue("t"))
	if s.impact == nil || u == "" || subtle.ConstantTimeCompare([]byte(t), []byte(UnsubscribeToken(s.impact.Box, u))) != 1 {
		return "", "", errs.E(errs.ENOTFOUND, "This link is not valid. You can turn optional emails off on your account page after signing in.")
	}
	return u, t, nil
}

// handleUnsubscribeForm handles GET /unsubscribe: the page of the link in
// optional emails, asking to confirm (a mail scanner following the link
// changes nothing).
func (s *Server) handleUnsubscribeForm(c *fiber.Ctx) error {
	u, t, err := s.unsubscribeUser(c)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "unsubscribe", &unsubscribePage{basePage: basePage{Title: "Stop optional emails"}, UserID: u, Token: t})
}

// handleUnsubscribe handles POST /unsubscribe.
func (s *Server) handleUnsubscribe(c *fiber.Ctx) error {
	u, _, err := s.unsubscribeUser(c)
	if err != nil {
		return err
	}
	if err := s.auth.SetOptionalReminders(c.UserContext(), u, false); err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return err
	}
	s.sessions.dropUser(u) // their signed-in pages show the change at once
	return s.redirectWith(c, "/", flash{Kind: "success", Text: "Done: you will get no more optional emails (course follow-ups and optional reminders). Reminders your role requires still come. You can turn optional emails on again on your account page."})
}
