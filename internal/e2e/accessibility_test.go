package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestAccessibilityOfEveryKindOfPage runs axe-core's WCAG 2.2 A/AA rules on
// one page of every kind each role sees — forms with and without errors,
// lessons, the assessment paper and result, certificates, compliance
// records, the dashboard and the admin pages — and lists every problem.
func TestAccessibilityOfEveryKindOfPage(t *testing.T) {
	s := startSite(t, map[string]string{"LMS_DEMO": "true",
		"LMS_COURSES_DIR":       filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	b := testenv.NewBrowser(t, s.URL)
	check := func(paths ...string) {
		t.Helper()
		for _, p := range paths {
			b.Open(p)
			b.CheckAccessibility()
		}
	}

	// Signed out.
	check("/", "/courses", "/courses/sample-course", "/login", "/register", "/password/forgot", "/verify",
		"/pages/privacy", "/pages/standards", "/no-such-page", "/live")
	b.Open("/register")
	b.Fill("#f-name", "Zoë")
	b.Fill("#f-password", "short")
	b.Follow(`form[action="/register"] button[type=submit]`)
	b.MustContain(".error-summary", "at least 12 characters")
	b.CheckAccessibility()

	// A learner (who is also an advocate): the learning journey.
	signIn(b, "advocate1@demo.example", app.DemoPassword)
	b.Open("/courses/sample-course")
	b.Follow(`form[action="/courses/sample-course/enrol"] button`)
	b.CheckAccessibility() // the first lesson
	for i := 0; i < 3; i++ {
		b.Follow("#complete")
	}
	b.CheckAccessibility() // the course page, every lesson done
	b.Follow("#start-attempt")
	b.CheckAccessibility() // the assessment paper
	answerPaper(t, b, true)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
	b.CheckAccessibility() // the result
	check("/courses/sample-course/print", "/my/learning", "/my/certificates", "/account", "/notifications", "/my/compliance",
		"/my/evaluation/sample-course/before", "/my/evaluation/sample-course/after", "/my/evaluation/sample-course/follow-up",
		"/live", "/my/live")
	check("/account/export") // nothing asked for yet
	b.Follow(`form[action="/account/export"] button`)
	b.CheckAccessibility() // being prepared (or, on a fast machine, ready)
	waitForDownload(t, b)
	b.CheckAccessibility() // ready, with its link
	b.Open("/my/certificates")
	code := testenv.Eval[string](b, `(function(){const a=document.querySelector('a[href^="/verify/"]'); return a ? a.getAttribute("href") : ""})()`)
	if !strings.HasPrefix(code, "/verify/") {
		t.Fatal("no verification link on My certificates")
	}
	check(code)
	b.Follow(`.signout button`)

	// A manager: two-factor set-up, the dashboard, an advocate's record and its forms.
	signIn(b, "manager@demo.example", app.DemoPassword)
	b.CheckAccessibility() // two-factor set-up
	secret := b.Text("#totp-secret")
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)
	check("/manage", "/manage/policy", "/manage/advocates/new")
	b.Follow(`form[action="/manage/advocates"] button`) // nothing filled in
	b.MustContain(".error-summary", "There is a problem")
	b.MustContain(".error-summary", "Enter")
	b.CheckAccessibility()
	b.Open("/manage")
	b.Follow(`#advocates tbody tr th a`)
	b.CheckAccessibility()
	testenv.Eval[bool](b, `(document.querySelectorAll("details").forEach(d => d.open = true), true)`)
	b.CheckAccessibility() // with every record form open
	b.Open("/manage")
	b.Follow(`#advocates tbody tr:nth-child(2) th a`) // Ben: a reference still awaited
	b.MustContain("main", "Record the reference as received")
	b.CheckAccessibility()
	advocatePage := b.Path()
	check("/manage/lapsing?within=30", "/manage/lapsing?within=90&requirement=supervision", "/manage?filter=attention", "/manage?filter=due30&status=active",
		"/notifications", "/manage/training", "/manage/impact?course=sample-course")
	// The manager's pages on a phone, where tables become cards.
	b.Viewport(390, 844)
	check("/manage", "/manage/lapsing?within=30", advocatePage, "/notifications", "/manage/training", "/manage/impact?course=sample-course")
	b.Viewport(1280, 900)
	b.Follow(`.signout button`)

	// An admin.
	signIn(b, "admin@demo.example", app.DemoPassword)
	secret = b.Text("#totp-secret")
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)
	check("/admin", "/admin/users", "/admin/organisations", "/admin/certificates", "/admin/audit", "/admin/outbox", "/admin/retention",
		"/admin/courses/sample-course/completions")
	b.MustContain("#completions", "Amira Advocate") // who passed the course above
	check("/admin/content-review", "/manage/impact?course=sample-course", "/trainer/live", "/trainer/live/new")
	// The data-rights queue: the form with its problems, a request.
	check("/admin/rights", "/admin/rights/new")
	b.Follow(`form[action="/admin/rights"] button`) // nothing filled in
	b.MustContain(".error-summary", "Choose what they asked for")
	b.CheckAccessibility()
	b.Click("#kind-access")
	b.Fill("#f-requester", "Lena Learner")
	b.Fill("#f-contact", "learner@demo.example")
	setSelect(t, b, "#f-how", "email")
	b.Fill("#f-email", "learner@demo.example")
	b.Follow(`form[action="/admin/rights"] button`)
	b.MustContain("#due", "The answer is due by")
	b.CheckAccessibility()
	rightsRequest := b.Path()
	b.Open("/admin/users")
	b.Follow(`main table tbody tr a`)
	b.CheckAccessibility()

	// On a phone, where wide tables scroll or stack and the navigation wraps.
	b.Viewport(390, 844)
	check("/", "/courses/sample-course", "/admin/users", "/admin/audit", "/admin/courses/sample-course/completions", "/admin/content-review", "/account",
		"/admin/rights", "/admin/rights/new", rightsRequest, "/manage/impact?course=sample-course", "/trainer/live", "/trainer/live/new")
}
