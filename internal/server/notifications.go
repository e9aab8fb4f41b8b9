package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/notify"
)

type notificationsPage struct {
	basePage
	Inbox *notify.Inbox
}

// handleNotifications handles GET /notifications: the viewer's reminders
// and messages, newest first.
func (s *Server) handleNotifications(c *fiber.Ctx) error {
	in, err := s.inbox.Inbox(c.UserContext(), viewerOf(c).ID)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "notifications", &notificationsPage{basePage: basePage{Title: "Notifications"}, Inbox: in})
}

// handleNotificationsRead handles POST /notifications/read.
func (s *Server) handleNotificationsRead(c *fiber.Ctx) error {
	if err := s.inbox.MarkNotificationsRead(c.UserContext(), viewerOf(c).ID, s.now().UTC()); err != nil {
		return err
	}
	return s.redirectWith(c, "/notifications", flash{Kind: "success", Text: "All notifications are marked as read."})
}

// handleReminderPrefs handles POST /account/reminders: optional reminders
// on or off.
func (s *Server) handleReminderPrefs(c *fiber.Ctx) error {
	v := viewerOf(c)
	on := c.FormValue("optional") == "yes"
	if err := s.auth.SetOptionalReminders(c.UserContext(), v.ID, on); err != nil {
		return err
	}
	s.sessions.dropUser(v.ID)
	text := "Optional reminders are off. You will still get reminders your organisation's standards require."
	if on {
		text = "Optional reminders are on."
	}
	return s.redirectWith(c, "/account", flash{Kind: "success", Text: text})
}
