package server

import (
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// advocatePage is the page struct for the advocate's page, for managers
// (GET /manage/advocates/:id) and for the advocate (GET /my/compliance).
type advocatePage struct {
	basePage
	A            *compliance.Advocate
	Self         bool // the advocate looking at their own record
	Requirements []requirementView
	Progress     compliance.CPDProgress
	CPDChart     any
	Forms        map[string]*formState
	Revealed     map[string]string // DBS check ID → certificate number, just revealed
	Notes        map[string]string // record ID → decrypted notes (managers only)
	Professions  []struct{ Value, Label, Body string }
	Statuses     []string
	Managers     []auth.User
	Courses      []*courses.Course
	MyCourses    []myCourse // on the advocate's own page: their mandatory courses
	Policy       *compliance.Policy
	Lists        map[string][]string
	Base         string // URL prefix of the record forms
	Sections     []section
	ManagerName  string
	History      []eventView // managers only: the record's audit events, newest first
	HistoryOlder string      // the next page of them
	HistoryPaged bool        // this is not the newest page
	// LatestDBS is the ID of the DBS check the requirement is judged on
	// (its status checks and consent are shown); StatusChecksOn says
	// whether this installation runs status checks itself.
	LatestDBS      string
	StatusChecksOn bool
}

// statusView is the "Status checks by the app" part of a DBS check.
type statusView struct {
	P    *advocatePage
	D    *compliance.DBSCheck
	On   bool
	Next *time.Time
	Last *compliance.StatusSummary
}

// ConsentLabel is the consent checkbox's words: the advocate's own
// agreement, or the manager's statement that the signed form is held.
func (v statusView) ConsentLabel() string {
	if v.P.Self {
		return "I agree that the organisation checks my DBS certificate on the Update Service, as often as its policy says, until I withdraw my consent"
	}
	return "I hold " + v.P.A.Name + "'s signed consent to status checks on the Update Service"
}

// StatusView returns the status-check part of the latest DBS check.
func (p *advocatePage) StatusView(d compliance.DBSCheck) statusView {
	v := statusView{P: p, D: &d, On: p.StatusChecksOn}
	for i := range p.A.DBS {
		if p.A.DBS[i].ID == d.ID {
			v.D = &p.A.DBS[i]
		}
	}
	if _, next := p.Policy.NextAutoCheck(p.A); next != nil && v.On {
		v.Next = next
	}
	if v.D.ID == p.LatestDBS {
		v.Last = compliance.StatusSummaryOf(p.A)
	}
	return v
}

// ReviewNote returns the reason a manager gave for a decision on a status
// check (managers only).
func (p *advocatePage) ReviewNote(checkID string, at time.Time) string {
	return p.Notes[reviewNoteKey(checkID, at)]
}

func reviewNoteKey(checkID string, at time.Time) string {
	return "review-" + checkID + "-" + at.In(compliance.London).Format(time.DateOnly)
}

// HistoryTable is the record's history for the auditEvents partial.
func (p *advocatePage) HistoryTable() auditTable {
	return auditTable{Events: p.History, Label: "History of this record"}
}

// historyPerPage is how many events the history section shows at once.
const historyPerPage = 20

// section is one part of the advocate's record, reached from the
// contents list at the top by its anchor.
type section struct{ ID, Title string }

// FlashFor returns the message of a save that returned to the section.
func (p *advocatePage) FlashFor(id string) *flash {
	if p.Flash != nil && p.Flash.Section == id {
		return p.Flash
	}
	return nil
}

// requirementSection is where each requirement's records are kept.
var requirementSection = map[string]string{compliance.ReqDBS: "dbs", compliance.ReqReferences: "references", compliance.ReqTraining: "training",
	compliance.ReqCPD: "cpd", compliance.ReqSupervision: "supervision", compliance.ReqRegistration: "profile"}

// sectionOf names the section a form's save returns to.
func sectionOf(form string) string {
	kind, _, _ := strings.Cut(form, "-")
	switch kind {
	case "status", "decision", "dbs", "consent", "review", "checknow":
		return "dbs"
	case "outcome", "reference":
		return "references"
	case "profile", "training", "cpd", "supervision":
		return kind
	}
	return "summary"
}

// myCourse is one of an advocate's mandatory courses and when they last
// completed it (zero: not yet).
type myCourse struct {
	Slug, Title string
	Completed   time.Time
}

type requirementView struct {
	compliance.Requirement
	Label   string
	Section string // the anchor of its records
}

// Form returns a named form's state (never nil).
func (p *advocatePage) Form(name string) *formState {
	if f, ok := p.Forms[name]; ok {
		return f
	}
	return emptyForm(nil)
}

// Profile returns the profile form for the profile fields partial.
func (p *advocatePage) Profile() profileView {
	return profileView{Form: p.Form("profile"), Professions: p.Professions, Statuses: p.Statuses, Managers: p.Managers}
}

// Mandatory reports whether a course is mandatory for this advocate.
func (p *advocatePage) Mandatory(slug string) bool {
	if p.Policy.Requires(slug) {
		return true
	}
	for _, m := range p.A.MandatoryCourses {
		if m == slug {
			return true
		}
	}
	return false
}

func (s *Server) advocatePage(c *fiber.Ctx, a *compliance.Advocate, self bool) (*advocatePage, error) {
	p := &advocatePage{basePage: basePage{Title: a.Name}, A: a, Self: self, Forms: map[string]*formState{}, Revealed: map[string]string{}, Notes: map[string]string{},
		Professions: compliance.Professions, Statuses: compliance.AdvocateStatuses, Courses: s.learn.Catalogue.All(), Policy: s.comply.Policy,
		Lists: map[string][]string{"levels": compliance.DBSLevels, "workforces": compliance.Workforces, "results": compliance.CheckResults,
			"decisions": compliance.Decisions, "statusdecisions": compliance.StatusDecisions, "eligibility": compliance.RoleEligibility, "outcomes": compliance.Outcomes, "cpdtypes": compliance.CPDTypes}}
	p.Base = "/manage/advocates/" + a.ID
	p.StatusChecksOn = s.comply.StatusChecker != nil
	if d := a.LatestDBS(); d != nil {
		p.LatestDBS = d.ID
	}
	// Newest first, whatever order they were recorded in (a copy: the
	// evidence links use the entry's ID, not its place).
	a.CPD = slices.Clone(a.CPD)
	slices.SortStableFunc(a.CPD, func(x, y compliance.CPDEntry) int { return y.Date.Compare(x.Date) })
	a.Supervisions = slices.Clone(a.Supervisions)
	slices.SortStableFunc(a.Supervisions, func(x, y compliance.Supervision) int { return y.Date.Compare(x.Date) })
	p.Sections = []section{{"summary", "Summary"}, {"dbs", "DBS checks"}, {"references", "References"}, {"cpd", "CPD"}, {"supervision", "Supervision"}, {"training", "Mandatory training"}}
	if !self {
		p.Sections = append(p.Sections, section{"profile", "Profile and registration"}, section{"history", "History"})
	}
	if self {
		p.Base = "/my/compliance"
		p.Title = "My compliance"
		for _, co := range p.Courses {
			if p.Mandatory(co.Slug) {
				p.MyCourses = append(p.MyCourses, myCourse{Slug: co.Slug, Title: co.Title, Completed: a.Training[co.Slug]})
			}
		}
	}
	for _, r := range a.Snapshot.Requirements {
		p.Requirements = append(p.Requirements, requirementView{Requirement: r, Label: compliance.RequirementLabels[r.Key], Section: requirementSection[r.Key]})
	}
	p.Progress = compliance.Progress(s.comply.Policy.Rule(a.Profession), a.CPD, s.now())
	row := s.comply.RowOf(a)
	months := make([]string, 12)
	first := s.now().In(compliance.London).AddDate(0, -11, 0)
	for i := range months {
		months[i] = first.AddDate(0, i, 0).Format("Jan")
	}
	p.CPDChart = barChart("CPD hours per month, last 12 months", months, row.CPDMonths, nil, " hours")
	p.Forms["profile"] = emptyForm(map[string]string{"profession": a.Profession, "professional_body": a.ProfessionalBody, "registration_no": a.RegistrationNo,
		"registration_due": isoDate(a.RegistrationDue), "contract_start": isoDate(a.ContractStart), "status": a.Status, "manager_id": a.ManagerID})
	if !self {
		var err error
		if p.Managers, err = s.comply.Managers(c.UserContext(), a.OrgID); err != nil {
			return nil, err
		}
		for _, m := range p.Managers {
			if m.ID == a.ManagerID {
				p.ManagerName = m.Name
			}
		}
		for i := range a.DBS {
			d := &a.DBS[i]
			for j := range d.StatusChecks {
				if sc := &d.StatusChecks[j]; sc.Review != nil {
					p.Notes[reviewNoteKey(d.ID, sc.Date)] = s.comply.ReviewReason(a, d, sc)
				}
			}
			p.Notes[d.ID] = s.comply.Notes(a, "dbs-notes", d.ID, d.DecisionNotes)
			p.Forms["decision-"+d.ID] = emptyForm(map[string]string{"decision": d.Decision}) // the decision form shows the current one
		}
		for _, r := range a.References {
			p.Notes[r.ID] = s.comply.Notes(a, "reference-notes", r.ID, r.Notes)
		}
		for _, sp := range a.Supervisions {
			p.Notes[sp.ID] = s.comply.Notes(a, "supervision-notes", sp.ID, sp.Notes)
		}
		// Showing decrypted notes is a view of a sensitive field: audited.
		var shown []string
		for id, n := range p.Notes {
			if rest, ok := strings.CutPrefix(id, "review-"); ok {
				id = rest[:len(rest)-len("-2006-01-02")] // a status review's reason: its DBS check
			}
			if n != "" && !slices.Contains(shown, id) {
				shown = append(shown, id)
			}
		}
		if len(shown) > 0 {
			slices.Sort(shown)
			if err := s.comply.NotesViewed(c.UserContext(), viewerOf(c).user, a, shown); err != nil {
				return nil, err
			}
		}
		if err := s.advocateHistory(c, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// advocateHistory fills the history section: a page of the record's
// audit events (one list read), continuing from ?before=.
func (s *Server) advocateHistory(c *fiber.Ctx, p *advocatePage) error {
	if s.audit == nil {
		return nil
	}
	before := c.Query("before")
	pg, err := s.audit.EventsPage(c.UserContext(), audit.Query{Target: "advocate:" + p.A.ID, Before: before, Limit: historyPerPage})
	if err != nil {
		return err
	}
	if p.History, err = s.eventViews(c.UserContext(), viewerOf(c).user, pg.Events, p.A); err != nil {
		return err
	}
	p.HistoryPaged = before != ""
	if pg.Next != "" {
		p.HistoryOlder = p.Base + "?before=" + url.QueryEscape(pg.Next) + "#history"
	}
	return nil
}

func isoDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(compliance.London).Format("2006-01-02")
}

// handleAdvocate handles GET /manage/advocates/:id.
func (s *Server) handleAdvocate(c *fiber.Ctx) error {
	return s.renderAdvocate(c, fiber.StatusOK, "", nil, nil)
}

// renderAdvocate shows the advocate page, with one form's input and
// problems when it failed, or a revealed DBS number.
func (s *Server) renderAdvocate(c *fiber.Ctx, status int, form string, f *formState, revealed map[string]string) error {
	v := viewerOf(c)
	id := c.Params("id")
	// Someone opening their own record from the managers' pages sees it as
	// its subject does: no notes about them, no forms to act on it.
	self := id == "" || id == v.ID
	if id == "" {
		id = v.ID
	}
	a, err := s.comply.Get(c.UserContext(), v.user, id)
	if err != nil {
		return err
	}
	p, err := s.advocatePage(c, a, self)
	if err != nil {
		return err
	}
	if form != "" {
		p.Forms[form] = f
	} else {
		p.Flash = s.takeFlash(c)
	}
	for k, n := range revealed {
		p.Revealed[k] = n
	}
	return s.render(c, status, "advocate", p)
}

// recordAction runs a change to an advocate's records from a form and
// redirects to the page, or shows the page again with the form's problems.
func (s *Server) recordAction(c *fiber.Ctx, form string, f *formState, done string, fn func(actor *auth.User, id string) error) error {
	return s.recordActionIn(c, sectionOf(form), form, f, done, fn)
}

// recordActionIn is recordAction returning to a named section of the page.
func (s *Server) recordActionIn(c *fiber.Ctx, sec, form string, f *formState, done string, fn func(actor *auth.User, id string) error) error {
	v := viewerOf(c)
	id := c.Params("id")
	back := "/manage/advocates/" + id
	if id == "" {
		id, back = v.ID, "/my/compliance"
	}
	if err := fn(v.user, id); err != nil {
		if f.absorb(err) {
			return s.renderAdvocate(c, statusFor(err), form, f, nil)
		}
		return err
	}
	return s.redirectWith(c, back+"#"+sec, flash{Kind: "success", Text: done, Section: sec})
}

// handleAdvocateProfile handles POST /manage/advocates/:id/profile.
func (s *Server) handleAdvocateProfile(c *fiber.Ctx) error {
	f := newForm(c, profileFields...)
	return s.recordAction(c, "profile", f, "Profile saved.", func(actor *auth.User, id string) error {
		_, err := s.comply.UpdateProfile(c.UserContext(), actor, id, profileForm(f))
		return err
	})
}

// handleAdvocateTraining handles POST /manage/advocates/:id/training.
func (s *Server) handleAdvocateTraining(c *fiber.Ctx) error {
	var slugs []string
	for _, v := range c.Request().PostArgs().PeekMulti("courses") {
		slugs = append(slugs, string(v))
	}
	return s.recordAction(c, "training", emptyForm(nil), "Mandatory training saved.", func(actor *auth.User, id string) error {
		_, err := s.comply.SetMandatoryCourses(c.UserContext(), actor, id, slugs)
		return err
	})
}

// upload reads one file field of a multipart form; nil when none was sent.
func upload(c *fiber.Ctx, field string) ([]*compliance.Upload, error) {
	mf, err := c.MultipartForm()
	if err != nil {
		return nil, nil // not multipart: no files
	}
	var out []*compliance.Upload
	for _, fh := range mf.File[field] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		u, err := readUpload(fh)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func readUpload(fh *multipart.FileHeader) (*compliance.Upload, error) {
	u := &compliance.Upload{Name: fh.Filename, Size: fh.Size}
	if fh.Size > compliance.MaxUpload {
		return u, nil // refused by CheckUpload without reading it
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	u.Data, err = io.ReadAll(io.LimitReader(f, compliance.MaxUpload+1))
	return u, err
}

var dbsFields = []string{"level", "workforce", "certificate_number", "issue_date", "original_seen_by", "original_seen_at", "decision", "decision_notes", "barred_children", "barred_adults", "update_service", "scan", "role_eligible", "eligibility_reason"}

// handleAddDBS handles POST /manage/advocates/:id/dbs (with an optional scan).
func (s *Server) handleAddDBS(c *fiber.Ctx) error {
	f := newForm(c, dbsFields...)
	f.Values["certificate_number"] = "" // never shown back in the page
	files, err := upload(c, "scan")
	if err != nil {
		return err
	}
	return s.recordAction(c, "dbs", f, "DBS check recorded.", func(actor *auth.User, id string) error {
		var scan *compliance.Upload
		if len(files) > 0 {
			scan = files[0]
		}
		_, err := s.comply.AddDBS(c.UserContext(), actor, id, compliance.DBSForm{Level: f.Get("level"), Workforce: f.Get("workforce"),
			CertificateNumber: c.FormValue("certificate_number"), IssueDate: f.Get("issue_date"), OriginalSeenBy: f.Get("original_seen_by"),
			OriginalSeenAt: f.Get("original_seen_at"), Decision: f.Get("decision"), DecisionNotes: f.Get("decision_notes"),
			RoleEligible: f.Get("role_eligible"), EligibilityReason: f.Get("eligibility_reason"),
			BarredChildren: f.Get("barred_children") != "", BarredAdults: f.Get("barred_adults") != "", UpdateService: f.Get("update_service") != ""}, scan)
		return err
	})
}

// handleAddStatusCheck handles POST /manage/advocates/:id/dbs/:check/status-check.
func (s *Server) handleAddStatusCheck(c *fiber.Ctx) error {
	f := newForm(c, "check_date", "result")
	return s.recordAction(c, "status-"+c.Params("check"), f, "Status check recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.AddStatusCheck(c.UserContext(), actor, id, c.Params("check"), compliance.StatusCheckForm{Date: f.Get("check_date"), Result: f.Get("result")})
		return err
	})
}

// handleDecideDBS handles POST /manage/advocates/:id/dbs/:check/decision.
func (s *Server) handleDecideDBS(c *fiber.Ctx) error {
	f := newForm(c, "decision", "decision_notes")
	return s.recordAction(c, "decision-"+c.Params("check"), f, "Decision recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.DecideDBS(c.UserContext(), actor, id, c.Params("check"), compliance.DecisionForm{Decision: f.Get("decision"), Notes: f.Get("decision_notes")})
		return err
	})
}

// handleReferenceOutcome handles POST /manage/advocates/:id/references/:ref/outcome.
func (s *Server) handleReferenceOutcome(c *fiber.Ctx) error {
	f := newForm(c, "received_at", "outcome")
	return s.recordAction(c, "outcome-"+c.Params("ref"), f, "Reference recorded as received.", func(actor *auth.User, id string) error {
		_, err := s.comply.RecordReferenceOutcome(c.UserContext(), actor, id, c.Params("ref"), compliance.OutcomeForm{ReceivedAt: f.Get("received_at"), Outcome: f.Get("outcome")})
		return err
	})
}

// handleRevealDBS handles POST /manage/advocates/:id/dbs/:check/reveal: the
// number is shown once, on this response, and the view is audited.
func (s *Server) handleRevealDBS(c *fiber.Ctx) error {
	n, err := s.comply.RevealDBSNumber(c.UserContext(), viewerOf(c).user, c.Params("id"), c.Params("check"))
	if err != nil {
		return err
	}
	return s.renderAdvocate(c, fiber.StatusOK, "", nil, map[string]string{c.Params("check"): n})
}

var referenceFields = []string{"referee", "relationship", "organisation", "contact", "requested_at", "received_at", "outcome", "notes", "verified_directly"}

// handleAddReference handles POST /manage/advocates/:id/references.
func (s *Server) handleAddReference(c *fiber.Ctx) error {
	f := newForm(c, referenceFields...)
	return s.recordAction(c, "reference", f, "Reference recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.AddReference(c.UserContext(), actor, id, compliance.ReferenceForm{Referee: f.Get("referee"), Relationship: f.Get("relationship"),
			Organisation: f.Get("organisation"), Contact: f.Get("contact"), RequestedAt: f.Get("requested_at"), ReceivedAt: f.Get("received_at"),
			Outcome: f.Get("outcome"), Notes: f.Get("notes"), VerifiedDirectly: f.Get("verified_directly") != ""})
		return err
	})
}

