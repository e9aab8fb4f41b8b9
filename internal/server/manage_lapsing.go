package server

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

const lapsesPerPage = 50

// lapsingPage is the page struct for GET /manage/lapsing.
type lapsingPage struct {
	basePage
	Items        []lapseView
	Total        int
	Within       int
	Windows      []int
	Requirement  string
	Manager      string
	Requirements []string
	Labels       map[string]string
	Managers     []auth.User
	Pager        pager
	OrgQuery     string
	OrgID        string
	Back         string // this page with its filters, where "remind now" returns
}

type lapseView struct {
	compliance.Lapse
	Label   string // the requirement
	DueText string // "3 March 2027"
	InDays  string // "in 12 days"
	Manager string // the named manager's name
	Section string // where on the advocate's page the requirement's records are
}

// lapsingQuery reads the page's filters: within one of the windows (30 by
// default), a requirement, a named manager.
func lapsingQuery(c *fiber.Ctx) compliance.LapsingQuery {
	q := compliance.LapsingQuery{Within: 30, Requirement: c.Query("requirement"), Manager: c.Query("manager")}
	if n, err := strconv.Atoi(c.Query("within")); err == nil {
		for _, d := range compliance.DueWithin {
			if n == d {
				q.Within = d
			}
		}
	}
	if compliance.RequirementLabels[q.Requirement] == "" {
		q.Requirement = ""
	}
	return q
}

// handleLapsing handles GET /manage/lapsing: every requirement falling due
// in the chosen window across the organisation, soonest first.
func (s *Server) handleLapsing(c *fiber.Ctx) error {
	q := lapsingQuery(c)
	q.Offset, q.Limit = pageOffset(c, lapsesPerPage), lapsesPerPage
	org := s.orgFor(c)
	l, err := s.comply.Lapsing(c.UserContext(), org, q)
	if err != nil {
		return err
	}
	p := &lapsingPage{basePage: basePage{Title: "Lapsing soon"}, Total: l.Total, Within: q.Within, Windows: compliance.DueWithin,
		Requirement: q.Requirement, Manager: q.Manager, Requirements: compliance.RequirementKeys, Labels: compliance.RequirementLabels,
		Pager: newPager(c, lapsesPerPage, l.Total), Back: c.OriginalURL(), OrgID: org}
	if viewerOf(c).HasRole("admin") && c.Query("org") != "" {
		p.OrgQuery = "org=" + url.QueryEscape(org) + "&"
	}
	if p.Managers, err = s.comply.Managers(c.UserContext(), org); err != nil {
		return err
	}
	names := map[string]string{}
	for _, m := range p.Managers {
		names[m.ID] = m.Name
	}
	for _, it := range l.Items {
		p.Items = append(p.Items, lapseView{Lapse: it, Label: compliance.RequirementLabels[it.Key], DueText: longDay(it.Due), InDays: inDays(it.DaysLeft),
			Manager: names[it.ManagerID], Section: requirementSection[it.Key]})
	}
	return s.render(c, fiber.StatusOK, "lapsing", p)
}

// handleRemindNow handles POST /manage/lapsing/remind: one email to the
// advocate about one requirement, recorded, at most once a day.
func (s *Server) handleRemindNow(c *fiber.Ctx) error {
	back := safeNext(c.FormValue("back"), "/manage/lapsing")
	if !strings.HasPrefix(back, "/manage") {
		back = "/manage/lapsing"
	}
	if s.remind == nil {
		return errs.E(errs.EUNAVAILABLE, "Reminders cannot be sent from here.")
	}
	r, err := s.remind.RemindNow(c.UserContext(), viewerOf(c).user, c.FormValue("advocate"), c.FormValue("requirement"))
	if errs.Is(err, errs.EINVALID) {
		return s.redirectWith(c, back, flash{Kind: "error", Text: errs.MessageOf(err)})
	} else if err != nil {
		return err
	}
	if !r.Sent {
		return s.redirectWith(c, back, flash{Kind: "info", Text: r.To + " has already been reminded about their " + r.What + " today. We send one reminder a day, so nothing more was sent."})
	}
	return s.redirectWith(c, back, flash{Kind: "success", Text: "Reminder sent to " + r.To + " about their " + r.What + ". It is recorded on their history."})
}
