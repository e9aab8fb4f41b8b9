package server

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/live"
)

// Live training: the list of sessions to come, a session's page with
// booking, the person's own bookings and calendar feed, and the trainers'
// pages.

// liveRow is one session as the lists show it.
type liveRow struct {
	*live.Session
	When, Where   string
	Left          int
	Mine          string // the viewer's booking status, if any
	Mark          string // the viewer's attendance, once marked
	MyCertificate string // the certificate it earned
	Credited      float64
}

func (s *Server) liveRow(ses *live.Session, v *viewer) liveRow {
	r := liveRow{Session: ses, When: live.When(ses), Where: live.Where(ses), Left: ses.Left()}
	if v != nil {
		if b := ses.Bookings[v.ID]; b != nil {
			r.Mine, r.Mark, r.MyCertificate, r.Credited = b.Status, b.Attendance, b.Certificate, ses.Credited(b)
		}
	}
	return r
}

// livePage is the page struct for GET /live.
type livePage struct {
	basePage
	Rows                  []liveRow
	Audience, Month, Mode string
	Audiences             []audienceOption
	Months                []option
}

// handleLive handles GET /live: sessions to come, filtered by audience,
// month and online or in person.
func (s *Server) handleLive(c *fiber.Ctx) error {
	list, err := s.live.Upcoming(c.UserContext(), 500)
	if err != nil {
		return err
	}
	p := &livePage{basePage: basePage{Title: "Live training"}, Audience: c.Query("audience"), Month: c.Query("month"), Mode: c.Query("mode")}
	v := viewerOf(c)
	seen := map[string]bool{}
	for _, ses := range list {
		m := ses.Start.In(civil.London).Format("2006-01")
		if !seen[m] {
			seen[m] = true
			p.Months = append(p.Months, option{Value: m, Label: ses.Start.In(civil.London).Format("January 2006")})
		}
		if ses.Cancelled != nil || p.Month != "" && m != p.Month || p.Mode != "" && ses.Mode != p.Mode ||
			p.Audience != "" && len(ses.Audiences) > 0 && !slices.Contains(ses.Audiences, p.Audience) {
			continue
		}
		p.Rows = append(p.Rows, s.liveRow(ses, v))
	}
	for _, a := range courses.Audiences {
		p.Audiences = append(p.Audiences, audienceOption{Value: a, Label: courses.AudienceLabel(a), Selected: a == p.Audience})
	}
	return s.render(c, fiber.StatusOK, "live", p)
}

// liveSessionPage is the page struct for GET /live/:id.
type liveSessionPage struct {
	basePage
	Row      liveRow
	Booking  *live.Booking
	Position int // on the waiting list, from 1
	Form     *formState
	CanBook  bool
	// NotYetOpen: booking opens later (Row.Opens).
	NotYetOpen bool
	Cancel     bool
	Join       bool // show the joining link
	Manager    bool // may book for their people
}

