package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/notify"
)

const messagesPerPage = 25

// outboxPage is the page struct for GET /admin/outbox.
type outboxPage struct {
	basePage
	To       string
	Messages []notify.Message
	Pager    pager
}

// handleOutbox handles GET /admin/outbox?to=&page=.
func (s *Server) handleOutbox(c *fiber.Ctx) error {
	to := c.Query("to")
	msgs, total, err := s.outbox.Messages(c.UserContext(), to, pageOffset(c, messagesPerPage), messagesPerPage)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i] = msgs[i].Redacted() // never a reset or invitation link
	}
	return s.render(c, fiber.StatusOK, "admin_outbox", &outboxPage{basePage: basePage{Title: "Outbox"}, To: to, Messages: msgs, Pager: newPager(c, messagesPerPage, total)})
}

// messagePage is the page struct for GET /admin/outbox/:id.
type messagePage struct {
	basePage
	Message *notify.Message
}

// handleOutboxMessage handles GET /admin/outbox/:id. A message carrying a
// secret (a reset or invitation link) is shown without its body.
func (s *Server) handleOutboxMessage(c *fiber.Ctx) error {
	m, err := s.outbox.Message(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	shown := m.Redacted()
	return s.render(c, fiber.StatusOK, "admin_message", &messagePage{basePage: basePage{Title: m.Subject}, Message: &shown})
}
