package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/learning"
)

const sampleDir = "../../courses/testdata"

// learner is a signed-in client on the sample course, with every lesson done.
func (w *world) readyLearner(persona string) *client {
	w.t.Helper()
	c := w.client(w.srv, w.session(persona))
	if resp, _ := c.post("/courses/sample-course/enrol", nil); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("enrol: %d", resp.StatusCode)
	}
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		if resp, _ := c.post("/courses/sample-course/lessons/"+l+"/complete", nil); resp.StatusCode != http.StatusSeeOther {
			w.t.Fatalf("complete %s: %d", l, resp.StatusCode)
		}
	}
	return c
}

var questionRE = regexp.MustCompile(`name="q_([a-z0-9]+)" value="(\d+)"`)

// paper starts (or resumes) an attempt and returns the attempt number and
// the question IDs on the paper, in order.
func (w *world) paper(c *client) (int, []string) {
	w.t.Helper()
	if resp, _ := c.post("/courses/sample-course/assessment/start", nil); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("start: %d", resp.StatusCode)
	}
	_, body := c.do("GET", "/courses/sample-course/assessment", nil)
	m := regexp.MustCompile(`action="/courses/sample-course/assessment/(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		w.t.Fatalf("no paper on the assessment page")
	}
	var n int
	fmt.Sscan(m[1], &n)
	var ids []string
	for _, q := range questionRE.FindAllStringSubmatch(body, -1) {
		if len(ids) == 0 || ids[len(ids)-1] != q[1] {
			ids = append(ids, q[1])
		}
	}
	return n, ids
}

// answers returns form values answering the given questions right (or wrong).
func answers(ids []string, right bool) url.Values {
	correct := map[string][]string{"s1": {"0"}, "s2": {"0"}, "s3": {"0", "2"}, "s4": {"1"}, "s5": {"0"}, "s6": {"1"}}
	wrong := map[string][]string{"s1": {"1"}, "s2": {"1"}, "s3": {"1"}, "s4": {"0"}, "s5": {"1"}, "s6": {"0"}}
	v := url.Values{}
	for _, id := range ids {
		if right {
			v[("q_" + id)] = correct[id]
		} else {
			v[("q_" + id)] = wrong[id]
		}
	}
	return v
}

func TestAssessmentOverHTTP(t *testing.T) {
	t.Run("RefreshShowsTheSamePaper", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		n1, ids1 := w.paper(c)
		n2, ids2 := w.paper(c) // pressing start again, or refreshing
		if n1 != n2 || strings.Join(ids1, ",") != strings.Join(ids2, ",") || len(ids1) != 4 {
			t.Fatalf("papers differ: %d %v, %d %v", n1, ids1, n2, ids2)
		}
	})
	t.Run("DoubleSubmitRecordsOneResult", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		n, ids := w.paper(c)
		target := fmt.Sprintf("/courses/sample-course/assessment/%d", n)
		first, _ := c.post(target, answers(ids, false))
		second, _ := c.post(target, answers(ids, true)) // a second, different submission
		if first.StatusCode != http.StatusSeeOther || second.StatusCode != http.StatusSeeOther || first.Header.Get("Location") != second.Header.Get("Location") {
			t.Fatalf("submits: %d %s, %d %s", first.StatusCode, first.Header.Get("Location"), second.StatusCode, second.Header.Get("Location"))
		}
		_, body := c.do("GET", first.Header.Get("Location"), nil)
		if !strings.Contains(body, "You did not pass this time") {
			t.Fatal("the second submission replaced the first result")
		}
		e, _ := w.env.DB.Enrolment(context.Background(), learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
		if len(e.Attempts) != 1 || e.Completion != nil {
			t.Fatalf("enrolment after double submit: %d attempts, completion %v", len(e.Attempts), e.Completion)
		}
	})
	t.Run("ConcurrentSubmitsRecordOneResult", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		n, ids := w.paper(c)
		form := answers(ids, true)
		form.Set("_csrf", c.csrf())
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); c.do("POST", fmt.Sprintf("/courses/sample-course/assessment/%d", n), form) }()
		}
		wg.Wait()
		e, _ := w.env.DB.Enrolment(context.Background(), learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
		// The pass was handed over: one certificate issued, the CPD step done.
		if e.Completion == nil || e.Completion.Attempt != 1 || len(e.Attempts) != 1 || len(e.Pending) != 0 || len(e.CertificateCodes) != 1 {
			t.Fatalf("enrolment: completion %+v, attempts %d, pending %v, certificates %v", e.Completion, len(e.Attempts), e.Pending, e.CertificateCodes)
		}
	})
	t.Run("TamperedAnswersAre422WithThePaper", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		n, ids := w.paper(c)
		bank := map[string]bool{"s1": true, "s2": true, "s3": true, "s4": true, "s5": true, "s6": true}
		for _, id := range ids {
			delete(bank, id)
		}
		var notOnPaper string
		for id := range bank {
			notOnPaper = id
		}
		form := answers(ids, true)
		form.Set("q_"+notOnPaper, "0")
		resp, body := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "did not match this paper") || !strings.Contains(body, `name="q_`+ids[0]+`"`) {
			t.Fatalf("got %d; want 422 with the message and the paper", resp.StatusCode)
		}
		// What was chosen is kept.
		if !strings.Contains(body, "checked") {
			t.Fatal("answers not kept on the re-shown paper")
		}
		form = answers(ids, true)
		form.Set("q_"+ids[0], "not-a-number")
		if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), form); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("non-numeric answer: got %d, want 422", resp.StatusCode)
		}
		if resp, _ := c.post("/courses/sample-course/assessment/9", answers(ids, true)); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("attempt that does not exist: got %d, want 404", resp.StatusCode)
		}
	})
	t.Run("RetryWaitAndAttemptsLimit", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		for attempt := 1; attempt <= 3; attempt++ {
			n, ids := w.paper(c)
			if n != attempt {
				t.Fatalf("attempt number: got %d, want %d", n, attempt)
			}
			c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, false))
			if attempt < 3 {
				resp, _ := c.post("/courses/sample-course/assessment/start", nil)
				_, body := c.do("GET", "/courses/sample-course/assessment", nil)
				if resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "You can try again from") || strings.Contains(body, "Submit answers") {
					t.Fatalf("attempt %d: a new paper before the retry wait", attempt)
				}
				w.advance(23 * time.Hour)
				c.cookies["lms_session"] = w.session("learner") // the old session has gone idle
				if _, body := c.do("GET", "/courses/sample-course/assessment", nil); !strings.Contains(body, "You can try again from") {
					t.Fatal("retry allowed after 23 h; want 24 h")
				}
				w.advance(time.Hour + time.Minute)
				c.cookies["lms_session"] = w.session("learner")
			}
		}
		w.advance(48 * time.Hour)
		c.cookies["lms_session"] = w.session("learner")
		c.post("/courses/sample-course/assessment/start", nil)
		_, body := c.do("GET", "/courses/sample-course/assessment", nil)
		if !strings.Contains(body, "You have used all your attempts") || strings.Contains(body, "Submit answers") {
			t.Fatal("a fourth attempt was allowed; max_attempts is 3")
		}
	})
	t.Run("AssessmentLockedUntilLessonsDone", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.client(w.srv, w.session("learner"))
		c.post("/courses/sample-course/enrol", nil)
		c.post("/courses/sample-course/assessment/start", nil)
		_, body := c.do("GET", "/courses/sample-course/assessment", nil)
		if !strings.Contains(body, "Complete every lesson first") || strings.Contains(body, "Submit answers") {
			t.Fatal("assessment open before the lessons are done")
		}
	})
}

func TestCompletionSurvivesACrashBeforeItIsRecorded(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	c := w.readyLearner("learner")
	n, ids := w.paper(c)
	// The process dies after inserting the submission, before updating the
	// enrolment: simulate by inserting the submission directly.
	cat := w.svc.Learn.Catalogue
	course, _ := cat.Get("sample-course")
	att, err := w.env.DB.Attempt(ctx, learning.AttemptID(w.users["learner"].ID, "sample-course", n))
	if err != nil {
		t.Fatal(err)
	}
	ans := courses.Answers{}
	for id, v := range answers(ids, true) {
		for _, x := range v {
			var i int
			fmt.Sscan(x, &i)
			ans[strings.TrimPrefix(id, "q_")] = append(ans[strings.TrimPrefix(id, "q_")], i)
		}
	}
	res, err := courses.Grade(&course.Assessment, att.Paper, ans)
	if err != nil || !res.Passed {
		t.Fatalf("grade: %+v %v", res, err)
	}
	if err := w.env.DB.InsertSubmission(ctx, &learning.Submission{ID: att.ID, UserID: att.UserID, Course: "sample-course", No: n, At: w.clock(), Answers: ans, Result: res}); err != nil {
		t.Fatal(err)
	}
	e, _ := w.env.DB.Enrolment(ctx, learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
	if e.Completion != nil {
		t.Fatal("completion recorded before the reconciler ran")
	}
	fixed, err := w.svc.Learn.Reconcile(ctx)
	if err != nil || fixed != 1 {
		t.Fatalf("reconcile: fixed %d, %v", fixed, err)
	}
	e, _ = w.env.DB.Enrolment(ctx, learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
	if e.Completion == nil || e.Completion.CourseVersion != "2026-11-01" || e.Completion.Percent != 100 || strings.Join(e.Pending, ",") != "certificate,cpd,impact" || e.OpenAttempt != 0 {
		t.Fatalf("after reconcile: %+v pending %v open %d", e.Completion, e.Pending, e.OpenAttempt)
	}
	if again, _ := w.svc.Learn.Reconcile(ctx); again != 0 {
		t.Fatalf("second reconcile fixed %d, want 0", again)
	}
	_, body := c.do("GET", "/my/learning", nil)
	if !strings.Contains(body, "Sample course for tests") || !strings.Contains(body, `id="cpd-total">0.5<`) {
		t.Fatal("My learning does not show the completed course and its CPD hours")
	}
}

func TestCoursePageShowsWhenEachSourceWasChecked(t *testing.T) {
	w := newWorld(t, sampleDir)
	_, body := w.client(w.srv, "").do("GET", "/courses/sample-course", nil)
	if want := `(checked <time datetime="2026-11-01">1 November 2026</time>)`; !strings.Contains(body, want) {
		t.Fatalf("course page: want %s", want)
	}
}

// courseVersion writes a copy of the sample course as a new version into a
// temporary catalogue; with changeQuestions, every single- and
// multiple-choice question gains an option, so papers drawn from the old
// version no longer fit.
func courseVersion(t *testing.T, version string, changeQuestions bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "courses")
	src := filepath.Join(sampleDir, "sample-course")
	dst := filepath.Join(dir, "sample-course")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		switch e.Name() {
		case "course.yaml":
			s = regexp.MustCompile(`(?m)^version: .*$`).ReplaceAllString(s, "version: "+version)
		case "assessment.yaml":
			if changeQuestions {
				var out []string
				isTF := false
				for _, line := range strings.Split(s, "\n") {
					if strings.HasPrefix(strings.TrimSpace(line), "type:") {
						isTF = strings.Contains(line, "true_false")
					}
					if strings.HasPrefix(line, "    explanation:") && !isTF {
						out = append(out, "      - text: An option added in the new version")
					}
					out = append(out, line)
				}
				s = strings.Join(out, "\n")
			}
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestANewCourseVersionDuringAnAttempt: a paper drawn before a new version
// of the course is still graded if its questions did not change, and the
// completion keeps the version it was drawn from; if they changed, the
// paper is withdrawn without costing an attempt and a new one is drawn from
// the new version.
func TestANewCourseVersionDuringAnAttempt(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	unchanged := w.readyLearner("learner")
	n1, ids1 := w.paper(unchanged)
	changed := w.readyLearner("learner2")
	n2, ids2 := w.paper(changed)

	// Same questions, new version: the open paper is graded as drawn.
	w.courses = courseVersion(t, "2026-12-01", false)
	srv, _ := w.newInstance()
	c := w.client(srv, w.session("learner"))
	if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n1), answers(ids1, true)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit after a new version with the same questions: %d", resp.StatusCode)
	}
	e, _ := w.env.DB.Enrolment(ctx, learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
	if e.Completion == nil || e.Completion.CourseVersion != "2026-11-01" {
		t.Fatalf("completion: %+v, want the version the paper was drawn from", e.Completion)
	}

	// Changed questions: the paper is withdrawn, with a message.
	w.courses = courseVersion(t, "2026-12-02", true)
	srv, _ = w.newInstance()
	c = w.client(srv, w.session("learner2"))
	resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n2), answers(ids2, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/courses/sample-course/assessment" {
		t.Fatalf("submit after the questions changed: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := c.do("GET", "/courses/sample-course/assessment", nil)
	if !strings.Contains(page, "some of its questions changed, so that paper no longer counts") || !strings.Contains(page, "Attempts left: 3") {
		t.Fatalf("assessment page after the paper was withdrawn: %.3000s", page)
	}
	n3, ids3 := w.paper(c)
	if n3 != n2+1 {
		t.Fatalf("new paper is attempt %d, want %d", n3, n2+1)
	}
	if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n3), answers(ids3, true)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit the new paper: %d", resp.StatusCode)
	}
	e, _ = w.env.DB.Enrolment(ctx, learning.EnrolmentID(w.users["learner2"].ID, "sample-course"))
	if e.Completion == nil || e.Completion.CourseVersion != "2026-12-02" || !e.Attempts[strconv.Itoa(n2)].Void {
		t.Fatalf("after passing the new paper: completion %+v, attempt %d %+v", e.Completion, n2, e.Attempts[strconv.Itoa(n2)])
	}
}
