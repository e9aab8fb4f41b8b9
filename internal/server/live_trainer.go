package server

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/live"
)

// The trainers' pages of a session once set up: the register, changes,
// calling it off, the bookings as CSV, the sign-in sheet, and the report
// over a period.

// liveRegisterRow is one person's line on the register.
type liveRegisterRow struct {
	*live.Booking
	Field, MinutesField string // form fields
	Mark, Minutes       string // as typed, or as recorded
	Credited            float64
	NoShows             int // sessions missed before
}

// liveRegisterPage is the page struct for GET/POST /trainer/live/:id/register.
type liveRegisterPage struct {
	basePage
	Row    liveRow
	Rows   []liveRegisterRow
	Open   bool
	Form   *formState
	Counts live.Counts
}

// handleLiveRegister handles GET /trainer/live/:id/register.
func (s *Server) handleLiveRegister(c *fiber.Ctx) error {
	return s.renderLiveRegister(c, fiber.StatusOK, nil)
}

func (s *Server) renderLiveRegister(c *fiber.Ctx, status int, f *formState) error {
	ctx := c.UserContext()
	ses, err := s.live.Session(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	p := &liveRegisterPage{basePage: basePage{Title: "Register: " + ses.Title}, Row: s.liveRow(ses, nil), Open: ses.RegisterOpen(s.now()), Form: f, Counts: ses.Counts()}
	if p.Form == nil {
		p.Form = emptyForm(nil)
	}
	for _, b := range ses.With(live.Booked) {
		r := liveRegisterRow{Booking: b, Field: live.AttendanceField(b.UserID), MinutesField: live.MinutesField(b.UserID), Credited: ses.Credited(b)}
		r.Mark, r.Minutes = b.Attendance, ""
		if b.Minutes > 0 {
			r.Minutes = strconv.Itoa(b.Minutes)
		}
		if f != nil && !b.Final() {
			r.Mark, r.Minutes = f.Get(r.Field), f.Get(r.MinutesField)
		}
		if r.NoShows, err = s.live.NoShows(ctx, b.UserID); err != nil {
			return err
		}
		if b.Attendance == live.Absent && r.NoShows > 0 {
			r.NoShows-- // this session's
		}
		p.Rows = append(p.Rows, r)
	}
	return s.render(c, status, "trainer_register", p)
}

// handleLiveRegisterSave handles POST /trainer/live/:id/register.
func (s *Server) handleLiveRegisterSave(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ses, err := s.live.Session(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	var fields []string
	marks := map[string]live.MarkForm{}
	for _, b := range ses.With(live.Booked) {
		fields = append(fields, live.AttendanceField(b.UserID), live.MinutesField(b.UserID))
	}
	f := newForm(c, fields...)
	for _, b := range ses.With(live.Booked) {
		marks[b.UserID] = live.MarkForm{Attendance: f.Get(live.AttendanceField(b.UserID)), Minutes: f.Get(live.MinutesField(b.UserID))}
	}
	n, err := s.live.Mark(ctx, viewerOf(c).user, ses.ID, marks)
	if err != nil {
		if f.absorb(err) {
			return s.renderLiveRegister(c, statusFor(err), f)
		}
		return err
	}
	text := "The register is saved. Nothing had changed."
	if n > 0 {
		text = "The register is saved (" + strconv.Itoa(n) + " changed). Those who attended have their CPD hours" +
			map[bool]string{true: " and their certificate", false: ""}[ses.Certificate] + " on their record."
	}
	return s.redirectWith(c, "/trainer/live/"+ses.ID+"/register", flash{Kind: "success", Text: text})
}

// liveEditPage is the page struct for GET/POST /trainer/live/:id/edit.
type liveEditPage struct {
	liveNewPage
	Row liveRow
}

// sessionValues is a session as its form shows it (London times).
func sessionValues(ses *live.Session) map[string]string {
	st, en := ses.Start.In(civil.London), ses.End.In(civil.London)
	v := map[string]string{"title": ses.Title, "description": ses.Description, "course": ses.Course, "date": st.Format("2006-01-02"),
		"start_time": st.Format("15:04"), "end_time": en.Format("15:04"), "mode": ses.Mode, "venue": ses.Venue, "address": ses.Address,
		"access": ses.Access, "join_url": ses.JoinURL, "capacity": strconv.Itoa(ses.Capacity), "cancel_hours": strconv.Itoa(ses.CancelHours),
		"audiences": strings.Join(ses.Audiences, ",")}
	if ses.CPDHours > 0 {
		v["cpd_hours"] = strconv.FormatFloat(ses.CPDHours, 'f', -1, 64)
	}
	if ses.Certificate {
		v["certificate"] = "yes"
		v["valid_months"] = strconv.Itoa(ses.ValidMonths)
	}
	if ses.Opens != nil {
		v["opens"] = ses.Opens.In(civil.London).Format("2006-01-02")
	}
	if ses.Closes.Before(ses.Start) {
		v["closes"] = ses.Closes.Add(-time.Minute).In(civil.London).Format("2006-01-02")
	}
	return v
}

func (s *Server) renderLiveEdit(c *fiber.Ctx, status int, ses *live.Session, f *formState) error {
	p := &liveEditPage{liveNewPage: s.liveFormPage("Change the session", f), Row: s.liveRow(ses, nil)}
	p.Action, p.Submit = "/trainer/live/"+ses.ID+"/edit", "Save the changes"
	return s.render(c, status, "trainer_live_new", p)
}

// handleLiveEditForm handles GET /trainer/live/:id/edit.
func (s *Server) handleLiveEditForm(c *fiber.Ctx) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return s.renderLiveEdit(c, fiber.StatusOK, ses, emptyForm(sessionValues(ses)))
}

// handleLiveEdit handles POST /trainer/live/:id/edit: a change of time or
// place tells everyone with a place at once.
func (s *Server) handleLiveEdit(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ses, err := s.live.Session(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	f := liveForm(c)
	if _, err := s.live.Change(ctx, viewerOf(c).user, ses.ID, sessionForm(f, ses.Trainers)); err != nil {
		if f.absorb(err) {
			return s.renderLiveEdit(c, statusFor(err), ses, f)
		}
		return err
	}
	return s.redirectWith(c, "/trainer/live/"+ses.ID, flash{Kind: "success", Text: "The session is changed. If its time or place changed, everyone with a place has been emailed an updated invitation."})
}

// handleLiveCancelSession handles POST /trainer/live/:id/cancel-session.
func (s *Server) handleLiveCancelSession(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := s.live.CancelSession(c.UserContext(), viewerOf(c).user, id); err != nil {
		if errs.CodeOf(err) == errs.ECONFLICT {
			return s.redirectWith(c, "/trainer/live/"+id, flash{Kind: "error", Text: errs.MessageOf(err)})
		}
		return err
	}
	return s.redirectWith(c, "/trainer/live/"+id, flash{Kind: "success", Text: "The session is cancelled. Everyone booked or waiting has been told."})
}

// handleLiveBookingsCSV handles GET /trainer/live/:id/bookings.csv.
func (s *Server) handleLiveBookingsCSV(c *fiber.Ctx) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := live.WriteSessionCSV(&buf, ses); err != nil {
		return err
	}
	return sendFile(c, buf.Bytes(), "text/csv; charset=utf-8", "session-"+ses.Start.In(civil.London).Format("2006-01-02")+".csv")
}

// handleLiveSignInSheet handles GET /trainer/live/:id/sign-in.pdf.
func (s *Server) handleLiveSignInSheet(c *fiber.Ctx) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	pdf, err := live.SignInSheet(ses, s.cfg.OrgName, s.now(), s.comply.Fonts.Regular, s.comply.Fonts.Bold)
	if err != nil {
		return err
	}
	return sendFile(c, pdf, "application/pdf", "sign-in-"+ses.Start.In(civil.London).Format("2006-01-02")+".pdf")
}

