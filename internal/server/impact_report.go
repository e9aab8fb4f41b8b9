package server

import (
	"bytes"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/impact"
)

// The impact report: what learners said a course did for them, per course
// and period. Admins see every organisation (or choose one) and the
// comments still to be marked publishable, and the course authors' view
// (questions and lessons); a manager sees their own organisation's people
// only.

// impactPage is the page struct for GET /manage/impact.
type impactPage struct {
	basePage
	Courses    []*courses.Course
	Course     string
	From, To   string
	Org        string
	Orgs       []auth.Organisation
	OrgName    string
	Admin      bool
	Report     *impact.Report
	Confidence template.HTML
	Trend      template.HTML
	Query      string // the page's query, for the CSV and PDF links
	Form       *formState
}

// Percent, Mean, Signed and People format figures for the template.
func (p *impactPage) Percent(f impact.Figure) string { return impact.Percent(f) }
func (p *impactPage) Mean(f impact.Figure) string    { return impact.Mean(f) }
func (p *impactPage) Signed(f impact.Figure) string  { return impact.Signed(f) }
func (p *impactPage) People(n impact.Count) string   { return impact.People(n) }

// MonthLabel writes "2027-01" as "January 2027".
func (p *impactPage) MonthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("January 2006")
}

// impactQuery reads the report's course, period and organisation from the
// query, with defaults: the first course, the last 12 months, and for a
// manager their own organisation whatever the query says.
func (s *Server) impactQuery(c *fiber.Ctx) (*impactPage, error) {
	v := viewerOf(c)
	p := &impactPage{basePage: basePage{Title: "Training impact"}, Courses: s.learn.Catalogue.All(), Admin: v.HasRole("admin"), Form: emptyForm(nil)}
	if len(p.Courses) == 0 {
		return nil, errs.E(errs.ENOTFOUND, "There are no courses yet.")
	}
	now := civil.Of(s.now())
	p.Course, p.From, p.To = c.Query("course", p.Courses[0].Slug), c.Query("from"), c.Query("to")
	if p.To == "" {
		p.To = now.Midnight().Format("2006-01")
	}
	if p.From == "" {
		p.From = now.AddMonths(-11).Midnight().Format("2006-01")
	}
	p.Form.Values = map[string]string{"course": p.Course, "from": p.From, "to": p.To}
	if _, err := s.learn.Catalogue.Get(p.Course); err != nil {
		p.Form.Errors["course"] = "Choose a course"
		p.Course = p.Courses[0].Slug
	}
	if p.Admin {
		p.Org = c.Query("org")
		orgs, err := s.auth.Organisations(c.UserContext())
		if err != nil {
			return nil, err
		}
		p.Orgs = orgs
	} else {
		p.Org = v.OrgID
	}
	p.OrgName = "All organisations"
	if p.Org != "" {
		p.OrgName = p.Org
		if o, err := s.auth.Organisation(c.UserContext(), p.Org); err == nil {
			p.OrgName = o.Name
		}
	}
	q := "?course=" + p.Course + "&from=" + p.From + "&to=" + p.To
	if p.Admin && p.Org != "" {
		q += "&org=" + p.Org
	}
	p.Query = q
	return p, nil
}

// handleImpact handles GET /manage/impact.
func (s *Server) handleImpact(c *fiber.Ctx) error {
	p, err := s.impactQuery(c)
	if err != nil {
		return err
	}
	if len(p.Form.Errors) == 0 {
		p.Report, err = s.impact.Report(c.UserContext(), p.Course, p.From, p.To, p.Org, p.Admin)
		if p.Form.absorb(err) {
			return s.render(c, fiber.StatusUnprocessableEntity, "impact", p)
		}
		if err != nil {
			return err
		}
		p.Confidence, p.Trend = impact.ConfidenceChart(p.Report), impact.TrendChart(p.Report)
	}
	return s.render(c, fiber.StatusOK, "impact", p)
}

// handleImpactCSV handles GET /manage/impact.csv: anonymous rows.
func (s *Server) handleImpactCSV(c *fiber.Ctx) error {
	p, err := s.impactQuery(c)
	if err != nil {
		return err
	}
	course, err := s.learn.Catalogue.Get(p.Course)
	if err != nil {
		return err
	}
	docs, err := s.impact.Docs(c.UserContext(), p.Course, p.From, p.To)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := impact.WriteCSV(&b, course, docs, p.From, p.To, p.Org); err != nil {
		return err
	}
	return sendFile(c, b.Bytes(), "text/csv; charset=utf-8", "training-impact-"+p.Course+"-"+p.From+"-to-"+p.To+".csv")
}

// handleImpactPDF handles GET /manage/impact.pdf: the summary for a funder.
func (s *Server) handleImpactPDF(c *fiber.Ctx) error {
	p, err := s.impactQuery(c)
	if err != nil {
		return err
	}
	r, err := s.impact.Report(c.UserContext(), p.Course, p.From, p.To, p.Org, false)
	if err != nil {
		return err
	}
	pdf, err := impact.SummaryPDF(r, p.OrgName, s.now(), s.comply.Fonts.Regular, s.comply.Fonts.Bold)
	if err != nil {
		return err
	}
	return sendFile(c, pdf, "application/pdf", "training-impact-"+p.Course+"-"+p.From+"-to-"+p.To+".pdf")
}

// handleImpactComment handles POST /admin/impact/comments: an admin marks
// a comment publishable, or takes the mark off.
func (s *Server) handleImpactComment(c *fiber.Ctx) error {
	publish := c.FormValue("publish") == "yes"
	if err := s.impact.SetPublished(c.UserContext(), c.FormValue("ref"), publish); err != nil {
		return err
	}
	v := viewerOf(c)
	if err := s.audit.Record(c.UserContext(), audit.Event{ActorID: v.ID, Actor: v.Name, Action: "impact.comment_published", Target: "course:" + c.FormValue("course"),
		After: map[string]any{"published": publish}}); err != nil {
		return err
	}
	text := "The comment is no longer published."
	if publish {
		text = "The comment is marked publishable: it is in the report's PDF and on managers' reports, without any name."
	}
	back := "/manage/impact?course=" + c.FormValue("course") + "&from=" + c.FormValue("from") + "&to=" + c.FormValue("to") + "#comments"
	return s.redirectWith(c, back, flash{Kind: "success", Text: text})
}
