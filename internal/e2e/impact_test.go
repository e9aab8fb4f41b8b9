package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

// evalAnswers is what one learner answers on the evaluation forms: the
// confidence per outcome before and after ("" not rated; before nil:
// skipped), the after-questions and the follow-up.
type evalAnswers struct {
	before, after            []string
	helpful, relevant        int
	recommend, different     string
	changed, family, example string
	passes                   bool
}

// evalSeeds are the other learners, who answer through the app's pages
// over plain HTTP (the last fails the assessment and stops there).
var evalSeeds = []evalAnswers{
	{before: []string{"1", "2"}, after: []string{"3", "4"}, helpful: 4, relevant: 5, recommend: "yes", changed: "yes", family: "yes", passes: true,
		different: "I will ask the parent what they understood from the letter."},
	{before: []string{"2", "2"}, after: []string{"4", "3"}, helpful: 5, relevant: 4, recommend: "yes", changed: "yes", family: "not-sure", passes: true},
	{before: []string{"3", ""}, after: []string{"4", ""}, helpful: 3, relevant: 3, recommend: "no", changed: "no", family: "no", passes: true,
		example: "I now send the agenda to the parent before the meeting."},
	{before: nil, after: []string{"5", "4"}, helpful: 2, relevant: 4, recommend: "not-sure", changed: "somewhat", family: "yes", passes: true},
	{before: []string{"1", "1"}, after: []string{"3", "3"}, helpful: 4, relevant: 2, recommend: "yes", changed: "yes", family: "no", passes: true},
	{before: []string{"2", "3"}, after: []string{"4", "4"}, helpful: 5, relevant: 5, recommend: "no", changed: "no", family: "yes", passes: true},
	{before: nil, passes: false},
}

// evalLearner is the learner the browser plays.
var evalLearner = evalAnswers{before: []string{"2", "3"}, after: []string{"4", "5"}, helpful: 5, relevant: 4, recommend: "yes",
	different: "Explain the child protection plan in plain words, and check it was understood.",
	changed:   "somewhat", family: "yes", example: "I go through the plan with the mother the day before the review.", passes: true}

// percent formats a share as the report does: whole per cent, halves up.
func percent(n, of int) string {
	return fmt.Sprintf("%.0f%%", math.Floor(100*float64(n)/float64(of)+0.5))
}

// meanOf formats a mean to one decimal, halves up.
func meanOf(sum, n int) string {
	return fmt.Sprintf("%.1f", math.Floor(10*float64(sum)/float64(n)+0.5)/10)
}

// expectedImpact computes the report's headline figures, and outcome 1's
// mean confidence before and after, from everyone's answers.
func expectedImpact(all []evalAnswers) map[string]string {
	var enrolled, tried, passed, helpful, helpfulN, relevant, relevantN, rec, recN, changed, changedN, family, familyN int
	var before1, after1, n1 int
	for _, a := range all {
		enrolled++
		tried++ // everyone here takes the assessment
		if !a.passes {
			continue
		}
		passed++
		if a.helpful > 0 {
			helpfulN++
			if a.helpful >= 4 {
				helpful++
			}
		}
		if a.relevant > 0 {
			relevantN++
			if a.relevant >= 4 {
				relevant++
			}
		}
		if a.recommend != "" {
			recN++
			if a.recommend == "yes" {
				rec++
			}
		}
		if a.changed != "" {
			changedN++
			if a.changed != "no" {
				changed++
			}
		}
		if a.family != "" {
			familyN++
			if a.family == "yes" {
				family++
			}
		}
		if a.before != nil && a.before[0] != "" && a.after[0] != "" {
			before1 += int(a.before[0][0] - '0')
			after1 += int(a.after[0][0] - '0')
			n1++
		}
	}
	return map[string]string{"enrolments": fmt.Sprint(enrolled), "completions": fmt.Sprint(passed), "pass": percent(passed, tried),
		"helpful": percent(helpful, helpfulN), "relevant": percent(relevant, relevantN), "recommend": percent(rec, recN),
		"changed": percent(changed, changedN), "family": percent(family, familyN),
		"before1": meanOf(before1, n1), "after1": meanOf(after1, n1)}
}