// handleVerifyReference handles POST /manage/advocates/:id/references/:ref/verify.
func (s *Server) handleVerifyReference(c *fiber.Ctx) error {
	return s.recordActionIn(c, "references", "", emptyForm(nil), "Reference marked as verified directly with the referee.", func(actor *auth.User, id string) error {
		_, err := s.comply.VerifyReference(c.UserContext(), actor, id, c.Params("ref"))
		return err
	})
}

var cpdFields = []string{"date", "title", "type", "hours", "learnt", "impact", "peer_name", "peer_date", "evidence"}

// handleAddCPD handles POST /manage/advocates/:id/cpd and POST /my/compliance/cpd.
func (s *Server) handleAddCPD(c *fiber.Ctx) error {
	f := newForm(c, cpdFields...)
	files, err := upload(c, "evidence")
	if err != nil {
		return err
	}
	return s.recordAction(c, "cpd", f, "CPD entry recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.AddCPD(c.UserContext(), actor, id, compliance.CPDForm{Date: f.Get("date"), Title: f.Get("title"), Type: f.Get("type"),
			Hours: f.Get("hours"), Learnt: f.Get("learnt"), Impact: f.Get("impact"), PeerName: f.Get("peer_name"), PeerDate: f.Get("peer_date")}, files)
		return err
	})
}

