package server

import (
	"context"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/learning"
)

// A manager's view of their own organisation's people's training — every
// worker, not only advocates: what each is doing, has completed, and the
// certificates they hold and when those expire. A partner agency's
// manager sees their own workers; admins choose the organisation.

const trainingPerPage = 25

// expiresSoonDays is how near a certificate's expiry is flagged.
const expiresSoonDays = 60

// trainingRow is one person's training.
type trainingRow struct {
	User         auth.User
	Job          string
	InProgress   []learning.Progress
	Completed    []learning.Progress
	Certificates []trainingCert
}

// trainingCert is one certificate as the view shows it.
type trainingCert struct {
	certificates.Certificate
	State    certificates.State
	Soon     bool   // valid, and expires within expiresSoonDays
	Until    string // "until 3 March 2027 (in 20 days)"
	Complete time.Time
}

type trainingPage struct {
	basePage
	Rows     []trainingRow
	Pager    pager
	OrgName  string
	OrgQuery string
	Orgs     []auth.Organisation
	OrgID    string
	Soon     int // certificates on this page expiring within expiresSoonDays
}

// trainingOf reads one person's training: their enrolments and their
// certificates (each from their own lists).
func (s *Server) trainingOf(ctx context.Context, u auth.User) (trainingRow, error) {
	r := trainingRow{User: u, Job: jobLabel(u.JobRole)}
	var err error
	if r.InProgress, r.Completed, _, err = s.learn.MyLearning(ctx, u.ID); err != nil {
		return r, err
	}
	cs, err := s.certs.ForUser(ctx, u.ID)
	if err != nil {
		return r, err
	}
	now := s.now()
	for _, c := range cs {
		tc := trainingCert{Certificate: c, State: certificates.StateOf(&c, now)}
		if c.ExpiresAt != nil {
			days := civil.Of(now).DaysUntil(civil.Of(*c.ExpiresAt))
			tc.Until = "until " + longDay(*c.ExpiresAt) + " (" + inDays(days) + ")"
			tc.Soon = tc.State == certificates.StateValid && days <= expiresSoonDays
		}
		r.Certificates = append(r.Certificates, tc)
	}
	return r, nil
}

func jobLabel(j auth.JobRole) string {
	for _, r := range auth.JobRoles {
		if r.Value == j {
			return r.Label
		}
	}
	return ""
}

// handleTraining handles GET /manage/training: a page of the
// organisation's people, by name, with their training.
func (s *Server) handleTraining(c *fiber.Ctx) error {
	ctx := c.UserContext()
	org := s.orgFor(c)
	users, total, err := s.auth.ListUsers(ctx, auth.UserQuery{OrgID: org, Offset: pageOffset(c, trainingPerPage), Limit: trainingPerPage})
	if err != nil {
		return err
	}
	p := &trainingPage{basePage: basePage{Title: "Training"}, Pager: newPager(c, trainingPerPage, total), OrgID: org}
	if o, err := s.auth.Organisation(ctx, org); err == nil {
		p.OrgName = o.Name
	}
	for _, u := range users {
		r, err := s.trainingOf(ctx, u)
		if err != nil {
			return err
		}
		for _, tc := range r.Certificates {
			if tc.Soon {
				p.Soon++
			}
		}
		p.Rows = append(p.Rows, r)
	}
	if viewerOf(c).HasRole("admin") {
		if c.Query("org") != "" {
			p.OrgQuery = "org=" + org
		}
		if p.Orgs, err = s.auth.Organisations(ctx); err != nil {
			return err
		}
	}
	return s.render(c, fiber.StatusOK, "training", p)
}

// handleTrainingCSV handles GET /manage/training.csv: one row per person
// and course (a person with no training, one row), the organisation's
// people read a page at a time.
func (s *Server) handleTrainingCSV(c *fiber.Ctx) error {
	ctx := c.UserContext()
	org := s.orgFor(c)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="training.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	_ = w.Write([]string{"Name", "Email", "Job", "Course", "Progress (%)", "Completed", "Certificate", "Certificate state", "Expires"})
	date := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return civil.Of(*t).String()
	}
	for offset := 0; ; offset += 100 {
		users, total, err := s.auth.ListUsers(ctx, auth.UserQuery{OrgID: org, Offset: offset, Limit: 100})
		if err != nil {
			return err
		}
		for _, u := range users {
			r, err := s.trainingOf(ctx, u)
			if err != nil {
				return err
			}
			who := []string{csvSafe(u.Name), csvSafe(u.Email), r.Job}
			certOf := map[string]trainingCert{}
			for _, tc := range r.Certificates {
				certOf[tc.Course] = tc
			}
			wrote := false
			for _, pr := range append(r.InProgress, r.Completed...) {
				row := append(append([]string{}, who...), csvSafe(pr.Course.Title), strconv.Itoa(pr.Percent), "", "", "", "")
				if e := pr.Enrolment; e != nil && e.Completion != nil {
					row[5] = date(&e.Completion.At)
				}
				if tc, ok := certOf[pr.Course.Slug]; ok {
					row[6], row[7], row[8] = tc.Code, audit.Words(string(tc.State)), date(tc.ExpiresAt)
				}
				_ = w.Write(row)
				wrote = true
			}
			if !wrote {
				_ = w.Write(append(who, "", "", "", "", "", ""))
			}
		}
		if offset+100 >= total || len(users) == 0 {
			break
		}
	}
	w.Flush()
	return w.Error()
}
