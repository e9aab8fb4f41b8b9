package server_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// evalLearner is one of the test's learners and the answers it gave.
type evalLearner struct {
	i       int
	id      string
	email   string
	c       *client
	before  []int // confidence per outcome, 0: not rated; nil: skipped
	after   []int
	helpful int
	relev   int
	recomm  string
	passed  bool
	tried   bool
	changed string // follow-up
	family  string
}

// pct formats a share as the report should: whole per cent, halves up.
func pct(n, of int) string { return fmt.Sprintf("%.0f%%", math.Floor(100*float64(n)/float64(of)+0.5)) }

// one formats a mean to one decimal, halves up.
func one(sum, n int) string {
	return fmt.Sprintf("%.1f", math.Floor(10*float64(sum)/float64(n)+0.5)/10)
}

var figureRE = regexp.MustCompile(`id="fig-([a-z]+)">([^<]*)<`)

func figures(page string) map[string]string {
	out := map[string]string{}
	for _, m := range figureRE.FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestImpactOfACourseOver90Days: 40 learners of two organisations enrol,
// rate their confidence (or skip), pass (some after a fail, two not at
// all, two stop after a lesson) and say how it went; 90 days after each
// pass the follow-up goes once to each, from two job runners started
// together and a rerun; some answer it. The report's figures equal those
// computed here from the answers given; the partner organisation's
// manager, with 4 learners, sees "fewer than 5 responses"; the CSV holds
// anonymous rows and the PDF the headline figures; the unsubscribe link in
// the email works, and a forged one does not.
func TestImpactOfACourseOver90Days(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	hash := auth.HashPassword("correct horse battery staple")
	var ls []*evalLearner
	for i := range 40 {
		org := w.orgA.ID
		if i >= 36 {
			org = w.orgB.ID
		}
		email := fmt.Sprintf("eval%02d@example.org", i)
		u, err := w.svc.Auth.CreateUser(ctx, email, fmt.Sprintf("Eval Learner %02d", i), hash, org, auth.JobOther, []auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, &evalLearner{i: i, id: u.ID, email: email, c: w.client(w.srv, w.sessionFor(u.ID))})
	}
	lessons := []string{"01-first-steps", "02-second-steps", "03-last-steps"}
	for _, l := range ls {
		i := l.i
		if resp, _ := l.c.post("/courses/sample-course/enrol", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enrol %d: %d", i, resp.StatusCode)
		}
		if _, page := l.c.do("GET", "/courses/sample-course/lessons/01-first-steps", nil); !strings.Contains(page, `id="ask-before"`) {
			t.Fatalf("the first lesson does not offer the confidence rating")
		}
		form := url.Values{}
		if i%10 == 9 {
			form.Set("skip", "yes")
		} else {
			l.before = []int{1 + i%3, 0}
			form.Set("confidence_1", fmt.Sprint(l.before[0]))
			if i%7 != 0 {
				l.before[1] = 1 + i%4
				form.Set("confidence_2", fmt.Sprint(l.before[1]))
			}
		}
		if resp, body := l.c.post("/my/evaluation/sample-course/before", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("before %d: %d %.500s", i, resp.StatusCode, body)
		}
		if _, page := l.c.do("GET", "/courses/sample-course/lessons/01-first-steps", nil); strings.Contains(page, `id="ask-before"`) {
			t.Fatal("the confidence rating is offered again after an answer or a skip")
		}
		n := len(lessons)
		if i == 32 || i == 33 {
			n = 1 // they stop after the first lesson
		}
		for _, name := range lessons[:n] {
			if resp, _ := l.c.post("/courses/sample-course/lessons/"+name+"/complete", nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("lesson %d: %d", i, resp.StatusCode)
			}
		}
		if n < len(lessons) {
			continue
		}
		l.tried = true
		no, ids := w.paper(l.c)
		fail := i == 34 || i == 35 || i%8 == 7 // 34 and 35 never pass; the others pass a day later
		v := answers(ids, !fail)
		if !fail && i%4 == 0 {
			v["q_"+ids[0]] = answers(ids[:1], false)["q_"+ids[0]] // one wrong: still a pass
		}
		if resp, _ := l.c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", no), v); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("submit %d: %d", i, resp.StatusCode)
		}
		l.passed = !fail
	}
	// A day later, the ones who failed (but for two) pass.
	w.advance(25 * time.Hour)
	fresh := func() { // sessions end after a day without use
		for _, l := range ls {
			l.c = w.client(w.srv, w.sessionFor(l.id))
		}
	}
	fresh()
	for _, l := range ls {
		if l.i%8 == 7 && l.i != 34 && l.i != 35 && l.tried {
			no, ids := w.paper(l.c)
			if resp, _ := l.c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", no), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("resubmit %d: %d", l.i, resp.StatusCode)
			}
			l.passed = true
		}
	}
	// After passing: the optional questions.
	for _, l := range ls {
		if !l.passed {
			if resp, _ := l.c.do("GET", "/my/evaluation/sample-course/after", nil); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("the after-questions before a pass: %d", resp.StatusCode)
			}
			continue
		}
		i := l.i
		form := url.Values{}
		if i%6 == 5 {
			form.Set("skip", "yes")
		} else {
			l.after = []int{min(5, 1+i%3+2), 3 + i%3}
			l.helpful, l.relev = 1+(i*7)%5, 1+(i*3)%5
			l.recomm = []string{"yes", "no", "not-sure"}[i%3]
			form.Set("confidence_1", fmt.Sprint(l.after[0]))
			form.Set("confidence_2", fmt.Sprint(l.after[1]))
			form.Set("helpful", fmt.Sprint(l.helpful))
			form.Set("relevant", fmt.Sprint(l.relev))
			form.Set("recommend", l.recomm)
			if i%4 == 1 {
				form.Set("different", fmt.Sprintf("I will ask the parent first (learner %d).", i))
			}
		}
		if resp, body := l.c.post("/my/evaluation/sample-course/after", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after %d: %d %.800s", i, resp.StatusCode, body)
		}
		if resp, _ := l.c.post("/my/evaluation/sample-course/after", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a second answer: %d", resp.StatusCode)
		}
	}
	// A bad answer says so and keeps what was typed (on a learner who has
	// not answered the follow-up yet).
	if resp, page := ls[0].c.post("/my/evaluation/sample-course/follow-up", url.Values{"changed": {"maybe"}, "example": {"Typed example"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Choose yes, somewhat or no") || !strings.Contains(page, "Typed example") {
		t.Fatalf("a bad follow-up answer: %d", resp.StatusCode)
	}

	// 90 days after the passes: two runners at once, on each of the two
	// days the follow-ups fall due, then a rerun.
	_, otherSvc := w.newInstance()
	w.advance(89 * 24 * time.Hour)
	for range 2 {
		var wg sync.WaitGroup
		for _, run := range []func(){func() { _, _ = w.svc.Remind.RunDaily(ctx) }, func() { _, _ = otherSvc.Remind.RunDaily(ctx) }} {
			wg.Add(1)
			go func() { defer wg.Done(); run() }()
		}
		wg.Wait()
		w.advance(24 * time.Hour)
	}
	if _, err := w.svc.Remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	fresh()
	var unsubscribe string
	for _, l := range ls {
		msgs, _, err := w.env.DB.Messages(ctx, l.email, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Kind == "follow-up" {
				n++
				if unsubscribe == "" {
					unsubscribe = regexp.MustCompile(`http://lms\.test(/unsubscribe\?u=[^\s"<]+)`).FindStringSubmatch(m.Text)[1]
				}
			}
		}
		if want := map[bool]int{true: 1, false: 0}[l.passed]; n != want {
			t.Fatalf("learner %d (passed %v) got %d follow-ups, want %d", l.i, l.passed, n, want)
		}
	}
	// Some answer it (from the link in the email and the notification).
	for _, l := range ls {
		if !l.passed || l.i%5 == 4 {
			continue
		}
		form := url.Values{}
		if l.i%5 == 3 {
			form.Set("skip", "yes")
		} else {
			l.changed = []string{"yes", "somewhat", "no"}[l.i%5]
			l.family = map[bool]string{true: "yes", false: "no"}[l.i%2 == 0]
			form.Set("changed", l.changed)
			form.Set("family", l.family)
			form.Set("example", fmt.Sprintf("Now I explain the letter before the meeting (learner %d).", l.i))
		}
		if resp, body := l.c.post("/my/evaluation/sample-course/follow-up", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("follow-up %d: %d %.500s", l.i, resp.StatusCode, body)
		}
	}

	// The figures, computed here from the answers given.
	expect := func(org string) map[string]string {
		var enrolled, tried, passed, helpful, helpfulN, relev, relevN, rec, recN, ch, chN, fam, famN int
		var b1, a1, n1 int
		for _, l := range ls {
			if org != "" && (l.i >= 36) != (org == w.orgB.ID) {
				continue
			}
			enrolled++
			if l.tried {
				tried++
			}
			if l.passed {
				passed++
			}
			if l.after != nil {
				helpfulN++
				relevN++
				recN++
				if l.helpful >= 4 {
					helpful++
				}
				if l.relev >= 4 {
					relev++
				}
				if l.recomm == "yes" {
					rec++
				}
				if l.before != nil && l.before[0] > 0 {
					b1 += l.before[0]
					a1 += l.after[0]
					n1++
				}
			}
			if l.changed != "" {
				chN++
				famN++
				if l.changed != "no" {
					ch++
				}
				if l.family == "yes" {
					fam++
				}
			}
		}
		return map[string]string{"enrolments": fmt.Sprint(enrolled), "completions": fmt.Sprint(passed), "pass": pct(passed, tried),
			"helpful": pct(helpful, helpfulN), "relevant": pct(relev, relevN), "recommend": pct(rec, recN), "changed": pct(ch, chN), "family": pct(fam, famN),
			"before1": one(b1, n1), "after1": one(a1, n1)}
	}
	admin := w.client(w.srv, w.session("admin"))
	q := "?course=sample-course&from=2026-11&to=2026-11"
	_, page := admin.do("GET", "/manage/impact"+q, nil)
	got, want := figures(page), expect("")
	for k, v := range want {
		if strings.HasSuffix(k, "1") {
			continue
		}
		if got[k] != v {
			t.Errorf("%s: the report says %q, the answers say %q", k, got[k], v)
		}
	}
	row := regexp.MustCompile(`<th scope="row">1\. [^<]*</th><td data-label="Before">([^<]*)</td><td data-label="After">([^<]*)</td>`).FindStringSubmatch(page)
	if row == nil || row[1] != want["before1"] || row[2] != want["after1"] {
		t.Errorf("outcome 1 confidence: the report says %v, the answers say %s → %s", row, want["before1"], want["after1"])
	}
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "I will ask the parent first (learner 1).") || strings.Contains(page, "Eval Learner") {
		t.Errorf("the admin's report lacks the charts or the comments, or names someone")
	}
	// Organisation A alone, as the admin chooses it, agrees too.
	_, page = admin.do("GET", "/manage/impact"+q+"&org="+w.orgA.ID, nil)
	if got, want := figures(page), expect(w.orgA.ID); got["helpful"] != want["helpful"] || got["enrolments"] != want["enrolments"] {
		t.Errorf("organisation A: %v, want %v", got, want)
	}
	// The partner organisation's manager sees their 4 people only: too few.
	_, page = w.client(w.srv, w.session("other-manager")).do("GET", "/manage/impact"+q+"&org="+w.orgA.ID, nil)
	got = figures(page)
	if got["enrolments"] != "fewer than 5" || got["helpful"] != "fewer than 5 responses" || strings.Contains(page, "I will ask the parent first") {
		t.Errorf("a group of 4: %v", got)
	}
	// Comments reach managers and the PDF only once published.
	if _, page := w.client(w.srv, w.session("manager")).do("GET", "/manage/impact"+q, nil); strings.Contains(page, "I will ask the parent first") {
		t.Error("an unpublished comment is on a manager's report")
	}
	_, page = admin.do("GET", "/manage/impact"+q, nil)
	// One of organisation A's comments (the manager's own people).
	var ref []string
	for _, m := range regexp.MustCompile(`(?s)<blockquote class="comment"><p>[^<]*\(learner (\d+)\)\.</p>.*?name="ref" value="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		var n int
		if _, err := fmt.Sscan(m[1], &n); err == nil && n < 36 {
			ref = []string{"", m[2]}
			break
		}
	}
	if ref == nil {
		t.Fatal("no comment of organisation A to publish on the admin's page")
	}
	if resp, _ := admin.post("/admin/impact/comments", url.Values{"ref": {ref[1]}, "publish": {"yes"}, "course": {"sample-course"}, "from": {"2026-11"}, "to": {"2026-11"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	if _, page := w.client(w.srv, w.session("manager")).do("GET", "/manage/impact"+q, nil); strings.Count(page, `class="comment"`) != 1 {
		t.Errorf("the manager sees %d comments, want the one published", strings.Count(page, `class="comment"`))
	}
	// CSV: one anonymous row per learner; PDF: the headline figures.
	resp, csv := admin.do("GET", "/manage/impact.csv"+q, nil)
	if resp.StatusCode != 200 || strings.Count(csv, "\n") != 41 || strings.Contains(csv, "Eval") || strings.Contains(csv, "learner 1") {
		t.Errorf("CSV: %d, %d lines", resp.StatusCode, strings.Count(csv, "\n"))
	}
	testenv.NeedCommand(t, "pdftotext", "poppler-utils")
	resp, pdf := admin.do("GET", "/manage/impact.pdf"+q, nil)
	file := filepath.Join(t.TempDir(), "impact.pdf")
	if err := os.WriteFile(file, []byte(pdf), 0o600); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PDF: %d %v", resp.StatusCode, err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil || !strings.Contains(string(text), "Found it helpful") || !strings.Contains(string(text), want["helpful"]) {
		t.Fatalf("PDF text (%v) lacks the helpful figure %s:\n%.1500s", err, want["helpful"], text)
	}
	// The unsubscribe link: a forged one is refused, the real one works.
	anon := w.client(w.srv, "")
	if resp, _ := anon.do("GET", unsubscribe+"x", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a forged unsubscribe link: %d", resp.StatusCode)
	}
	_, page = anon.do("GET", unsubscribe, nil)
	u := regexp.MustCompile(`name="u" value="([^"]+)"`).FindStringSubmatch(page)
	tok := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(page)
	if u == nil || tok == nil {
		t.Fatalf("the unsubscribe page: %.1000s", page)
	}
	if resp, _ := anon.post("/unsubscribe", url.Values{"u": {u[1]}, "t": {tok[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	if usr, _ := w.svc.Auth.User(ctx, u[1]); usr == nil || usr.NotifyOptional {
		t.Error("unsubscribing did not turn optional emails off")
	}
}

// TestEvaluationAnswersGoInTheDownloadAndWithErasure: a learner's answers
// are sealed at rest, in their data download in words, named in the
// erasure plan, and gone after erasure.
func TestEvaluationAnswersGoInTheDownloadAndWithErasure(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	c := w.readyLearner("learner")
	if resp, _ := c.post("/my/evaluation/sample-course/before", url.Values{"confidence_1": {"2"}, "confidence_2": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	n, ids := w.paper(c)
	if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	if _, page := c.do("GET", fmt.Sprintf("/courses/sample-course/assessment/%d/result", n), nil); !strings.Contains(page, `id="ask-after"`) || !strings.Contains(page, "download-certificate") {
		t.Fatalf("the result page does not offer the questions beside the certificate: %.2000s", page)
	}
	if resp, _ := c.post("/my/evaluation/sample-course/after", url.Values{"confidence_1": {"5"}, "helpful": {"5"}, "different": {"needle-different-5521"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after: %d", resp.StatusCode)
	}
	if _, page := c.do("GET", fmt.Sprintf("/courses/sample-course/assessment/%d/result", n), nil); strings.Contains(page, `id="ask-after"`) {
		t.Fatal("the questions are offered again once answered")
	}
	if found := testenv.GrepDataDir(t, []string{"needle-different-5521"}); len(found) > 0 {
		t.Fatalf("a free-text answer is in the raw database files: %v", found)
	}
	files := w.download(c)
	got := string(files["data/course_evaluations.json"])
	if !strings.Contains(got, "needle-different-5521") || !strings.Contains(got, `"confidence_before": [`) || !strings.Contains(got, `"helpful": 5`) {
		t.Fatalf("the download's evaluations: %s", got)
	}
	learner := w.users["learner"]
	e, err := w.svc.Learn.EnrolmentByID(ctx, learner.ID+"/sample-course")
	if err != nil {
		t.Fatal(err)
	}
	admin := w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/users/"+learner.ID+"/erase", nil); !strings.Contains(page, "answers to a course") {
		t.Fatalf("the erasure plan does not name the evaluation: %.3000s", page)
	}
	if resp, _ := admin.post("/admin/users/"+learner.ID+"/erase", url.Values{"confirm_email": {learner.Email}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	if row, err := w.svc.Impact.Row(ctx, e); err != nil || row != nil {
		t.Fatalf("after erasure the evaluation is still there: %+v, %v", row, err)
	}
	if ids, _ := w.env.DB.FollowUpsDue(ctx, w.svc.Impact.FollowUpDay(e).String()); len(ids) != 0 {
		t.Fatalf("the erased learner's follow-up is still due: %v", ids)
	}
}
