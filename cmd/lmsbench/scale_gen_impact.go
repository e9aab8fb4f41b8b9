package main

import (
	"math/rand/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
)

// evaluation gathers the course evaluation an enrolment would have: its
// row always (enrolments and progress count), the before ratings from
// about 60 %, the after questions from about half of those who passed,
// and a follow-up from a third of those passed more than 90 days ago.
// The rows are written per shard document at the end of the run.
func (g *generator) evaluation(rng *rand.Rand, u *auth.User, c *courses.Course, e *learning.Enrolment) {
	pid := g.svc.Impact.Pseudonym(c.Slug, u.ID)
	r := impact.Row{Org: u.OrgID, Enrolled: e.Enrolled, Lessons: len(e.Lessons), Attempts: len(e.Attempts)}
	rate := func() []int {
		v := make([]int, len(c.Outcomes))
		for i := range v {
			v[i] = 1 + rng.IntN(5)
		}
		return v
	}
	if rng.Float64() < 0.6 {
		r.Before = &impact.Ratings{At: e.Enrolled, Confidence: rate()}
	}
	if e.Completion != nil {
		at := e.Completion.At
		r.Passed = &at
		if rng.Float64() < 0.5 {
			r.After = &impact.After{Ratings: impact.Ratings{At: at, Confidence: rate()}, Helpful: 1 + rng.IntN(5), Relevant: 1 + rng.IntN(5),
				Recommend: impact.RecommendChoices[rng.IntN(3)]}
		}
		if g.anchor.Sub(at).Hours() > 90*24 {
			sent := at.AddDate(0, 0, 90)
			r.FollowUpSent = &sent
			if rng.Float64() < 0.33 {
				r.FollowUp = &impact.FollowUp{At: sent, Changed: impact.ChangedChoices[rng.IntN(3)], Family: impact.FamilyChoices[rng.IntN(3)]}
			}
		}
	}
	id := impact.DocID(c.Slug, e.Enrolled, pid)
	if g.evals[id] == nil {
		g.evals[id] = map[string]impact.Row{}
	}
	g.evals[id][pid] = r
}