// liveReportPage is the page struct for GET /trainer/live/report.
type liveReportPage struct {
	basePage
	Form   *formState
	Period live.Period
	Rows   []liveReportRow
}

type liveReportRow struct {
	live.PeriodRow
	When string
}

// livePeriod reads the sessions of the period the query asks for (by
// default the last twelve months): a bounded read of the sessions that
// start in it.
func (s *Server) livePeriod(c *fiber.Ctx) (*formState, live.Period, error) {
	now := s.now().In(civil.London)
	f := emptyForm(map[string]string{"from": c.Query("from", now.AddDate(0, -11, 0).Format("2006-01")), "to": c.Query("to", now.Format("2006-01"))})
	from, err1 := time.ParseInLocation("2006-01", f.Get("from"), civil.London)
	to, err2 := time.ParseInLocation("2006-01", f.Get("to"), civil.London)
	switch {
	case err1 != nil:
		f.Errors["from"] = "Enter the first month as a year and month, for example 2027-01"
	case err2 != nil:
		f.Errors["to"] = "Enter the last month as a year and month, for example 2027-12"
	case to.Before(from) || to.After(from.AddDate(2, 0, 0)):
		f.Errors["to"] = "Choose a last month from the first month to two years after it"
	}
	if len(f.Errors) > 0 {
		return f, live.Period{}, nil
	}
	list, err := s.live.Between(c.UserContext(), from, to.AddDate(0, 1, 0))
	if err != nil {
		return f, live.Period{}, err
	}
	return f, live.PeriodOf(list, f.Get("from"), f.Get("to")), nil
}

// handleLiveReport handles GET /trainer/live/report.
func (s *Server) handleLiveReport(c *fiber.Ctx) error {
	f, period, err := s.livePeriod(c)
	if err != nil {
		return err
	}
	p := &liveReportPage{basePage: basePage{Title: "Live training report"}, Form: f, Period: period}
	for _, r := range period.Rows {
		p.Rows = append(p.Rows, liveReportRow{PeriodRow: r, When: live.When(r.Session)})
	}
	status := fiber.StatusOK
	if len(f.Errors) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c, status, "trainer_live_report", p)
}

// handleLiveReportCSV handles GET /trainer/live/report.csv.
func (s *Server) handleLiveReportCSV(c *fiber.Ctx) error {
	f, period, err := s.livePeriod(c)
	if err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		return errs.E(errs.EINVALID, "Choose a period of up to two years, for example from=2027-01&to=2027-12.")
	}
	var buf bytes.Buffer
	if err := live.WritePeriodCSV(&buf, period); err != nil {
		return err
	}
	return sendFile(c, buf.Bytes(), "text/csv; charset=utf-8", "live-training-"+period.From+"-to-"+period.To+".csv")
}
