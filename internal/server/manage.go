package server

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/compliance"
)

const advocatesPerPage = 25

// stateColour maps a state to the chart colour (text always accompanies it).
var stateColour = map[compliance.State]string{compliance.Met: "#00703c", compliance.DueSoon: "#8a5300", compliance.Missing: "#b3261e", compliance.Overdue: "#6a1510"}

// dashboardPage is the page struct for GET /manage.
type dashboardPage struct {
	basePage
	Dash         *compliance.Dashboard
	Rows         []dashRow
	Query        compliance.DashboardQuery
	Filtered     bool // some filter is on (a "clear filters" link shows)
	Pager        pager
	Requirements []string
	Labels       map[string]string
	Short        map[string]string // short column headings
	Filters      []option
	Managers     []auth.User
	Statuses     []string
	Headline     []headline
	StatusChart  template.HTML
	CPDChart     template.HTML
	TrendChart   template.HTML
	Trend        []compliance.MonthPoint
	Orgs         []auth.Organisation
	OrgID        string
	OrgQuery     string // "org=…&" for admins looking at another organisation
	CSVURL       string
	JoinRequests int // requests to join the viewer decides
}

// option is one choice of a select.
type option struct{ Value, Label string }

// headline is one of the counts at the top of the dashboard: a link to
// the filter that lists them.
type headline struct {
	Count       int
	Text, URL   string
	Tag, TagCSS string
	ID          string // the link's element ID
}

// dashRow is one advocate's row as the dashboard shows it.
type dashRow struct {
	compliance.Row
	Cells    []ragCell
	NextText string // "DBS check on 3 March 2027 (in 87 days)"
	NextKey  string
	Overdue  bool // the next due date has passed
}

type ragCell struct {
	Label string // the requirement
	State compliance.State
	Due   string // "3 Mar 2027"
	Note  string // the DBS cell: the last Update Service status check
	Alert bool   // the note needs a manager
}

// shortLabels head the dashboard's requirement columns.
var shortLabels = map[string]string{compliance.ReqDBS: "DBS", compliance.ReqReferences: "References", compliance.ReqTraining: "Training",
	compliance.ReqCPD: "CPD", compliance.ReqSupervision: "Supervision", compliance.ReqRegistration: "Registration"}

// dashboardFilters are the "Show" choices, in order.
var dashboardFilters = []option{
	{"", "Everyone"}, {"cleared", "Cleared for allocation"}, {"not-cleared", "Not cleared"},
	{"attention", "Overdue or missing"}, {"overdue", "Overdue"}, {"missing", "Missing"},
	{"due7", "Lapsing within 7 days"}, {"due30", "Lapsing within 30 days"}, {"due60", "Lapsing within 60 days"}, {"due90", "Lapsing within 90 days"},
}

// orgFor returns the organisation a manager works in; admins may pick one.
func (s *Server) orgFor(c *fiber.Ctx) string {
	v := viewerOf(c)
	if v.HasRole("admin") && c.Query("org") != "" {
		return c.Query("org")
	}
	return v.OrgID
}

func dashboardQuery(c *fiber.Ctx) compliance.DashboardQuery {
	q := compliance.DashboardQuery{Search: strings.TrimSpace(c.Query("q")), Filter: c.Query("filter"), Requirement: c.Query("requirement"),
		Overall: compliance.State(c.Query("overall")), Manager: c.Query("manager"), Sort: c.Query("sort"), Status: c.Query("status")}
	if !slices.ContainsFunc(dashboardFilters, func(o option) bool { return o.Value == q.Filter }) {
		q.Filter = ""
	}
	if compliance.RequirementLabels[q.Requirement] == "" {
		q.Requirement = ""
	}
	if q.Overall.Label() == string(q.Overall) {
		q.Overall = "" // not a state
	}
	if q.Status != "all" && !slices.Contains(compliance.AdvocateStatuses, q.Status) {
		q.Status = ""
	}
	return q
}

// dayText writes a date as people read it, short: "3 Mar 2027".
func dayText(t time.Time) string { return t.In(compliance.London).Format("2 Jan 2006") }

// longDay writes a date in full: "3 March 2027".
func longDay(t time.Time) string { return t.In(compliance.London).Format("2 January 2006") }

// inDays says how far a date is from today: "today", "in 1 day", "5 days ago".
func inDays(n int) string {
	switch {
	case n == 0:
		return "today"
	case n == 1:
		return "tomorrow"
	case n == -1:
		return "yesterday"
	case n > 0:
		return fmt.Sprintf("in %d days", n)
	}
	return fmt.Sprintf("%d days ago", -n)
}