// handleLiveSession handles GET /live/:id.
func (s *Server) handleLiveSession(c *fiber.Ctx) error {
	return s.renderLiveSession(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderLiveSession(c *fiber.Ctx, status int, f *formState) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	v := viewerOf(c)
	now := s.now()
	p := &liveSessionPage{basePage: basePage{Title: ses.Title}, Row: s.liveRow(ses, v), Form: f, CanBook: ses.Open(now), NotYetOpen: ses.NotYetOpen(now)}
	if v != nil {
		p.Manager = v.HasRole("manager") && v.OrgID != ""
		if b := ses.Bookings[v.ID]; b != nil && b.Status != live.Cancelled {
			p.Booking = b
			p.Cancel = b.Status != live.Booked || ses.CanCancel(now)
			p.Join = b.Status == live.Booked && ses.ShowJoinLink(now)
			for i, w := range ses.Queue() {
				if w.UserID == v.ID {
					p.Position = i + 1
				}
			}
		}
	}
	return s.render(c, status, "live_session", p)
}

// handleLiveBook handles POST /live/:id/book: a place (or the waiting
// list) for the viewer, or, from their manager, for one of their people.
func (s *Server) handleLiveBook(c *fiber.Ctx) error {
	f := newForm(c, "access", "dietary", "for_email")
	ctx := c.UserContext()
	actor := viewerOf(c).user
	who := actor
	if email := strings.TrimSpace(f.Get("for_email")); email != "" {
		u, err := s.auth.UserByEmail(ctx, email)
		if err != nil || u.OrgID != actor.OrgID || !actor.HasRole(auth.RoleManager) {
			f.Errors["for_email"] = "Enter the email address of someone in your organisation"
			return s.renderLiveSession(c, fiber.StatusUnprocessableEntity, f)
		}
		who = u
	}
	status, err := s.live.Book(ctx, actor, who, c.Params("id"), live.BookForm{Access: f.Get("access"), Dietary: f.Get("dietary")})
	if err != nil {
		if f.absorb(err) {
			return s.renderLiveSession(c, statusFor(err), f)
		}
		return err
	}
	text := "You have a place. We have emailed you the details with an invitation for your calendar."
	if status == live.Waiting {
		text = "The session is full, so you are on the waiting list. If a place comes free we will email you at once."
	}
	if who.ID != actor.ID {
		text = who.Name + ": " + map[bool]string{true: "booked; they are emailed the details.", false: "on the waiting list; they are emailed if a place comes free."}[status == live.Booked]
	}
	return s.redirectWith(c, "/live/"+c.Params("id"), flash{Kind: "success", Text: text})
}

// handleLiveCancel handles POST /live/:id/cancel.
func (s *Server) handleLiveCancel(c *fiber.Ctx) error {
	v := viewerOf(c)
	if err := s.live.Cancel(c.UserContext(), v.user, c.Params("id"), v.ID); err != nil {
		f := emptyForm(nil)
		if f.absorb(err) {
			return s.renderLiveSession(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/live/"+c.Params("id"), flash{Kind: "success", Text: "Your booking is cancelled. Thank you for letting us know: the place goes to the next person waiting."})
}

// handleLiveConfirm handles POST /live/:id/confirm: an offered place taken.
func (s *Server) handleLiveConfirm(c *fiber.Ctx) error {
	if err := s.live.Confirm(c.UserContext(), viewerOf(c).user, c.Params("id")); err != nil {
		f := emptyForm(nil)
		if f.absorb(err) {
			return s.renderLiveSession(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/live/"+c.Params("id"), flash{Kind: "success", Text: "The place is yours. We have emailed you the details with an invitation for your calendar."})
}

// handleLiveInvite handles GET /live/:id/invite.ics: the viewer's own
// invitation (or its cancellation).
func (s *Server) handleLiveInvite(c *fiber.Ctx) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	b := ses.Bookings[viewerOf(c).ID]
	if b == nil {
		return errs.E(errs.ENOTFOUND, "You have no booking on this session.")
	}
	return sendCalendar(c, live.Invitation(ses, b, "", s.cfg.BaseURL, s.now()), "invite.ics")
}

func sendCalendar(c *fiber.Ctx, body, name string) error {
	return sendFile(c, []byte(body), "text/calendar; charset=utf-8", name)
}

// myLivePage is the page struct for GET /my/live.
type myLivePage struct {
	basePage
	Rows    []liveRow
	FeedURL string
}

// handleMyLive handles GET /my/live: the viewer's bookings and their
// private calendar feed.
func (s *Server) handleMyLive(c *fiber.Ctx) error {
	v := viewerOf(c)
	list, err := s.live.Mine(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	gen, err := s.live.Store.LiveFeedGeneration(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	p := &myLivePage{basePage: basePage{Title: "My live training"}, FeedURL: s.cfg.BaseURL + "/live/feed/" + v.ID + "/" + s.live.FeedToken(v.ID, gen) + ".ics"}
	cutoff := s.now().Add(-30 * 24 * time.Hour)
	for _, ses := range list {
		if ses.End.After(cutoff) {
			p.Rows = append(p.Rows, s.liveRow(ses, v))
		}
	}
	return s.render(c, fiber.StatusOK, "my_live", p)
}

// handleMyLiveFeedReset handles POST /my/live/feed/reset: a new feed link,
// the old one stops working.
func (s *Server) handleMyLiveFeedReset(c *fiber.Ctx) error {
	if err := s.live.Store.BumpLiveFeed(c.UserContext(), viewerOf(c).ID); err != nil {
		return err
	}
	return s.redirectWith(c, "/my/live", flash{Kind: "success", Text: "Your calendar feed has a new link; the old one no longer works. Subscribe to the new one in your calendar."})
}

// handleLiveFeed handles GET /live/feed/:user/:token: a person's calendar
// of their places, for their calendar to subscribe to (no sign-in: the
// token is the key; a reset revokes it).
func (s *Server) handleLiveFeed(c *fiber.Ctx) error {
	ctx := c.UserContext()
	user, token := c.Params("user"), strings.TrimSuffix(c.Params("token"), ".ics")
	gen, err := s.live.Store.LiveFeedGeneration(ctx, user)
	if err != nil {
		return err
	}
	if token != s.live.FeedToken(user, gen) {
		return errs.E(errs.ENOTFOUND, "This calendar link is not valid any more.")
	}
	list, err := s.live.Mine(ctx, user)
	if err != nil {
		return err
	}
	name := ""
	if u, err := s.auth.User(ctx, user); err == nil {
		name = u.Name
	}
	return sendCalendar(c, live.Feed(name, list, user, "", s.cfg.BaseURL, s.now()), "live-training.ics")
}

// trainerLivePage is the page struct for GET /trainer/live.
type trainerLivePage struct {
	basePage
	Rows []liveRow // to come
	Past []liveRow // of the last 60 days: their registers
}

// handleTrainerLive handles GET /trainer/live.
func (s *Server) handleTrainerLive(c *fiber.Ctx) error {
	now := s.now()
	list, err := s.live.Between(c.UserContext(), now.Add(-60*24*time.Hour), now.AddDate(3, 0, 0))
	if err != nil {
		return err
	}
	p := &trainerLivePage{basePage: basePage{Title: "Run live training"}}
	for _, ses := range list {
		if ses.Start.Before(now) {
			p.Past = append([]liveRow{s.liveRow(ses, nil)}, p.Past...) // latest first
		} else {
			p.Rows = append(p.Rows, s.liveRow(ses, nil))
		}
	}
	return s.render(c, fiber.StatusOK, "trainer_live", p)
}

var liveFields = []string{"event", "title", "description", "course", "audiences", "cpd_hours", "certificate", "valid_months", "date", "start_time", "end_time",
	"mode", "venue", "address", "access", "join_url", "capacity", "opens", "closes", "cancel_hours"}

// liveNewPage is the page struct for GET/POST /trainer/live/new (and, as
// liveEditPage, a change).
type liveNewPage struct {
	basePage
	Form           *formState
	Courses        []option
	Modes          []option
	Action, Submit string
	Audiences      []audienceOption // checked: the session is for them
}

func (s *Server) liveFormPage(title string, f *formState) liveNewPage {
	p := liveNewPage{basePage: basePage{Title: title}, Form: f, Action: "/trainer/live/new", Submit: "Set up the session",
		Modes: []option{{Value: live.InPerson, Label: "In person"}, {Value: live.Online, Label: "Online"}}}
	for _, co := range s.learn.Catalogue.All() {
		p.Courses = append(p.Courses, option{Value: co.Slug, Label: co.Title})
	}
	chosen := strings.Split(f.Get("audiences"), ",")
	for _, a := range courses.Audiences {
		p.Audiences = append(p.Audiences, audienceOption{Value: a, Label: courses.AudienceLabel(a), Selected: slices.Contains(chosen, a)})
	}
	return p
}

// liveForm reads the session form; the audiences ticked are kept as one
// comma-separated value.
func liveForm(c *fiber.Ctx) *formState {
	f := newForm(c, liveFields...)
	var picked []string
	for _, a := range c.Request().PostArgs().PeekMulti("audiences") {
		picked = append(picked, strings.TrimSpace(string(a)))
	}
	f.Values["audiences"] = strings.Join(picked, ",")
	return f
}

func (s *Server) renderLiveNew(c *fiber.Ctx, status int, f *formState) error {
	p := s.liveFormPage("Set up a live session", f)
	return s.render(c, status, "trainer_live_new", &p)
}

// handleLiveNewForm handles GET /trainer/live/new, and with ?like=<id>
// another session of that session's event: everything but the date and
// times filled in from it.
func (s *Server) handleLiveNewForm(c *fiber.Ctx) error {
	values := map[string]string{"cancel_hours": "24", "certificate": "yes", "valid_months": "0"}
	if like := c.Query("like"); like != "" {
		ses, err := s.live.Session(c.UserContext(), like)
		if err != nil {
			return err
		}
		values = sessionValues(ses)
		for _, k := range []string{"date", "start_time", "end_time", "opens", "closes"} {
			delete(values, k)
		}
		values["event"] = ses.EventID
	}
	return s.renderLiveNew(c, fiber.StatusOK, emptyForm(values))
}

// sessionForm is the session form as typed.
func sessionForm(f *formState, trainers []string) live.SessionForm {
	return live.SessionForm{Title: f.Get("title"), Description: f.Get("description"),
		Course: f.Get("course"), Audiences: f.Get("audiences"), CPDHours: f.Get("cpd_hours"), Certificate: f.Get("certificate"), ValidMonths: f.Get("valid_months"),
		Date: f.Get("date"), StartTime: f.Get("start_time"), EndTime: f.Get("end_time"), Mode: f.Get("mode"), Venue: f.Get("venue"),
		Address: f.Get("address"), Access: f.Get("access"), JoinURL: f.Get("join_url"), Capacity: f.Get("capacity"),
		OpensDate: f.Get("opens"), ClosesDate: f.Get("closes"), CancelHours: f.Get("cancel_hours"), TrainerIDs: trainers}
}

// handleLiveNew handles POST /trainer/live/new.
func (s *Server) handleLiveNew(c *fiber.Ctx) error {
	f := liveForm(c)
	ses, err := s.live.Create(c.UserContext(), viewerOf(c).user, f.Get("event"), sessionForm(f, []string{viewerOf(c).ID}))
	if err != nil {
		if f.absorb(err) {
			return s.renderLiveNew(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/trainer/live/"+ses.ID, flash{Kind: "success", Text: "The session is set up and open for booking."})
}

// trainerSessionPage is the page struct for GET /trainer/live/:id.
type trainerSessionPage struct {
	basePage
	Row     liveRow
	Booked  []liveBookingRow
	Offered []liveBookingRow
	Waiting []liveBookingRow
	Counts  live.Counts
	// Started: the register is open (and the session can no longer
	// change); InPerson: it has a sign-in sheet.
	Started, InPerson bool
}

// liveBookingRow is a booking as the trainer sees it, with its needs.
type liveBookingRow struct {
	*live.Booking
	AccessNeeds, DietaryNeeds string
}

// handleTrainerSession handles GET /trainer/live/:id: who booked, with
// their access and dietary needs, who was offered a place and who waits.
func (s *Server) handleTrainerSession(c *fiber.Ctx) error {
	ses, err := s.live.Session(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	now := s.now()
	p := &trainerSessionPage{basePage: basePage{Title: ses.Title}, Row: s.liveRow(ses, nil), Counts: ses.Counts(),
		Started: !now.Before(ses.Start), InPerson: ses.Mode == live.InPerson}
	rows := func(bs []*live.Booking) []liveBookingRow {
		var out []liveBookingRow
		for _, b := range bs {
			a, d := s.live.Needs(ses, b)
			out = append(out, liveBookingRow{Booking: b, AccessNeeds: a, DietaryNeeds: d})
		}
		return out
	}
	p.Booked, p.Offered, p.Waiting = rows(ses.With(live.Booked)), rows(ses.With(live.Offered)), rows(ses.Queue())
	return s.render(c, fiber.StatusOK, "trainer_session", p)
}
