package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
)

const eventsPerPage = 50

// auditPage is the page struct for GET /admin/audit.
type auditPage struct {
	basePage
	Events []audit.Event
	Pager  pager
	Form   *formState
}

// handleAudit handles GET /admin/audit?action=&actor=&target=&from=&to=&page=.
func (s *Server) handleAudit(c *fiber.Ctx) error {
	f := emptyForm(map[string]string{"action": c.Query("action"), "actor": c.Query("actor"), "target": c.Query("target"), "from": c.Query("from"), "to": c.Query("to")})
	q := audit.Query{Action: strings.TrimSpace(c.Query("action")), Actor: strings.TrimSpace(c.Query("actor")), Target: strings.TrimSpace(c.Query("target")),
		Offset: pageOffset(c, eventsPerPage), Limit: eventsPerPage}
	if t, ok := compliance.ParseDate(c.Query("from")); !ok {
		f.Errors["from"] = "From must be a date"
	} else if t != nil {
		q.From = *t
	}
	if t, ok := compliance.ParseDate(c.Query("to")); !ok {
		f.Errors["to"] = "To must be a date"
	} else if t != nil {
		q.To = t.AddDate(0, 0, 1)
	}
	events, total, err := s.audit.Events(c.UserContext(), q)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if len(f.Errors) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c, status, "admin_audit", &auditPage{basePage: basePage{Title: "Audit log"}, Events: events, Pager: newPager(c, eventsPerPage, total), Form: f})
}
