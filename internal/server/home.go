package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// homePage is the page struct for GET /: the public home, or, for someone
// signed in, their dashboard.
type homePage struct {
	basePage
	Dash *homeDashboard // nil when signed out
}

// homeDashboard is what the home shows a signed-in person.
type homeDashboard struct {
	FirstName string
	// Needs2FA: the account's roles need two-factor authentication and it
	// is not set up, so nothing of the record is shown yet.
	Needs2FA bool
	// Continue is the course last worked on whose lessons are not all
	// done, opening at the lesson last viewed.
	Continue *homeCourse
	// Others are the other courses in progress with lessons to do.
	Others []homeCourse
	// Assessments are the courses whose lessons are all done and whose
	// assessment is not passed yet.
	Assessments  []homeCourse
	Certificates []homeCert
	Completed    int
	CPDHours     float64
	// Advocate: the person holds the advocate role; Compliance is their
	// record's next due date, nil when no record has been set up yet.
	Advocate   bool
	Compliance *dashRow
	Manager    bool
	Admin      bool
}

// homeCourse is a course in progress on the dashboard.
type homeCourse struct {
	learning.Progress
	Attempts learning.Attempts
	Lesson   *courses.Lesson // where Continue opens
	LessonNo int
}

// LessonURL is where the course's Continue button goes.
func (h homeCourse) LessonURL() string {
	name := h.NextLesson
	if h.Lesson != nil {
		name = h.Lesson.Name
	}
	return "/courses/" + h.Course.Slug + "/lessons/" + name
}

// homeCert is a course's current certificate on the dashboard.
type homeCert struct {
	Code, Course, CourseTitle string
	State                     certificates.State
	ExpiresAt                 *time.Time
	RenewSoon                 bool
}

// handleHome handles GET /: signed out, what the organisation offers;
// signed in, the person's own dashboard.
func (s *Server) handleHome(c *fiber.Ctx) error {
	p := &homePage{basePage: basePage{Title: "Home"}}
	if v := viewerOf(c); v != nil {
		d, err := s.dashboardFor(c.UserContext(), v)
		if err != nil {
			return err
		}
		p.Dash = d
	}
	return s.render(c, fiber.StatusOK, "home", p)
}

// dashboardFor gathers a person's dashboard with bounded reads: their
// enrolments through the per-user listing (one point read per catalogue
// course), one point read per current certificate, and for an advocate
// the point read of their compliance record.
func (s *Server) dashboardFor(ctx context.Context, v *viewer) (*homeDashboard, error) {
	d := &homeDashboard{FirstName: firstName(v.Name), Advocate: v.HasRole("advocate"), Manager: v.HasRole("manager"), Admin: v.HasRole("admin")}
	if v.MustSetup2FA {
		d.Needs2FA = true
		return d, nil
	}
	inProg, done, hours, err := s.learn.MyLearning(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d.Completed, d.CPDHours = len(done), hours
	for _, p := range inProg { // most recently worked on first
		h := homeCourse{Progress: p, Attempts: learning.AttemptsOf(p.Course, p.Enrolment, now)}
		switch {
		case p.AllLessonsDone():
			d.Assessments = append(d.Assessments, h)
		case d.Continue == nil:
			h.Lesson, h.LessonNo = resumeLesson(p)
			d.Continue = &h
		default:
			d.Others = append(d.Others, h)
		}
	}
	for _, p := range done {
		cert, ok, err := s.currentCertificate(ctx, p, now)
		if err != nil {
			return nil, err
		}
		if ok {
			d.Certificates = append(d.Certificates, cert)
		}
	}
	// Those that need doing something about first.
	slices.SortStableFunc(d.Certificates, func(a, b homeCert) int { return attention(b) - attention(a) })
	if d.Advocate && s.comply != nil {
		a, err := s.comply.Get(ctx, v.user, v.ID)
		switch {
		case err == nil:
			row := s.dashRowOf(s.comply.RowOf(a))
			d.Compliance = &row
		case !errs.Is(err, errs.ENOTFOUND):
			return nil, err
		}
	}
	return d, nil
}

// resumeLesson returns the lesson a course resumes at — the one last
// opened, or else the first not done — and its number.
func resumeLesson(p learning.Progress) (*courses.Lesson, int) {
	name := p.Enrolment.LastLesson
	if name == "" {
		name = p.NextLesson
	}
	l, i, ok := p.Course.Lesson(name)
	if !ok {
		if l, i, ok = p.Course.Lesson(p.NextLesson); !ok {
			return nil, 0
		}
	}
	return l, i + 1
}

// currentCertificate returns the latest certificate of a completed course
// (one point read), or "being prepared" while it is issued; ok is false
// for a completion that has no certificate (one recorded without it).
func (s *Server) currentCertificate(ctx context.Context, p learning.Progress, now time.Time) (h homeCert, ok bool, err error) {
	h = homeCert{Course: p.Course.Slug, CourseTitle: p.Course.Title, State: certificates.StatePreparing}
	codes := p.Enrolment.CertificateCodes
	if len(codes) == 0 {
		return h, slices.Contains(p.Enrolment.Pending, learning.PendingCertificate), nil
	}
	cert, err := s.certs.Get(ctx, codes[len(codes)-1])
	if errs.Is(err, errs.ENOTFOUND) { // claimed, not written yet
		return h, true, nil
	}
	if err != nil {
		return h, false, err
	}
	h.Code, h.CourseTitle, h.ExpiresAt, h.State = cert.Code, cert.CourseTitle, cert.ExpiresAt, certificates.StateOf(cert, now)
	h.RenewSoon = cert.ExpiresAt != nil && h.State == certificates.StateValid && cert.ExpiresAt.Sub(now) <= renewWindow
	return h, true, nil
}

// attention ranks certificates for the dashboard: expired, then renew
// soon, then the rest.
func attention(h homeCert) int {
	switch {
	case h.State == certificates.StateExpired:
		return 2
	case h.RenewSoon:
		return 1
	}
	return 0
}

// firstName is the name to greet someone by.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}
