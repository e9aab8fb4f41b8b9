package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJourneyLearnerWeek: a signed-in learner's home is their dashboard,
// whose Continue opens the lesson they last opened; before the assessment
// they are told the attempts and the wait; after a fail the result page,
// My learning and the course page say when the next attempt opens and
// which lessons to revise; an advocate's home has their next due date;
// after passing, the home flags a certificate that expires soon. Each of
// those pages passes axe-core at desktop and phone width, and is
// photographed at both for a person to look at.
func TestJourneyLearnerWeek(t *testing.T) {
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "LMS_COURSES_DIR": filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	b := testenv.NewBrowser(t, s.URL)
	signIn(b, "learner@demo.example", app.DemoPassword)
	if p := b.Path(); p != "/" {
		t.Fatalf("after signing in: at %s, want the home", p)
	}
	home := b.Text("main")
	if strings.Contains(home, "to see your record") || !strings.Contains(home, "Welcome back, Lena") {
		t.Fatalf("a signed-in learner's home: %q", home)
	}

	// Start the course, finish the first lesson, and leave on the second.
	b.Open("/courses/sample-course")
	b.MustContain("#course-attempt-rules", "3 attempts, with a wait of 24 hours after a fail")
	b.Follow(`form[action="/courses/sample-course/enrol"] button`)
	b.Follow("#complete")
	b.MustContain("main h1", "Second steps")
	b.Open("/courses")

	// The home picks up where they left off.
	b.Open("/")
	b.MustContain("#continue-learning", "Sample course for tests")
	b.MustContain("#continue-lesson", "Second steps")
	b.MustContain("#continue-learning", "1 of 3 lessons done")
	b.CheckAccessibility()
	b.Screenshot("home-continue-1280")
	b.Follow("#continue")
	if p := b.Path(); p != "/courses/sample-course/lessons/02-second-steps" {
		t.Fatalf("Continue went to %s, want the second lesson", p)
	}
	b.MustContain("main h1", "Second steps")

	// Before the attempt: how many, and the wait after a fail.
	b.Follow("#complete")
	b.Follow("#complete")
	b.MustContain("#attempt-rules", "This will be attempt 1 of 3.")
	b.MustContain("#attempt-rules", "If you do not pass, you can try again 24 hours after you submit.")

	// Fail: the site's clock says 10:00 UTC on Sunday 22 November 2026.
	const opens = "10:00am on Monday 23 November 2026"
	b.Follow("#start-attempt")
	answerPaper(t, b, false)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You did not pass this time")
	b.MustContain("#next-attempt", "You can try again from "+opens)
	b.MustContain("#next-attempt", "2 attempts left")
	revise := b.Text(".revise-list")
	for _, lesson := range []string{"First steps", "Second steps", "Last steps"} {
		wrongHere := strings.Contains(b.Text(".wrong-answers"), "Revisit: "+lesson)
		if strings.Contains(revise, lesson) != wrongHere {
			t.Errorf("lessons to revise %q: %s listed %v, but its questions were answered wrongly: %v", revise, lesson, !wrongHere, wrongHere)
		}
	}
	resultPath := b.Path()
	b.CheckAccessibility()
	b.Screenshot("result-fail-1280")

	b.Open("/my/learning")
	b.MustContain(".next-attempt", "Next attempt from "+opens)
	if strings.Contains(b.Text("main"), "Take the assessment") {
		t.Error("My learning offers the assessment during the wait")
	}
	b.CheckAccessibility()
	b.Screenshot("my-learning-waiting-1280")

	b.Open("/courses/sample-course")
	b.MustContain("#next-attempt", "You can try again from "+opens)
	b.MustContain(".revise-list", strings.SplitN(revise, "(", 2)[0])
	b.CheckAccessibility()
	b.Screenshot("course-waiting-1280")

	b.Open("/")
	b.MustContain("#assessments-waiting", "Next attempt from "+opens)
	b.CheckAccessibility()
	b.Screenshot("home-waiting-1280")

	// The same pages on a phone.
	b.Viewport(390, 844)
	for _, p := range []struct{ path, name string }{{"/", "home-waiting"}, {"/my/learning", "my-learning-waiting"},
		{"/courses/sample-course", "course-waiting"}, {resultPath, "result-fail"}} {
		b.Open(p.path)
		b.CheckAccessibility()
		b.Screenshot(p.name + "-390")
	}
	b.Viewport(1280, 900)
	b.Follow(`.signout button`)

	// An advocate's home: their next compliance due date, linked to their record.
	signIn(b, "advocate1@demo.example", app.DemoPassword)
	if due := b.Text("#next-due"); !regexp.MustCompile(`Next due: .+ \d{1,2} [A-Z][a-z]+ 20\d\d`).MatchString(due) {
		t.Errorf("the advocate's next due date: got %q, want a requirement and its date", due)
	}
	b.CheckAccessibility()
	b.Screenshot("home-advocate-1280")
	b.Follow(`#home-compliance a[href="/my/compliance"]`)
	if p := b.Path(); p != "/my/compliance" {
		t.Fatalf("the compliance link went to %s", p)
	}
	b.Viewport(390, 844)
	b.Open("/")
	b.CheckAccessibility()
	b.Screenshot("home-advocate-390")
	b.Viewport(1280, 900)
	b.Follow(`.signout button`)

	// The wait over, the learner passes; eleven months on, the home says
	// their certificate expires soon.
	s.Clock.Advance(24*time.Hour + time.Minute)
	signIn(b, "learner@demo.example", app.DemoPassword)
	b.Open("/courses/sample-course")
	b.MustContain("#attempt-rules", "The wait is over")
	b.Follow(`a.button[href="/courses/sample-course/assessment"]`)
	b.MustContain("#attempt-rules", "This will be attempt 2 of 3.")
	b.Follow("#start-attempt")
	answerPaper(t, b, true)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
	s.Clock.Advance(334 * 24 * time.Hour)
	signIn(b, "learner@demo.example", app.DemoPassword)
	b.MustContain("#home-certificates", "Sample course for tests")
	b.MustContain("#home-certificates", "Renew soon")
	b.MustContain("#home-certificates", "Valid until 23 November 2027")
	b.CheckAccessibility()
	b.Screenshot("home-renew-soon-1280")
	b.Viewport(390, 844)
	b.Open("/")
	b.CheckAccessibility()
	b.Screenshot("home-renew-soon-390")
}