// handleVerifyCPD handles POST /manage/advocates/:id/cpd/:entry/verify.
func (s *Server) handleVerifyCPD(c *fiber.Ctx) error {
	return s.recordActionIn(c, "cpd", "", emptyForm(nil), "CPD entry verified.", func(actor *auth.User, id string) error {
		_, err := s.comply.VerifyCPD(c.UserContext(), actor, id, c.Params("entry"))
		return err
	})
}

// handleDeleteRecord handles POST …/:kind/:record/delete: removes a CPD
// entry, reference or supervision.
func (s *Server) handleDeleteRecord(c *fiber.Ctx) error {
	kind := c.Params("kind")
	what := map[string]string{compliance.KindCPD: "CPD entry", compliance.KindReference: "Reference", compliance.KindSupervision: "Supervision"}[kind]
	if what == "" {
		return errs.E(errs.ENOTFOUND, "There is no such kind of record.")
	}
	sec := map[string]string{compliance.KindCPD: "cpd", compliance.KindReference: "references", compliance.KindSupervision: "supervision"}[kind]
	return s.recordActionIn(c, sec, "", emptyForm(nil), what+" removed.", func(actor *auth.User, id string) error {
		_, err := s.comply.DeleteRecord(c.UserContext(), actor, id, kind, c.Params("record"))
		return err
	})
}

