package server

import (
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

const completionsPerPage = 50

// completionRow is one person's completion of a course.
type completionRow struct {
	UserID, Name, Email, Org string
	Version                  string
	At                       time.Time
	Percent                  int
	Codes                    []string
}

// versionCount is how many people completed one version of a course.
type versionCount struct {
	Version string
	Count   int
}

type adminCompletionsPage struct {
	basePage
	Course   *courses.Course
	Versions []versionCount // newest version first
	Version  string         // the version shown; "" for all
	Rows     []completionRow
	Pager    pager
}

// completions finds the course and version asked for and counts every
// version's completions.
func (s *Server) completions(c *fiber.Ctx) (*courses.Course, string, []versionCount, error) {
	course, err := s.learn.Catalogue.Get(c.Params("slug"))
	if err != nil {
		return nil, "", nil, err
	}
	counts, err := s.learn.CompletionVersions(c.UserContext(), course.Slug)
	if err != nil {
		return nil, "", nil, err
	}
	versions := make([]versionCount, 0, len(counts))
	for _, vc := range counts {
		versions = append(versions, versionCount{vc.Version, vc.Count})
	}
	// Versions are dates (YYYY-MM-DD), so the newest sorts last as text.
	slices.SortFunc(versions, func(a, b versionCount) int { return strings.Compare(b.Version, a.Version) })
	v := c.Query("version")
	if v != "" && !slices.ContainsFunc(versions, func(x versionCount) bool { return x.Version == v }) {
		return nil, "", nil, errs.E(errs.ENOTFOUND, "Nobody has completed version %s of this course.", v)
	}
	return course, v, versions, nil
}

// completionRows adds each person's name, email and organisation (erased
// people show as erased).
func (s *Server) completionRows(ctx context.Context, es []learning.Enrolment, orgs map[string]string) ([]completionRow, error) {
	rows := make([]completionRow, 0, len(es))
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.UserID
	}
	users, err := s.auth.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, e := range es {
		r := completionRow{UserID: e.UserID, Version: e.Completion.CourseVersion, At: e.Completion.At, Percent: e.Completion.Percent, Codes: e.CertificateCodes}
		if u := users[i]; u != nil {
			r.Name, r.Email, r.Org = u.Name, u.Email, orgs[u.OrgID]
		} else {
			r.Name = "Deleted account"
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// handleAdminCompletions handles GET /admin/courses/:slug/completions: who
// completed a course and which version each passed.
func (s *Server) handleAdminCompletions(c *fiber.Ctx) error {
	course, version, versions, err := s.completions(c)
	if err != nil {
		return err
	}
	orgs, err := s.orgNames(c)
	if err != nil {
		return err
	}
	page, total, err := s.learn.CourseCompletions(c.UserContext(), course.Slug, version, pageOffset(c, completionsPerPage), completionsPerPage)
	if err != nil {
		return err
	}
	p := &adminCompletionsPage{basePage: basePage{Title: "Completions: " + course.Title}, Course: course, Versions: versions,
		Version: version, Pager: newPager(c, completionsPerPage, total)}
	if p.Rows, err = s.completionRows(c.UserContext(), page, orgs); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "admin_completions", p)
}

// handleAdminCompletionsCSV handles GET /admin/courses/:slug/completions.csv:
// every row of the report (for the version chosen, if any).
func (s *Server) handleAdminCompletionsCSV(c *fiber.Ctx) error {
	course, version, _, err := s.completions(c)
	if err != nil {
		return err
	}
	orgs, err := s.orgNames(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="completions-`+course.Slug+`.csv"`)
	london := mustLondon()
	w := csv.NewWriter(c.Response().BodyWriter())
	_ = w.Write([]string{"Name", "Email", "Organisation", "Course", "Version", "Completed", "Score (%)", "Certificates"})
	// A page at a time, so the report streams however long it is.
	for from := 0; ; from += 500 {
		list, total, err := s.learn.CourseCompletions(c.UserContext(), course.Slug, version, from, 500)
		if err != nil {
			return err
		}
		if from >= total {
			break
		}
		rows, err := s.completionRows(c.UserContext(), list, orgs)
		if err != nil {
			return err
		}
		for _, r := range rows {
			_ = w.Write([]string{csvSafe(r.Name), csvSafe(r.Email), csvSafe(r.Org), course.Title, r.Version,
				r.At.In(london).Format("2006-01-02"), strconv.Itoa(r.Percent), strings.Join(r.Codes, " ")})
		}
	}
	w.Flush()
	return w.Error()
}
