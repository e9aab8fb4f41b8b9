package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// Helpers of the journeys: a learner over plain HTTP, a second instance
// running the daily job, keyboard input and the two-width look.

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