// handleEvidence handles GET …/cpd/:entry/evidence/:n: one evidence file.
func (s *Server) handleEvidence(c *fiber.Ctx) error {
	id := c.Params("id")
	if id == "" {
		id = viewerOf(c).ID
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || strconv.Itoa(n) != c.Params("n") {
		return errs.E(errs.ENOTFOUND, "We could not find that file.")
	}
	sctx, done := s.streamContext(c)
	ev, r, err := s.comply.Evidence(sctx, viewerOf(c).user, id, c.Params("entry"), n)
	if err != nil {
		done()
		return err
	}
	c.Set(fiber.HeaderContentType, ev.ContentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(ev.Name, `"`, "")+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Response().SetBodyStream(closeThen{r, done}, int(ev.Size))
	return nil
}

var supervisionFields = []string{"sup_date", "supervisor", "kind", "sup_notes"}

// handleAddSupervision handles POST /manage/advocates/:id/supervisions.
func (s *Server) handleAddSupervision(c *fiber.Ctx) error {
	f := newForm(c, supervisionFields...)
	return s.recordAction(c, "supervision", f, "Supervision recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.AddSupervision(c.UserContext(), actor, id, compliance.SupervisionForm{Date: f.Get("sup_date"), Supervisor: f.Get("supervisor"),
			Kind: f.Get("kind"), Notes: f.Get("sup_notes")})
		return err
	})
}

