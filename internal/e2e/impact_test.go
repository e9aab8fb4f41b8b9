package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
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

// webLearner is a person using the site over plain HTTP: each form is
// fetched first, as a browser would, and sent back with its CSRF token.
type webLearner struct {
	t               *testing.T
	base            string
	c               *http.Client
	email, password string
}

func newWebLearner(t *testing.T, base, email, password string) *webLearner {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &webLearner{t: t, base: base, email: email, password: password, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (w *webLearner) do(req *http.Request) (int, string, string) {
	w.t.Helper()
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// get fetches a page; it fails the test unless the page answers 200.
func (w *webLearner) get(path string) string {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.base+path, nil)
	status, loc, body := w.do(req)
	if status != http.StatusOK {
		w.t.Fatalf("%s: GET %s: %d (to %q) %.400s", w.email, path, status, loc, body)
	}
	return body
}

var formTokenRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// submit opens page, finds the form posting to action on it, and sends
// form with the page's CSRF token. It fails the test unless the answer
// is a redirect, whose target it returns.
func (w *webLearner) submit(page, action string, form url.Values) string {
	w.t.Helper()
	body := w.get(page)
	if !strings.Contains(body, `action="`+action+`"`) {
		w.t.Fatalf("%s: %s has no form posting to %s", w.email, page, action)
	}
	tok := formTokenRE.FindStringSubmatch(body)
	if tok == nil {
		w.t.Fatalf("%s: no CSRF token on %s", w.email, page)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", tok[1])
	req, _ := http.NewRequest("POST", w.base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, loc, resp := w.do(req)
	if status != http.StatusSeeOther && status != http.StatusFound {
		w.t.Fatalf("%s: POST %s: %d %.600s", w.email, action, status, resp)
	}
	return strings.TrimPrefix(loc, w.base)
}

func (w *webLearner) register(name string) {
	w.t.Helper()
	w.submit("/register", "/register", url.Values{"name": {name}, "email": {w.email}, "password": {w.password},
		"org": {auth.NoOrganisation}, "job_role": {string(auth.JobAdvocate)}})
}

func (w *webLearner) signIn() {
	w.t.Helper()
	if to := w.submit("/login", "/login", url.Values{"email": {w.email}, "password": {w.password}}); strings.HasPrefix(to, "/login") {
		w.t.Fatalf("%s: signing in went to %s", w.email, to)
	}
}

var paperRE = regexp.MustCompile(`action="(/courses/sample-course/assessment/\d+)"`)
var paperQuestionRE = regexp.MustCompile(`name="q_([a-z0-9]+)" value="\d+"`)

// ratings puts a confidence rating into a form.
func ratings(form url.Values, r []string) {
	for i, v := range r {
		if v != "" {
			form.Set(fmt.Sprintf("confidence_%d", i+1), v)
		}
	}
}

// takeCourse enrols, answers (or skips) the confidence rating, completes
// the lessons and takes the assessment, then answers the after-questions.
func (w *webLearner) takeCourse(a evalAnswers) {
	w.t.Helper()
	const course = "/courses/sample-course"
	lesson := w.submit(course, course+"/enrol", nil)
	if !strings.Contains(w.get(lesson), `id="ask-before"`) {
		w.t.Fatalf("%s: the first lesson does not offer the confidence rating", w.email)
	}
	form := url.Values{}
	if a.before == nil {
		form.Set("skip", "yes")
	} else {
		ratings(form, a.before)
	}
	w.submit("/my/evaluation/sample-course/before", "/my/evaluation/sample-course/before", form)
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		w.submit(course+"/lessons/"+l, course+"/lessons/"+l+"/complete", nil)
	}
	w.submit(course+"/assessment", course+"/assessment/start", nil)
	paper := w.get(course + "/assessment")
	action := paperRE.FindStringSubmatch(paper)
	if action == nil {
		w.t.Fatalf("%s: no paper on the assessment page", w.email)
	}
	pick := 1
	if a.passes {
		pick = 0
	}
	answers := url.Values{}
	for _, q := range paperQuestionRE.FindAllStringSubmatch(paper, -1) {
		if answers.Has("q_" + q[1]) {
			continue
		}
		for _, opt := range sampleAnswers[q[1]][pick] {
			answers.Add("q_"+q[1], fmt.Sprint(opt))
		}
	}
	result := w.submit(course+"/assessment", action[1], answers)
	page := w.get(result)
	if a.passes != strings.Contains(page, `id="ask-after"`) {
		w.t.Fatalf("%s: passes %v, but the result page offers the after-questions: %v", w.email, a.passes, !a.passes)
	}
	if !a.passes {
		return
	}
	form = url.Values{"helpful": {fmt.Sprint(a.helpful)}, "relevant": {fmt.Sprint(a.relevant)}, "recommend": {a.recommend}, "different": {a.different}}
	ratings(form, a.after)
	w.submit("/my/evaluation/sample-course/after", "/my/evaluation/sample-course/after", form)
}

// followUp answers the follow-up.
func (w *webLearner) followUp(a evalAnswers) {
	w.t.Helper()
	const page = "/my/evaluation/sample-course/follow-up"
	w.submit(page, page, url.Values{"changed": {a.changed}, "family": {a.family}, "example": {a.example}})
}

// runDailyJobElsewhere starts a second instance of the application on the
// site's database, bucket, key and mail server, as a deployment of two
// instances has, runs the daily reminder job there as its hourly loop
// would (at the site's clock), waits until its email has been handed to
// the mail server and stops it. It returns how many messages the job
// queued.
func runDailyJobElsewhere(t *testing.T, s *site) int {
	t.Helper()
	vars := map[string]string{
		"LMS_ADDR":         fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"LMS_BASE_URL":     s.URL, // its links lead to the site
		"LMS_DATA_DIR":     t.TempDir(),
		"MONGODB_URI":      s.Env.MongoURI,
		"MONGODB_DATABASE": s.Env.DBName,
		"MINIO_ENDPOINT":   s.Env.MinioEndpoint,
		"MINIO_ACCESS_KEY": s.Env.MinioAccessKey,
		"MINIO_SECRET_KEY": s.Env.MinioSecretKey,
		"MINIO_BUCKET":     s.Env.Bucket,
		"LMS_LOG_LEVEL":    "warn",
	}
	for k, v := range s.extra { // the same key, mail server, courses and policy
		vars[k] = v
	}
	if vars["LMS_SECRET_KEY"] == "" {
		t.Fatal("the site needs a known LMS_SECRET_KEY for a second instance")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	services := make(chan *app.Services, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Env{Args: []string{"serve"}, Getenv: func(k string) string { return vars[k] },
			Stdout: testWriter{t}, Stderr: testWriter{t}, Clock: s.Clock.Now, NoJobs: true,
			Prepare: func(_ *server.Server, svc *app.Services, _ *store.DB) { services <- svc }})
	}()
	var svc *app.Services
	select {
	case svc = <-services:
	case err := <-done:
		t.Fatalf("the second instance stopped during start-up: %v", err)
	case <-time.After(startTimeout):
		t.Fatalf("the second instance did not start within %s", startTimeout)
	}
	res, err := svc.Remind.RunDaily(ctx)
	if err != nil || !res.Ran {
		t.Fatalf("the daily job on the second instance: ran %v, %v", res.Ran, err)
	}
	// A rerun the same day (another instance, or a restart) sends nothing more.
	again, err := svc.Remind.Run(ctx)
	if err != nil || again != 0 {
		t.Errorf("a rerun of the job queued %d more messages (%v), want none", again, err)
	}
	svc.Mail.Wait()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the second instance stopped with error: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("the second instance did not stop within 15 s")
	}
	return res.Queued
}

// press sends keys to the focused element, as a person at a keyboard.
func press(t *testing.T, b *testenv.Browser, keys ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, testenv.ActionTimeout)
	defer cancel()
	for _, k := range keys {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("press %q: %v", k, err)
		}
	}
}

// checked returns the value of the radio chosen in a group ("" none).
func checked(b *testenv.Browser, name string) string {
	return testenv.Eval[string](b, `(function(){const r=document.querySelector('input[name="`+name+`"]:checked'); return r ? r.value : ""})()`)
}

// both checks the page's accessibility and photographs it at 1280 and at
// 390 pixels wide, and reports content wider than the phone's screen; it
// leaves the browser at 1280.
func lookBoth(t *testing.T, b *testenv.Browser, name string) {
	t.Helper()
	b.Viewport(1280, 900)
	look(b, name+"-1280")
	b.Viewport(390, 844)
	look(b, name+"-390")
	if n := testenv.Eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); n > 0 {
		t.Errorf("%s at 390 px: the page is %d px wider than the screen", b.Path(), n)
	}
	b.Viewport(1280, 900)
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
	signIn(ab, "admin@demo.example", app.DemoPassword)
	secret := ab.Text("#totp-secret")
	ab.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	ab.Follow(`form[action="/account/2fa"] button`)
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
	signIn(ab, "manager@demo.example", app.DemoPassword)
	secret = ab.Text("#totp-secret")
	ab.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	ab.Follow(`form[action="/account/2fa"] button`)
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
