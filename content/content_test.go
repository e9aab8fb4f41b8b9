package content_test

import (
	"regexp"
	"testing"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
)

// TestCatalogueMeetsTheAuthoringRules checks the rules the course catalogue
// was written to: six courses, 4-7 lessons of 600-1,500 readable words with
// a case scenario, key points and a section on supporting a parent; a bank of
// at least 20 questions with at least 2 per lesson; references to sources.
func TestCatalogueMeetsTheAuthoringRules(t *testing.T) {
	cs, probs := courses.LoadAll(content.Courses, "courses")
	if len(probs) > 0 {
		t.Fatalf("validation problems (errors or warnings): %v", probs)
	}
	if len(cs) != 6 {
		t.Fatalf("got %d courses, want 6", len(cs))
	}
	forAll := map[string]bool{}
	sections := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^## Case scenario`),
		regexp.MustCompile(`(?m)^## Key points`),
		regexp.MustCompile(`(?m)^## What this means when you support a parent`),
	}
	for _, c := range cs {
		if n := len(c.Lessons); n < 4 || n > 7 {
			t.Errorf("%s: %d lessons, want 4-7", c.Slug, n)
		}
		if n := len(c.Assessment.Questions); n < 20 {
			t.Errorf("%s: %d questions, want at least 20", c.Slug, n)
		}
		if len(c.References) == 0 || len(c.Outcomes) == 0 || len(c.Principles) == 0 || len(c.Audiences) == 0 {
			t.Errorf("%s: references %d, outcomes %d, principles %d, audiences %d", c.Slug, len(c.References), len(c.Outcomes), len(c.Principles), len(c.Audiences))
		}
		// Legal content knows when it was checked and when it is next due.
		if c.ReviewedBy == "" || c.ReviewedOn == "" || c.ReviewDueDate().IsZero() {
			t.Errorf("%s: reviewed_by %q, reviewed_on %q: every course records who checked its legal content and when", c.Slug, c.ReviewedBy, c.ReviewedOn)
		}
		perLesson := map[string]int{}
		for _, q := range c.Assessment.Questions {
			perLesson[q.Lesson]++
		}
		for _, l := range c.Lessons {
			if l.Words < 600 || l.Words > 1500 {
				t.Errorf("%s/%s: %d words", c.Slug, l.Name, l.Words)
			}
			if l.Ease < 50 {
				t.Errorf("%s/%s: reading ease %.0f", c.Slug, l.Name, l.Ease)
			}
			if perLesson[l.Name] < 2 {
				t.Errorf("%s/%s: %d questions, want at least 2", c.Slug, l.Name, perLesson[l.Name])
			}
			for _, re := range sections {
				if !re.MatchString(l.Body) {
					t.Errorf("%s/%s: no section %q", c.Slug, l.Name, re.String())
				}
			}
		}
		forAll[c.Slug] = c.RecommendedForAll
	}
	for slug, want := range map[string]bool{
		"child-protection-process":                      true,
		"advocacy-standards-in-practice":                true,
		"child-welfare-law-essentials":                  false,
		"pre-proceedings-and-care-proceedings":          false,
		"domestic-abuse-mental-health-child-protection": false,
	} {
		if got, ok := forAll[slug]; !ok || got != want {
			t.Errorf("%s: recommended for all = %v (present %v), want %v", slug, got, ok, want)
		}
	}
}