// handleCPDCSV handles GET …/cpd.csv: the CPD record with the fields Social
// Work England's CPD record asks for.
func (s *Server) handleCPDCSV(c *fiber.Ctx) error {
	id := c.Params("id")
	if id == "" {
		id = viewerOf(c).ID
	}
	a, err := s.comply.Get(c.UserContext(), viewerOf(c).user, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="cpd-record.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	_ = w.Write([]string{"Date", "Type of CPD", "Title / description", "Hours", "What I learnt", "Impact on my practice", "Peer reflection with", "Peer reflection date", "Source", "Verified by"})
	for _, e := range a.CPD {
		peer := ""
		if e.PeerDate != nil {
			peer = e.PeerDate.In(compliance.London).Format("2006-01-02")
		}
		_ = w.Write([]string{e.Date.In(compliance.London).Format("2006-01-02"), compliance.Label(e.Type), csvSafe(e.Title), trimNum(e.Hours),
			csvSafe(e.Learnt), csvSafe(e.Impact), csvSafe(e.PeerName), peer, e.Source, csvSafe(e.VerifiedBy)})
	}
	w.Flush()
	return w.Error()
}

// handleAdvocateReportPDF handles GET /manage/advocates/:id/report.pdf.
func (s *Server) handleAdvocateReportPDF(c *fiber.Ctx) error {
	a, err := s.comply.Get(c.UserContext(), viewerOf(c).user, c.Params("id"))
	if err != nil {
		return err
	}
	org := a.OrgID
	if o, err := s.auth.Organisation(c.UserContext(), a.OrgID); err == nil {
		org = o.Name
	}
	pdf, err := s.comply.AdvocateReport(org, a, s.now())
	if err != nil {
		return err
	}
	return sendFile(c, pdf, "application/pdf", "compliance-"+strings.ReplaceAll(strings.ToLower(a.Name), " ", "-")+".pdf")
}

// handleMyCompliance handles GET /my/compliance: the advocate's own record.
func (s *Server) handleMyCompliance(c *fiber.Ctx) error {
	if _, err := s.comply.Get(c.UserContext(), viewerOf(c).user, viewerOf(c).ID); errs.Is(err, errs.ENOTFOUND) {
		return errs.E(errs.ENOTFOUND, "There is no compliance record for your account yet. Your manager sets it up.")
	}
	return s.renderAdvocate(c, fiber.StatusOK, "", nil, nil)
}
