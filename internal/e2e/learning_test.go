package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

// sampleAnswers are the right (and a wrong) option indexes of the sample course's bank.
var sampleAnswers = map[string][2][]int{
	"s1": {{0}, {1}}, "s2": {{0}, {1}}, "s3": {{0, 2}, {1}}, "s4": {{1}, {0}}, "s5": {{0}, {1}}, "s6": {{1}, {0}},
}

// answerPaper ticks the right (or wrong) options of every question on the page.
func answerPaper(t *testing.T, b *testenv.Browser, right bool) {
	t.Helper()
	ids := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll("fieldset.question")).map(f => f.id.slice(2))`)
	if len(ids) != 4 {
		t.Fatalf("paper has %d questions, want 4", len(ids))
	}
	pick := 1
	if right {
		pick = 0
	}
	for _, id := range ids {
		for _, opt := range sampleAnswers[id][pick] {
			b.Click("#q-" + id + "-" + string(rune('0'+opt)))
		}
	}
}

// TestJourneyLearning: enrol, read every lesson (the progress bar moves),
// fail the assessment and see the explanations, wait out the retry window,
// pass, and find the course completed in My learning.
func TestJourneyLearning(t *testing.T) {
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "LMS_COURSES_DIR": filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	b := testenv.NewBrowser(t, s.URL)
	signIn(b, "learner@demo.example", app.DemoPassword)

	b.Open("/courses")
	b.Follow(`a[href="/courses/sample-course"]`)
	b.MustContain("main h1", "Sample course for tests")
	b.Follow(`form[action="/courses/sample-course/enrol"] button`)
	b.MustContain("main h1", "First steps")

	progress := func() int { return testenv.Eval[int](b, `document.querySelector("progress").value`) }
	for i, title := range []string{"First steps", "Second steps", "Last steps"} {
		b.MustContain("main h1", title)
		if got := progress(); got != i {
			t.Fatalf("progress on lesson %d: got %d, want %d", i+1, got, i)
		}
		b.Follow("#complete")
	}
	if p := b.Path(); p != "/courses/sample-course/assessment" {
		t.Fatalf("after the last lesson: at %s, want the assessment", p)
	}

	// Fail once.
	b.Follow("#start-attempt")
	answerPaper(t, b, false)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You did not pass this time")
	b.MustContain(".wrong-answers", "Revisit:")
	if n := testenv.Eval[int](b, `document.querySelectorAll(".wrong-answers li").length`); n != 4 {
		t.Fatalf("explanations shown: %d, want 4", n)
	}
	b.Follow(`a[href="/courses/sample-course/assessment"]`)
	b.MustContain("#retry-wait", "You can try again from")

	// Wait out the retry window (24 h), sign in again, pass.
	s.Clock.Advance(24*time.Hour + time.Minute)
	signIn(b, "learner@demo.example", app.DemoPassword)
	b.Open("/courses/sample-course/assessment")
	b.Follow("#start-attempt")
	answerPaper(t, b, true)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
	b.MustContain("#score", "4 of 4")

	b.Open("/my/learning")
	b.MustContain("#completed", "Sample course for tests")
	b.MustContain("#cpd-total", "0.5")
	if strings.Contains(b.Text("main"), "Nothing in progress") == false {
		t.Fatal("the completed course is still listed as in progress")
	}
}
