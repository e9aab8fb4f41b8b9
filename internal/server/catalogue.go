package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/learning"
)

// The catalogue: every course, a search over titles, summaries and lesson
// text, and a filter by audience. A signed-in learner whose job role (given
// at registration) has courses written for it in particular sees those
// first, marked "Recommended for your role".

// audienceOption is one choice of the catalogue filter.
type audienceOption struct {
	Value, Label string
	Selected     bool
}

// cataloguePage is the page struct for GET /courses.
type cataloguePage struct {
	basePage
	Courses   []*courses.Course // the courses shown, in order
	Audiences []audienceOption
	Audience  string // the filter ("" for everyone)
	Query     string // the search as typed ("" for none)
	// Hits are the search's findings by course slug: the lessons it
	// found words in, with passages.
	Hits map[string]*learning.SearchHit
	// ForRole marks the courses written for the viewer's job role, RoleLabel
	// ("domestic abuse workers").
	ForRole   map[string]bool
	RoleLabel string
	Total     int // courses in the catalogue
}

// jobAudience is the course audience of each job role asked at
// registration ("other" has none).
var jobAudience = map[auth.JobRole]string{
	auth.JobMentalHealth:  "mental-health-support-worker",
	auth.JobDomesticAbuse: "domestic-abuse-worker",
	auth.JobAdvocate:      "advocate",
}

// AudienceLabel is the filter's audience in words, lower case, for a
// sentence ("domestic abuse workers").
func (p *cataloguePage) AudienceLabel() string {
	return strings.ToLower(courses.AudienceLabel(p.Audience))
}

// Outcome says in a sentence what the search and filter found.
func (p *cataloguePage) Outcome() string {
	n := len(p.Courses)
	courseWord := func(n int) string {
		if n == 1 {
			return "1 course"
		}
		return fmt.Sprintf("%d courses", n)
	}
	switch {
	case p.Query != "" && n == 0 && p.Audience != "":
		return fmt.Sprintf("No courses for %s match “%s”.", p.AudienceLabel(), p.Query)
	case p.Query != "" && n == 0:
		return fmt.Sprintf("No courses match “%s”.", p.Query)
	case p.Query != "" && p.Audience != "":
		return fmt.Sprintf("%s for %s %s “%s”, best match first.", courseWord(n), p.AudienceLabel(), matchVerb(n), p.Query)
	case p.Query != "":
		return fmt.Sprintf("%s %s “%s”, best match first.", courseWord(n), matchVerb(n), p.Query)
	case p.Audience != "" && n == p.Total:
		return fmt.Sprintf("All %d courses are for %s.", n, p.AudienceLabel())
	case p.Audience != "" && n == 0:
		return fmt.Sprintf("No courses are for %s yet.", p.AudienceLabel())
	case p.Audience != "":
		return fmt.Sprintf("%d of %d courses are for %s.", n, p.Total, p.AudienceLabel())
	}
	return ""
}

func matchVerb(n int) string {
	if n == 1 {
		return "matches"
	}
	return "match"
}

// handleCatalogue handles GET /courses?q=&audience=.
func (s *Server) handleCatalogue(c *fiber.Ctx) error {
	aud := c.Query("audience")
	if aud != "" && !slices.Contains(courses.Audiences, aud) {
		aud = ""
	}
	q := strings.Join(strings.Fields(c.Query("q")), " ")
	if r := []rune(q); len(r) > 200 {
		q = string(r[:200])
	}
	all := s.learn.Catalogue.All()
	p := &cataloguePage{basePage: basePage{Title: "Courses"}, Audience: aud, Query: strings.Clone(q), Total: len(all)}
	if q != "" {
		p.Title = "Courses matching “" + p.Query + "”"
	}
	for _, a := range courses.Audiences {
		p.Audiences = append(p.Audiences, audienceOption{Value: a, Label: courses.AudienceLabel(a), Selected: a == aud})
	}

	// The viewer's role's courses first.
	order := all
	if v := viewerOf(c); v != nil && v.user != nil {
		if role := jobAudience[v.user.JobRole]; role != "" {
			order = learning.ForAudience(all, role)
			p.ForRole = map[string]bool{}
			for _, x := range all {
				if learning.WrittenFor(x, role) {
					p.ForRole[x.Slug] = true
				}
			}
			if len(p.ForRole) > 0 {
				p.RoleLabel = strings.ToLower(courses.AudienceLabel(role))
			}
		}
	}
	if q != "" {
		// Best match first; courses that match as well keep the order above.
		rank := map[string]int{}
		for i, x := range order {
			rank[x.Slug] = i
		}
		hits := s.learn.Catalogue.Search(q)
		slices.SortStableFunc(hits, func(a, b learning.SearchHit) int {
			if a.Score != b.Score {
				return b.Score - a.Score
			}
			return rank[a.Course.Slug] - rank[b.Course.Slug]
		})
		p.Hits = map[string]*learning.SearchHit{}
		order = nil
		for i := range hits {
			p.Hits[hits[i].Course.Slug] = &hits[i]
			order = append(order, hits[i].Course)
		}
	}
	for _, x := range order {
		if x.ForAudience(aud) {
			p.Courses = append(p.Courses, x)
		}
	}
	return s.render(c, fiber.StatusOK, "catalogue", p)
}
