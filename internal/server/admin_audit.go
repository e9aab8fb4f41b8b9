package server

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
	forminput "github.com/family-advocacy/lms/internal/input" // input is the template helper here
)

const eventsPerPage = 50

// auditPage is the page struct for GET /admin/audit.
type auditPage struct {
	basePage
	Events []eventView
	About  string // the record named by the Record filter, in words
	Total  int    // every match; -1 when the filters make it unknown
	First  bool   // the newest page
	Newest string // link to the newest page (the filters kept)
	Older  string // link to the next page, older events
	Form   *formState
}

// Table is the page's events for the auditEvents partial.
func (p *auditPage) Table() auditTable {
	return auditTable{Events: p.Events, Label: "Audit events", Records: true}
}

// auditTable is what the auditEvents partial shows.
type auditTable struct {
	Events  []eventView
	Label   string // the table's accessible name
	Records bool   // a column saying which record each event is about
}

// handleAudit handles GET /admin/audit?action=&actor=&target=&from=&to=&before=.
// Pages run newest first; each ends with a link to the next, older one
// (?before= is where the previous page ended).
func (s *Server) handleAudit(c *fiber.Ctx) error {
	f := emptyForm(map[string]string{"action": c.Query("action"), "actor": c.Query("actor"), "target": c.Query("target"), "from": c.Query("from"), "to": c.Query("to")})
	q := audit.Query{Action: strings.TrimSpace(c.Query("action")), Actor: strings.TrimSpace(c.Query("actor")), Target: strings.TrimSpace(c.Query("target")),
		Before: c.Query("before"), Limit: eventsPerPage}
	if t := s.auditDate(f, "from", "From"); t != nil {
		q.From = *t
	}
	if t := s.auditDate(f, "to", "To"); t != nil {
		q.To = t.AddDate(0, 0, 1)
	}
	pg, err := s.audit.EventsPage(c.UserContext(), q)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if len(f.Errors) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	evs, err := s.eventViews(c.UserContext(), viewerOf(c).user, pg.Events, nil)
	if err != nil {
		return err
	}
	p := &auditPage{basePage: basePage{Title: "Audit log"}, Events: evs, Total: pg.Total, First: q.Before == "", Form: f}
	if kind, id := audit.Target(q.Target); kind == "advocate" || kind == "user" {
		if us, err := s.auth.Users(c.UserContext(), []string{id}); err == nil && us[0] != nil {
			p.About = us[0].Name
		}
	}
	link := func(before string) string {
		v := url.Values{}
		for _, k := range []string{"action", "actor", "target", "from", "to"} {
			if x := c.Query(k); x != "" {
				v.Set(k, x)
			}
		}
		if before != "" {
			v.Set("before", before)
		}
		if len(v) == 0 {
			return "/admin/audit"
		}
		return "/admin/audit?" + v.Encode()
	}
	p.Newest = link("")
	if pg.Next != "" {
		p.Older = link(pg.Next)
	}
	return s.render(c, status, "admin_audit", p)
}

// auditDate reads the From or To filter: a real day from 1990 to a year
// from now; a problem goes on the form beside the field.
func (s *Server) auditDate(f *formState, field, label string) *time.Time {
	earliest := time.Date(1990, 1, 1, 0, 0, 0, 0, compliance.London)
	t, p := forminput.Date(f.Get(field), compliance.London, earliest, s.now().AddDate(1, 0, 0))
	if p != forminput.OK {
		if msg := forminput.DateMessage(label, p, false); msg != "" {
			f.Errors[field] = msg
		}
		return nil
	}
	u := t.UTC()
	return &u
}
