package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/privacy"
	"github.com/family-advocacy/lms/internal/store"
)

// The admins' queue of data-rights requests (access and erasure), each
// with its statutory due date.

const rightsPerPage = 25

// rightsRow is one request as the queue shows it.
type rightsRow struct {
	*store.RightsRequest
	Kind, How, Status string // in words
	DaysLeft          int
	DueText           string // "in 5 days", "3 days ago"
	Person            string // the account it is about, when there is one
}

func (s *Server) rightsRowOf(r *store.RightsRequest, people map[string]string) rightsRow {
	left := s.rights.DaysLeft(r)
	return rightsRow{RightsRequest: r, Kind: privacy.LabelOf(privacy.RightsKinds, r.Kind), How: privacy.LabelOf(privacy.RightsHows, r.How),
		Status: privacy.LabelOf(privacy.RightsStatuses, r.Status), DaysLeft: left, DueText: inDays(left), Person: people[r.UserID]}
}

// Overdue reports whether an open request is past its due date.
func (r rightsRow) Overdue() bool { return r.Open() && r.DaysLeft < 0 }

// Soon reports whether an open request is due within 7 days.
func (r rightsRow) Soon() bool { return r.Open() && r.DaysLeft >= 0 && r.DaysLeft <= 7 }

// rowsOf turns requests into rows, naming the accounts they are about (one
// read of those accounts).
func (s *Server) rowsOf(c *fiber.Ctx, rs []*store.RightsRequest) ([]rightsRow, error) {
	var ids []string
	for _, r := range rs {
		if r.UserID != "" {
			ids = append(ids, r.UserID)
		}
	}
	people := map[string]string{}
	if len(ids) > 0 {
		us, err := s.auth.Users(c.UserContext(), ids)
		if err != nil {
			return nil, err
		}
		for i, u := range us {
			if u != nil {
				people[ids[i]] = u.Name
			}
		}
	}
	out := make([]rightsRow, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.rightsRowOf(r, people))
	}
	return out, nil
}

type rightsPage struct {
	basePage
	Open  []rightsRow
	All   []rightsRow
	Pager pager
}

// handleRights handles GET /admin/rights: the open requests, soonest due
// first, then every request, newest first, a page at a time.
func (s *Server) handleRights(c *fiber.Ctx) error {
	q, err := s.rights.Rights(c.UserContext(), pageOffset(c, rightsPerPage), rightsPerPage)
	if err != nil {
		return err
	}
	p := &rightsPage{basePage: basePage{Title: "Data-rights requests"}, Pager: newPager(c, rightsPerPage, q.Total)}
	if p.Open, err = s.rowsOf(c, q.Open); err != nil {
		return err
	}
	if p.All, err = s.rowsOf(c, q.All); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "admin_rights", p)
}

var rightsFields = []string{"kind", "requester", "contact", "how", "received", "email"}

type rightsNewPage struct {
	basePage
	Form        *formState
	Kinds, Hows []privacy.Choice
}

// handleRightsNew handles GET /admin/rights/new: the form to log a request
// (received today unless said otherwise).
func (s *Server) handleRightsNew(c *fiber.Ctx) error {
	f := emptyForm(map[string]string{"received": civil.Of(s.now()).String(), "email": c.Query("email")})
	return s.renderRightsNew(c, fiber.StatusOK, f)
}

func (s *Server) renderRightsNew(c *fiber.Ctx, status int, f *formState) error {
	return s.render(c, status, "admin_rights_new", &rightsNewPage{basePage: basePage{Title: "Log a data-rights request"}, Form: f,
		Kinds: privacy.RightsKinds, Hows: privacy.RightsHows})
}

// handleRightsCreate handles POST /admin/rights.
func (s *Server) handleRightsCreate(c *fiber.Ctx) error {
	f := newForm(c, rightsFields...)
	r, err := s.rights.LogRightsRequest(c.UserContext(), viewerOf(c).user, privacy.RightsForm{Kind: f.Get("kind"), Requester: f.Get("requester"),
		Contact: f.Get("contact"), How: f.Get("how"), Received: f.Get("received"), Email: f.Get("email")})
	if err != nil {
		if f.absorb(err) {
			return s.renderRightsNew(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/admin/rights/"+r.ID, flash{Kind: "success", Text: "Request logged. The answer is due by " + longDay(r.Due) + "."})
}

type rightsRequestPage struct {
	basePage
	R       rightsRow
	Account *auth.User
	Next    []privacy.Choice
	Form    *formState
}

// StepWords is a status as a step of the history says it: "identity checked".
func (p *rightsRequestPage) StepWords(status string) string {
	return strings.ToLower(privacy.LabelOf(privacy.RightsStatuses, status))
}

// handleRightsRequest handles GET /admin/rights/:id.
func (s *Server) handleRightsRequest(c *fiber.Ctx) error {
	return s.renderRightsRequest(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderRightsRequest(c *fiber.Ctx, status int, f *formState) error {
	r, err := s.rights.RightsRequest(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	rows, err := s.rowsOf(c, []*store.RightsRequest{r})
	if err != nil {
		return err
	}
	p := &rightsRequestPage{basePage: basePage{Title: "Data-rights request"}, R: rows[0], Form: f}
	if r.UserID != "" {
		if p.Account, err = s.auth.User(c.UserContext(), r.UserID); err != nil {
			p.Account = nil
		}
	}
	for _, n := range privacy.NextStatuses(r) {
		p.Next = append(p.Next, privacy.Choice{Value: n, Label: privacy.LabelOf(privacy.RightsStatuses, n)})
	}
	return s.render(c, status, "admin_right", p)
}

// handleRightsStatus handles POST /admin/rights/:id/status.
func (s *Server) handleRightsStatus(c *fiber.Ctx) error {
	f := newForm(c, "status", "note")
	if f.Get("status") == "" {
		f.Errors["status"] = "Choose what has happened"
		return s.renderRightsRequest(c, fiber.StatusUnprocessableEntity, f)
	}
	r, err := s.rights.SetRightsStatus(c.UserContext(), viewerOf(c).user, c.Params("id"), f.Get("status"), f.Get("note"))
	if err != nil {
		if f.absorb(err) {
			return s.renderRightsRequest(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/admin/rights/"+r.ID, flash{Kind: "success", Text: "The request is now marked " + privacy.LabelOf(privacy.RightsStatuses, r.Status) + "."})
}