func (s *Server) dashRowOf(r compliance.Row) dashRow {
	d := dashRow{Row: r}
	for _, k := range compliance.RequirementKeys {
		cell := ragCell{Label: compliance.RequirementLabels[k], State: r.States[k]}
		if due := r.Due[k]; due != nil {
			cell.Due = dayText(*due)
		}
		if sc := r.LastStatusCheck; k == compliance.ReqDBS && sc != nil {
			// The last Update Service status check, short: the cell is narrow.
			short := sc.Short
			if short == "" {
				short = sc.Words
			}
			on := strings.TrimSuffix(dayText(sc.At), " "+strconv.Itoa(sc.At.In(compliance.London).Year()))
			cell.Note = fmt.Sprintf("Checked %s: %s", on, strings.ToLower(short))
			if sc.Action {
				cell.Note, cell.Alert = fmt.Sprintf("Action needed: %s (checked %s)", strings.ToLower(short), on), true
			}
		}
		d.Cells = append(d.Cells, cell)
	}
	if k, due := r.Next(); due != nil {
		n := civil.Of(s.now()).DaysUntil(civil.Of(*due))
		d.NextKey, d.Overdue = k, n < 0
		verb := "on"
		if n < 0 {
			verb = "was due"
		}
		d.NextText = fmt.Sprintf("%s %s %s (%s)", compliance.RequirementLabels[k], verb, longDay(*due), inDays(n))
	}
	return d
}

// handleDashboard handles GET /manage: the organisation's advocates at a glance.
func (s *Server) handleDashboard(c *fiber.Ctx) error {
	q := dashboardQuery(c)
	q.Offset, q.Limit = pageOffset(c, advocatesPerPage), advocatesPerPage
	org := s.orgFor(c)
	d, err := s.comply.Dashboard(c.UserContext(), org, q)
	if err != nil {
		return err
	}
	p := &dashboardPage{basePage: basePage{Title: "Advocates"}, Dash: d, Query: q, Pager: newPager(c, advocatesPerPage, d.Total),
		Requirements: compliance.RequirementKeys, Labels: compliance.RequirementLabels, Short: shortLabels, Filters: dashboardFilters,
		Statuses: compliance.AdvocateStatuses, OrgID: org, CSVURL: "/manage/advocates.csv?" + string(c.Request().URI().QueryString()),
		Trend: d.Trend}
	p.Filtered = q.Search != "" || q.Filter != "" || q.Requirement != "" || q.Overall != "" || q.Manager != "" || q.Status != ""
	if viewerOf(c).HasRole("admin") && c.Query("org") != "" {
		p.OrgQuery = "org=" + url.QueryEscape(org) + "&"
	}
	for _, r := range d.Rows {
		p.Rows = append(p.Rows, s.dashRowOf(r))
	}
	link := func(v string) string { return "/manage?" + p.OrgQuery + v }
	p.Headline = []headline{
		{Count: d.Cleared, Text: fmt.Sprintf("of %d cleared for allocation", d.Advocates), URL: link("filter=cleared"), ID: "count-cleared-link"},
		{Count: d.Advocates - d.Cleared, Text: "not cleared", URL: link("filter=not-cleared")},
		{Count: d.Lapsing30, Text: "requirements lapsing within 30 days", URL: "/manage/lapsing?" + p.OrgQuery + "within=30", ID: "lapsing-30-link"},
	}
	states := []compliance.State{compliance.Met, compliance.DueSoon, compliance.Missing, compliance.Overdue}
	css := map[compliance.State]string{compliance.Met: "tag-met", compliance.DueSoon: "tag-due", compliance.Missing: "tag-missing", compliance.Overdue: "tag-overdue"}
	var labels []string
	var vals []float64
	var cols []string
	for _, st := range states {
		p.Headline = append(p.Headline, headline{Count: d.Counts[st], Tag: st.Label(), TagCSS: css[st], Text: "overall", URL: link("overall=" + string(st))})
		labels, vals, cols = append(labels, st.Label()), append(vals, float64(d.Counts[st])), append(cols, stateColour[st])
	}
	p.StatusChart = barChart("Advocates by overall status", labels, vals, cols, "")
	p.CPDChart = barChart("CPD hours recorded per month, last 12 months", d.Months, d.CPDMonths, nil, " hours")
	p.TrendChart = trendChart(d.Trend)
	if p.Managers, err = s.comply.Managers(c.UserContext(), org); err != nil {
		return err
	}
	if p.JoinRequests, err = s.auth.CountJoinRequests(c.UserContext(), viewerOf(c).user); err != nil {
		return err
	}
	if viewerOf(c).HasRole("admin") {
		if p.Orgs, err = s.auth.Organisations(c.UserContext()); err != nil {
			return err
		}
	}
	return s.render(c, fiber.StatusOK, "dashboard", p)
}

