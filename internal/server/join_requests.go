package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Requests to join an organisation: a person who registers names their
// organisation, and a manager of it (or an admin) approves or declines.

const joinRequestsPerPage = 25

// joinRequestsPage is the page struct for GET /manage/join-requests.
type joinRequestsPage struct {
	basePage
	Requests []joinRequestRow
	Pager    pager
	AllOrgs  bool // an admin's page: every organisation's requests
}

type joinRequestRow struct {
	auth.PendingJoin
	OrgName string
}

// handleJoinRequests handles GET /manage/join-requests: the requests the
// viewer decides (a manager's organisation's; an admin's, all), oldest
// first.
func (s *Server) handleJoinRequests(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v := viewerOf(c)
	reqs, total, err := s.auth.JoinRequests(ctx, v.user, pageOffset(c, joinRequestsPerPage), joinRequestsPerPage)
	if err != nil {
		return err
	}
	orgs, err := s.auth.Organisations(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	p := &joinRequestsPage{basePage: basePage{Title: "Requests to join"}, Pager: newPager(c, joinRequestsPerPage, total), AllOrgs: v.HasRole("admin")}
	for _, r := range reqs {
		p.Requests = append(p.Requests, joinRequestRow{PendingJoin: r, OrgName: names[r.OrgID]})
	}
	return s.render(c, fiber.StatusOK, "join_requests", p)
}

// handleJoinApprove handles POST /manage/join-requests/:id/approve: the
// person joins the organisation and is told. Audited.
func (s *Server) handleJoinApprove(c *fiber.Ctx) error { return s.decideJoin(c, true) }

// handleJoinDecline handles POST /manage/join-requests/:id/decline: the
// person stays in no organisation and is told. Audited.
func (s *Server) handleJoinDecline(c *fiber.Ctx) error { return s.decideJoin(c, false) }

func (s *Server) decideJoin(c *fiber.Ctx, approve bool) error {
	ctx := c.UserContext()
	u, err := s.auth.DecideJoin(ctx, viewerOf(c).user, c.Params("id"), approve)
	if errs.CodeOf(err) == errs.ECONFLICT {
		return s.redirectWith(c, "/manage/join-requests", flash{Kind: "warning", Text: errs.MessageOf(err)})
	}
	if err != nil {
		return err
	}
	s.sessions.dropUser(u.ID)
	text := "You declined the request from " + u.Name + ". We have told them."
	if approve {
		org := "the organisation"
		if o, err := s.auth.Organisation(ctx, u.OrgID); err == nil {
			org = o.Name
		}
		text = u.Name + " has joined " + org + ". We have told them."
	}
	return s.redirectWith(c, "/manage/join-requests", flash{Kind: "success", Text: text})
}