var (
	followUpLinkRE    = regexp.MustCompile(`https?://[^/\s]+(/my/evaluation/sample-course/follow-up)\b`)
	unsubscribeLinkRE = regexp.MustCompile(`https?://[^/\s]+(/unsubscribe\?u=[^\s"<>]+)`)
)

// TestJourneyCourseEvaluation: a learner enrols and rates their confidence
// from the first lesson (by mouse and keyboard), passes, and answers the
// after-questions from the result page; 90 days later the daily job emails
// the follow-up, which they open from the email, sign in to and answer,
// and then they turn optional emails off from the email's link. With six
// more learners' answers (and one who did not pass), an admin's report for
// the month shows the figures the answers give, two charts with titles,
// and a CSV and a PDF with the same figure; the learner's manager sees
// "fewer than 5". The forms, the unsubscribe page and the report pass
// axe-core at 1280 and 390 pixels wide, and are photographed at both.
func TestJourneyCourseEvaluation(t *testing.T) {
	testenv.NeedCommand(t, "pdftotext", "poppler-utils")
	mail := testenv.StartSMTP(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "SMTP_URL": mail.URL, "LMS_REGISTRATION": "open",
		"LMS_SECRET_KEY":        base64.StdEncoding.EncodeToString(key), // shared with the second instance below
		"LMS_COURSES_DIR":       filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml")})
	b := testenv.NewBrowser(t, s.URL)
	b.Viewport(1280, 900)
	const learner = "learner@demo.example"
	me := evalLearner

	// Enrol: the first lesson asks, optionally, for a confidence rating.
	signIn(b, learner, app.DemoPassword)
	b.Open("/courses/sample-course")
	b.Follow(`form[action="/courses/sample-course/enrol"] button`)
	b.MustContain("main h1", "First steps")
	b.MustContain("#ask-before", "Rate my confidence")
	lookBoth(t, b, "lesson-ask-before")
	b.Follow(`#ask-before a[href="/my/evaluation/sample-course/before"]`)
	b.MustContain("main h1", "Before you start: your confidence")
	if n := testenv.Eval[int](b, `document.querySelectorAll('#evaluation-form fieldset input[type=radio][name^="confidence_"]').length`); n != 10 {
		t.Fatalf("the confidence form has %d radios, want 5 for each of the 2 outcomes", n)
	}
	lookBoth(t, b, "evaluation-before")

	// Saved with nothing chosen: the error says what to do.
	b.Follow("#save-evaluation")
	b.MustContain(".error-summary", "Rate at least one outcome, or choose “Skip”")
	lookBoth(t, b, "evaluation-before-error")

	// Outcome 1 by mouse, on its label; outcome 2 by keyboard: Tab into
	// the group, Space, then the arrow keys.
	b.Click(`label[for="f-confidence_1-` + me.before[0] + `"]`)
	if got := checked(b, "confidence_1"); got != me.before[0] {
		t.Fatalf("clicking the label chose %q", got)
	}
	ctx, cancel := context.WithTimeout(b.Ctx, testenv.ActionTimeout)
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(`#f-confidence_1-`+me.before[0]))); err != nil {
		t.Fatal(err)
	}
	cancel()
	press(t, b, kb.Tab, " ", kb.ArrowRight, kb.ArrowRight)
	if got := checked(b, "confidence_2"); got != me.before[1] {
		t.Fatalf("Tab, Space and two right arrows chose %q for outcome 2, want %s", got, me.before[1])
	}
	if !testenv.Eval[bool](b, `document.activeElement.id === "f-confidence_2-3" && document.activeElement.matches(":focus-visible")`) {
		t.Errorf("the keyboard focus is on %q, or not shown", testenv.Eval[string](b, `document.activeElement.id`))
	}
	if got := checked(b, "confidence_1"); got != me.before[0] {
		t.Fatalf("the keys changed outcome 1 to %q", got)
	}
	b.Screenshot("evaluation-before-keyboard-1280")
	b.Follow("#save-evaluation")
	if p := b.Path(); p != "/courses/sample-course/lessons/01-first-steps" {
		t.Fatalf("after saving the ratings: at %s, want the first lesson", p)
	}
	b.MustContain(".notice", "Thank you: your answers are saved, without your name.")
	if testenv.Eval[bool](b, `!!document.querySelector("#ask-before")`) {
		t.Error("the first lesson still asks for the confidence rating once answered")
	}

	// The lessons and the assessment: a pass, and the after-questions.
	for i := 0; i < 3; i++ {
		b.Follow("#complete")
	}
	b.Follow("#start-attempt")
	answerPaper(t, b, true)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
	b.MustContain("#ask-after", "Answer the questions")
	resultPath := b.Path()
	lookBoth(t, b, "result-ask-after")
	b.Follow("#answer-after")
	if p := b.Path(); p != "/my/evaluation/sample-course/after" {
		t.Fatalf("Answer the questions went to %s", p)
	}
	b.MustContain("main h1", "How did the course go?")
	lookBoth(t, b, "evaluation-after")
	for i, v := range me.after {
		b.Click(fmt.Sprintf(`label[for="f-confidence_%d-%s"]`, i+1, v))
	}
	b.Click(fmt.Sprintf(`label[for="f-helpful-%d"]`, me.helpful))
	b.Click(fmt.Sprintf(`label[for="f-relevant-%d"]`, me.relevant))
	b.Fill("#f-different", me.different)
	b.Click(`label[for="f-recommend-` + me.recommend + `"]`)
	b.Screenshot("evaluation-after-answered-1280")
	b.Follow("#save-evaluation")
	if p := b.Path(); p != "/my/certificates" {
		t.Fatalf("after the after-questions: at %s, want My certificates", p)
	}
	b.MustContain(".notice", "Thank you: your answers are saved, without your name.")
	b.Open(resultPath)
	if testenv.Eval[bool](b, `!!document.querySelector("#ask-after")`) {
		t.Error("the result page still offers the after-questions once answered")
	}
	b.Follow(`.signout button`)

	// Six more learners answer, and one does not pass, through the same
	// pages over HTTP.
	var seeds []*webLearner
	for i, a := range evalSeeds {
		w := newWebLearner(t, s.URL, fmt.Sprintf("eval%d@example.org", i), fmt.Sprintf("kettle meadow lantern %d", i))
		w.register(fmt.Sprintf("Evaluation Learner %d", i))
		w.takeCourse(a)
		seeds = append(seeds, w)
	}

	// 90 days on, the daily job sends the follow-up, once, to each who passed.
	s.Clock.Advance(90 * 24 * time.Hour)
	if n := runDailyJobElsewhere(t, s); n < len(evalSeeds) {
		t.Errorf("the daily job queued %d messages, want at least the %d follow-ups", n, len(evalSeeds))
	}
	followUps := func(addr string) []testenv.Mail {
		var out []testenv.Mail
		for _, m := range mail.To(addr) {
			if strings.HasPrefix(m.Subject, "Has “Sample course for tests” changed how you work?") {
				out = append(out, m)
			}
		}
		return out
	}
	var got []testenv.Mail
	for deadline := time.Now().Add(30 * time.Second); len(got) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = followUps(learner)
	}
	if len(got) != 1 {
		t.Fatalf("the learner had %d follow-up emails, want 1", len(got))
	}
	link, unsubscribe := followUpLinkRE.FindStringSubmatch(got[0].Text), unsubscribeLinkRE.FindStringSubmatch(got[0].Text)
	if link == nil || unsubscribe == nil || !strings.HasPrefix(link[0], s.URL+"/") || !strings.HasPrefix(unsubscribe[0], s.URL+"/") {
		t.Fatalf("the follow-up email lacks the site's follow-up or unsubscribe link:\n%s", got[0].Text)
	}
	for i, w := range seeds {
		if n, want := len(followUps(w.email)), map[bool]int{true: 1, false: 0}[evalSeeds[i].passes]; n != want {
			t.Errorf("%s (passed %v) had %d follow-up emails, want %d", w.email, evalSeeds[i].passes, n, want)
		}
	}

	// The learner follows the email's link, signs in (their session has
	// long ended) and lands on the questions.
	b.Open(link[1])
	if p := b.Path(); !strings.HasPrefix(p, "/login") {
		t.Fatalf("the follow-up link, signed out: at %s, want the sign-in page", p)
	}
	b.Fill("#f-email", learner)
	b.Fill("#f-password", app.DemoPassword)
	b.Follow(`form[action="/login"] button[type=submit]`)
	if p := b.Path(); p != link[1] {
		t.Fatalf("after signing in from the follow-up link: at %s, want %s", p, link[1])
	}
	b.MustContain("main h1", "A few months on")
	lookBoth(t, b, "evaluation-follow-up")
	b.Click(`label[for="f-changed-` + me.changed + `"]`)
	b.Fill("#f-example", me.example)
	b.Click(`label[for="f-family-` + me.family + `"]`)
	b.Follow("#save-evaluation")
	if p := b.Path(); p != "/my/learning" {
		t.Fatalf("after the follow-up: at %s, want My learning", p)
	}
	b.MustContain(".notice", "Thank you: your answers are saved, without your name.")
	b.Open(link[1]) // asked once
	if p := b.Path(); p != "/my/learning" {
		t.Errorf("the follow-up link, answered: at %s, want My learning", p)
	}
	b.MustContain(".notice", "You have already answered these questions.")

	// The email's unsubscribe link: a page to confirm, then optional emails are off.
	b.Open(unsubscribe[1])
	b.MustContain("main h1", "Stop optional emails")
	lookBoth(t, b, "unsubscribe")
	b.Follow("#unsubscribe")
	b.MustContain(".notice", "you will get no more optional emails")
	b.Open("/account")
	if testenv.Eval[bool](b, `document.querySelector("#f-optional").checked`) {
		t.Error("after unsubscribing, the account page still has optional emails on")
	}
	b.Follow(`.signout button`)

	// The others answer the follow-up too (signing in again).
	for i, w := range seeds {
		if !evalSeeds[i].passes {
			continue
		}
		w.signIn()
		w.followUp(evalSeeds[i])
	}

	// An admin (a browser of their own) opens the report for the month.
	want := expectedImpact(append([]evalAnswers{me}, evalSeeds...))
	ab := testenv.NewBrowser(t, s.URL)
	ab.Viewport(1280, 900)
	signInSettingUp2FA(ab, s, "admin@demo.example")
	ab.Open("/admin")
	ab.Follow(`main a[href="/manage/impact"]`)
	ab.MustContain("main h1", "Training impact")
	setSelect(t, ab, "#f-course", "sample-course")
	testenv.Eval[bool](ab, `(document.querySelector("#f-from").value = "2026-11", document.querySelector("#f-to").value = "2026-11", true)`)
	ab.Follow(`form[action="/manage/impact"] button[type=submit]`)
	if p := ab.Path(); !strings.Contains(p, "course=sample-course") || !strings.Contains(p, "from=2026-11") || !strings.Contains(p, "to=2026-11") {
		t.Fatalf("the report's filter went to %s", p)
	}
	ab.MustContain("#h-figures", "Sample course for tests: November 2026 to November 2026, All organisations")
	for _, k := range []string{"enrolments", "completions", "pass", "helpful", "relevant", "recommend", "changed", "family"} {
		if got := strings.TrimSpace(ab.Text("#fig-" + k)); got != want[k] {
			t.Errorf("#fig-%s says %q, the answers give %q", k, got, want[k])
		}
	}
	if got := ab.Text(`#confidence tbody tr:first-child td[data-label="Before"]`); got != want["before1"] {
		t.Errorf("outcome 1's confidence before: %q, want %s", got, want["before1"])
	}
	if got := ab.Text(`#confidence tbody tr:first-child td[data-label="After"]`); got != want["after1"] {
		t.Errorf("outcome 1's confidence after: %q, want %s", got, want["after1"])
	}
	if figs := ab.Text("#figures"); strings.Contains(figs, "fewer than 5") {
		t.Errorf("the admin's report for 8 learners withholds a headline figure: %q", figs)
	}
	if page := ab.Text("main"); strings.Contains(page, "Evaluation Learner") || strings.Contains(page, "Lena") || strings.Contains(page, "@example.org") {
		t.Error("the admin's report names someone")
	}
	ab.MustContain("#comments ~ blockquote.comment", "") // at least one comment to mark publishable
	charts := func(b *testenv.Browser) []string {
		return testenv.Eval[[]string](b, `Array.from(document.querySelectorAll('main svg.chart[role="img"]')).map(s => {
			const r = s.getBoundingClientRect(), t = s.querySelector(":scope > title"), st = getComputedStyle(s);
			return (r.width > 0 && r.height > 0 && st.visibility !== "hidden" && st.display !== "none" ? "visible" : "hidden") + "|" +
				Math.round(r.width) + "|" + (t ? t.textContent.trim() : "") })`)
	}
	checkCharts := func(width int) {
		t.Helper()
		cs := charts(ab)
		if len(cs) != 2 {
			t.Fatalf("the report at %d px has %d charts, want 2", width, len(cs))
		}
		for _, c := range cs {
			parts := strings.SplitN(c, "|", 3)
			if parts[0] != "visible" || parts[2] == "" {
				t.Errorf("a chart at %d px is %s, %s px wide, titled %q", width, parts[0], parts[1], parts[2])
			}
			if w := atoi(t, parts[1]); w > width {
				t.Errorf("a chart at %d px is %d px wide", width, w)
			}
		}
	}
	checkCharts(1280)
	look(ab, "impact-1280")
	ab.Viewport(390, 844)
	checkCharts(390)
	look(ab, "impact-390")
	if n := overflow(ab, "#figures"); n > 0 {
		t.Errorf("the report at 390 px is %d px wider than the screen", n)
	}
	ab.Viewport(1280, 900)

	// The CSV: one anonymous line per learner, no names.
	csvLink := testenv.Eval[string](ab, `document.querySelector("#impact-csv").getAttribute("href")`)
	if !strings.HasPrefix(csvLink, "/manage/impact.csv?course=sample-course&from=2026-11&to=2026-11") {
		t.Errorf("the CSV link is %q", csvLink)
	}
	csv := string(ab.Fetch(csvLink))
	lines := strings.Split(strings.TrimRight(csv, "\r\n"), "\n")
	if len(lines) != 1+len(evalSeeds)+1 || !strings.HasPrefix(lines[0], "enrolled_month,passed,attempts,before_1,before_2,after_1,after_2,helpful") {
		t.Errorf("the CSV has %d lines, want a header and %d rows:\n%s", len(lines), len(evalSeeds)+1, csv)
	}
	for _, leak := range []string{"Lena", "learner@", "eval0@", "Evaluation Learner", me.different, me.example} {
		if strings.Contains(csv, leak) {
			t.Errorf("the CSV holds %q", leak)
		}
	}

	// The PDF for funders: "Found it helpful" and the page's figure.
	pdfLink := testenv.Eval[string](ab, `document.querySelector("#impact-pdf").getAttribute("href")`)
	pdf := ab.Fetch(pdfLink)
	file := filepath.Join(t.TempDir(), "impact.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	helpful := strings.TrimSpace(ab.Text("#fig-helpful"))
	if !strings.Contains(string(text), "Found it helpful") || !regexp.MustCompile(`Found it helpful\s+`+regexp.QuoteMeta(helpful)).Match(text) {
		t.Errorf("the PDF lacks “Found it helpful” with the page's %s:\n%.2000s", helpful, text)
	}
	if strings.Contains(string(text), me.different) {
		t.Error("the PDF quotes a comment no admin has published")
	}
	ab.Follow(`.signout button`)

	// The learner's manager sees their own organisation only: one learner,
	// too few to show anything.
	signInSettingUp2FA(ab, s, "manager@demo.example")
	ab.Open("/manage")
	ab.Follow("#impact-link")
	ab.Open("/manage/impact?course=sample-course&from=2026-11&to=2026-11")
	if got := ab.Text("#fig-enrolments"); got != "fewer than 5" {
		t.Errorf("the manager's enrolments: %q, want fewer than 5", got)
	}
	for _, k := range []string{"helpful", "changed", "family"} {
		if got := ab.Text("#fig-" + k); got != "fewer than 5 responses" {
			t.Errorf("the manager's #fig-%s: %q, want fewer than 5 responses", k, got)
		}
	}
	checkCharts(1280)
	lookBoth(t, ab, "impact-manager")
}