// handleDashboardCSV handles GET /manage/advocates.csv: every matching row.
func (s *Server) handleDashboardCSV(c *fiber.Ctx) error {
	d, err := s.comply.Dashboard(c.UserContext(), s.orgFor(c), dashboardQuery(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="advocates-compliance.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	head := []string{"Name", "Status", "Profession", "Overall", "Cleared for allocation"}
	for _, k := range compliance.RequirementKeys {
		head = append(head, compliance.RequirementLabels[k], compliance.RequirementLabels[k]+" due")
	}
	_ = w.Write(head)
	for _, r := range d.Rows {
		row := []string{csvSafe(r.Name), r.Status, r.Profession, r.Overall.Label(), map[bool]string{true: "Yes", false: "No"}[r.Cleared]}
		for _, k := range compliance.RequirementKeys {
			due := ""
			if r.Due[k] != nil {
				due = r.Due[k].In(compliance.London).Format("2006-01-02")
			}
			row = append(row, r.States[k].Label(), due)
		}
		_ = w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// csvSafe stops a spreadsheet reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// policyPage is the page struct for GET /manage/policy.
type policyPage struct {
	basePage
	Policy      *compliance.Policy
	Professions []struct{ Value, Label, Body string }
	Titles      map[string]string
	Back        string // where the page was reached from: the dashboard or the advocate's own page
	// StatusChecksOn says whether this installation runs DBS Update
	// Service status checks itself (LMS_DBS_UPDATE_URL is set).
	StatusChecksOn bool
}

// handlePolicy handles GET /manage/policy and, for advocates,
// /my/compliance/policy: the compliance policy, read-only.
func (s *Server) handlePolicy(c *fiber.Ctx) error {
	p := &policyPage{basePage: basePage{Title: "Compliance policy"}, Policy: s.comply.Policy, Professions: compliance.Professions, Titles: map[string]string{},
		Back: "/manage", StatusChecksOn: s.comply.StatusChecker != nil}
	if strings.HasPrefix(c.Path(), "/my/") {
		p.Back = "/my/compliance"
	}
	for _, m := range s.comply.Policy.MandatoryCourses {
		p.Titles[m.Course] = s.comply.CourseTitle(m.Course)
	}
	return s.render(c, fiber.StatusOK, "policy", p)
}

// profileView is what the profile fields partial shows.
type profileView struct {
	Form        *formState
	Professions []struct{ Value, Label, Body string }
	Statuses    []string
	Managers    []auth.User
}

// newAdvocatePage is the page struct for GET/POST /manage/advocates/new.
type newAdvocatePage struct {
	basePage
	Form    *formState
	Profile profileView
}

func (s *Server) renderNewAdvocate(c *fiber.Ctx, status int, f *formState) error {
	ms, err := s.comply.Managers(c.UserContext(), viewerOf(c).OrgID)
	if err != nil {
		return err
	}
	return s.render(c, status, "advocate_new", &newAdvocatePage{basePage: basePage{Title: "Add an advocate"}, Form: f,
		Profile: profileView{Form: f, Professions: compliance.Professions, Statuses: compliance.AdvocateStatuses, Managers: ms}})
}

// handleNewAdvocateForm handles GET /manage/advocates/new.
func (s *Server) handleNewAdvocateForm(c *fiber.Ctx) error {
	return s.renderNewAdvocate(c, fiber.StatusOK, emptyForm(map[string]string{"status": compliance.StatusOnboarding, "manager_id": viewerOf(c).ID}))
}

var profileFields = []string{"name", "email", "profession", "professional_body", "registration_no", "registration_due", "contract_start", "status", "manager_id"}

func profileForm(f *formState) compliance.ProfileForm {
	return compliance.ProfileForm{Name: f.Get("name"), Email: f.Get("email"), Profession: f.Get("profession"), ProfessionalBody: f.Get("professional_body"),
		RegistrationNo: f.Get("registration_no"), RegistrationDue: f.Get("registration_due"), ContractStart: f.Get("contract_start"),
		Status: f.Get("status"), ManagerID: f.Get("manager_id")}
}

// handleCreateAdvocate handles POST /manage/advocates.
func (s *Server) handleCreateAdvocate(c *fiber.Ctx) error {
	f := newForm(c, profileFields...)
	a, err := s.comply.Create(c.UserContext(), viewerOf(c).user, profileForm(f))
	if err != nil {
		if f.absorb(err) {
			return s.renderNewAdvocate(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/manage/advocates/"+a.ID, flash{Kind: "success", Text: a.Name + " has been added. We have emailed them a link to choose a password."})
}

// handleReportPDF handles GET /manage/report.pdf: the organisation's report.
func (s *Server) handleOrgReportPDF(c *fiber.Ctx) error {
	org := s.orgFor(c)
	d, err := s.comply.Dashboard(c.UserContext(), org, compliance.DashboardQuery{})
	if err != nil {
		return err
	}
	name := org
	if o, err := s.auth.Organisation(c.UserContext(), org); err == nil {
		name = o.Name
	}
	pdf, err := s.comply.OrganisationReport(name, d, s.now())
	if err != nil {
		return err
	}
	return sendFile(c, pdf, "application/pdf", "compliance-report-"+s.now().Format("2006-01-02")+".pdf")
}

func sendFile(c *fiber.Ctx, body []byte, contentType, name string) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(body)
}

func parseIntDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
