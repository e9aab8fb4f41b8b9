package server

import (
	"strconv"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/notify"
)

type notificationsPage struct {
	basePage
	Inbox *notify.Inbox
}

// handleNotifications handles GET /notifications: the viewer's reminders
// and messages, newest first, each summary with its items.
func (s *Server) handleNotifications(c *fiber.Ctx) error {
	v := viewerOf(c)
	in, err := s.inbox.Inbox(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	v.unread.set(in.Unread()) // the navigation says what the page says
	return s.render(c, fiber.StatusOK, "notifications", &notificationsPage{basePage: basePage{Title: "Notifications"}, Inbox: in})
}

// handleNotificationsRead handles POST /notifications/read.
func (s *Server) handleNotificationsRead(c *fiber.Ctx) error {
	v := viewerOf(c)
	if err := s.inbox.MarkNotificationsRead(c.UserContext(), v.ID, s.now().UTC()); err != nil {
		return err
	}
	// The count in the navigation goes with it, in every session of the
	// user this instance has cached (other instances within sessionCacheTTL).
	v.unread.set(0)
	s.sessions.dropUser(v.ID)
	return s.redirectWith(c, "/notifications", flash{Kind: "success", Text: "All notifications are marked as read."})
}

// unreadCount is a session's count of unread notifications, kept with
// the cached session so the navigation costs one point read of the inbox
// per session each sessionCacheTTL rather than one per page; -1 until read.
type unreadCount struct{ n atomic.Int64 }

func newUnreadCount() *unreadCount {
	u := &unreadCount{}
	u.n.Store(-1)
	return u
}

func (u *unreadCount) set(n int) {
	if u != nil {
		u.n.Store(int64(n))
	}
}

// unreadFor returns how many of the viewer's notifications are unread,
// reading their inbox (one point read by _id) when the session does not
// know yet. A failed read shows no count rather than failing the page.
func (s *Server) unreadFor(c *fiber.Ctx, v *viewer) int {
	if v == nil || v.unread == nil {
		return 0
	}
	if n := v.unread.n.Load(); n >= 0 {
		return int(n)
	}
	in, err := s.inbox.Inbox(c.UserContext(), v.ID)
	if err != nil {
		if s.log != nil {
			s.log.Warn("reading the unread count failed", "request", requestID(c), "err", err)
		}
		return 0
	}
	n := in.Unread()
	v.unread.set(n)
	return n
}

// countUnread puts the viewer's unread count on the navigation's
// Notifications link.
func (s *Server) countUnread(c *fiber.Ctx, v *viewer, nav []link) {
	for i := range nav {
		if nav[i].Href == "/notifications" {
			nav[i].Count = s.unreadFor(c, v)
			return
		}
	}
}

// unreadBadge is the count after the Notifications label: it reads
// "Notifications (3)" and is announced as "Notifications (3 unread)".
func unreadBadge(n int) string {
	return ` <span class="count">(` + strconv.Itoa(n) + `<span class="visually-hidden"> unread</span>)</span>`
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
