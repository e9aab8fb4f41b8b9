package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJourneyEveryCourse: every course of the real catalogue renders and
// can be completed: each lesson shows its title and the three sections every
// lesson has, and the assessment is passed with the bank's right answers.
func TestJourneyEveryCourse(t *testing.T) {
	cs, probs := courses.LoadAll(content.Courses, "courses")
	if len(courses.Errors(probs)) > 0 || len(cs) != 6 {
		t.Fatalf("catalogue: %d courses, problems %v", len(cs), probs)
	}
	s := startSite(t, map[string]string{"LMS_DEMO": "true"})
	b := testenv.NewBrowser(t, s.URL)
	signIn(b, "learner@demo.example", app.DemoPassword)
	var hours float64
	for _, c := range cs {
		t.Run(c.Slug, func(t *testing.T) {
			b.Open("/courses/" + c.Slug)
			b.MustContain("main h1", c.Title)
			b.Follow(`form[action="/courses/` + c.Slug + `/enrol"] button`)
			for i, l := range c.Lessons {
				b.MustContain("article h1", l.Title)
				for _, h := range []string{"Case scenario", "Key points", "What this means when you support a parent"} {
					if n := testenv.Eval[int](b, fmt.Sprintf(`Array.from(document.querySelectorAll("article h2")).filter(h => h.textContent.trim() === %q).length`, h)); n != 1 {
						t.Fatalf("lesson %s: %d %q headings, want 1", l.Name, n, h)
					}
				}
				if got := testenv.Eval[int](b, `document.querySelector("progress").value`); got != i {
					t.Fatalf("lesson %s: progress %d, want %d", l.Name, got, i)
				}
				b.Follow("#complete")
			}
			b.Follow("#start-attempt")
			ids := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll("fieldset.question")).map(f => f.id.slice(2))`)
			if len(ids) != c.Assessment.QuestionsPerAttempt {
				t.Fatalf("paper has %d questions, want %d", len(ids), c.Assessment.QuestionsPerAttempt)
			}
			for _, id := range ids {
				q, ok := c.Assessment.Question(id)
				if !ok {
					t.Fatalf("question %s not in the bank", id)
				}
				for i, o := range q.Options {
					if o.Correct {
						b.Click(fmt.Sprintf("#q-%s-%d", id, i))
					}
				}
			}
			b.Follow("#submit-answers")
			b.MustContain("main h1", "You passed")
			hours += c.CPDHours
		})
	}
	b.Open("/my/learning")
	for _, c := range cs {
		b.MustContain("#completed", c.Title)
	}
	if got := b.Text("#cpd-total"); !strings.HasPrefix(got, fmt.Sprint(hours)) {
		t.Fatalf("CPD total: got %s, want %v", got, hours)
	}
}
