package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
)

// sampleLessons names the sample course's lessons, and the bank's questions' lessons.
var (
	sampleLessons  = map[string]string{"01-first-steps": "First steps", "02-second-steps": "Second steps", "03-last-steps": "Last steps"}
	questionLesson = map[string]string{"s1": "01-first-steps", "s2": "01-first-steps", "s3": "02-second-steps", "s4": "02-second-steps", "s5": "03-last-steps", "s6": "03-last-steps"}
)

// section returns the HTML of the element with the given id, up to its
// closing tag (elements of the same tag must not nest inside it).
func section(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<(\w+)[^>]*\bid="` + regexp.QuoteMeta(id) + `"`).FindStringSubmatchIndex(body)
	if m == nil {
		return ""
	}
	tag := body[m[2]:m[3]]
	rest := body[m[0]:]
	end := strings.Index(rest, "</"+tag+">")
	if end < 0 {
		return rest
	}
	return rest[:end]
}

// list returns the HTML of the first <ul> with the given class.
func list(body, class string) string {
	i := strings.Index(body, `<ul class="`+class+`"`)
	if i < 0 {
		return ""
	}
	end := strings.Index(body[i:], "</ul>")
	return body[i : i+end]
}

func mustHave(t *testing.T, where, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", where, w)
		}
	}
}

func mustLack(t *testing.T, where, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s shows %q", where, w)
		}
	}
}

// failOnce has a ready learner submit a paper with its first two questions
// wrong and the rest right (50%, below the 75% pass mark), and returns the
// result page's address and the lessons of the questions answered wrongly.
func (w *world) failOnce(c *client) (string, map[string]bool) {
	w.t.Helper()
	n, ids := w.paper(c)
	form := answers(ids[2:], true)
	for k, v := range answers(ids[:2], false) {
		form[k] = v
	}
	resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), form)
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("submit: %d", resp.StatusCode)
	}
	wrong := map[string]bool{}
	for _, id := range ids[:2] {
		wrong[questionLesson[id]] = true
	}
	return resp.Header.Get("Location"), wrong
}

// TestLearnerHome: the home page is the signed-in person's dashboard —
// where they left off, assessments waiting, certificates, and for an
// advocate the next due date — and stays the public page signed out.
func TestLearnerHome(t *testing.T) {
	t.Run("SignedOutSeesThePublicHome", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		_, body := w.client(w.srv, "").do("GET", "/", nil)
		mustHave(t, "the signed-out home", body, "For support workers and advocates", `<a href="/login">Sign in</a> to see your record`)
		mustLack(t, "the signed-out home", body, "Welcome back", `id="continue"`)
	})
	t.Run("FreshLearnerIsInvitedToStart", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		_, body := w.client(w.srv, w.session("learner")).do("GET", "/", nil)
		mustHave(t, "a new learner's home", body, "Welcome back, Learner", "Start a course", `href="/courses"`, "None yet.", "0 courses completed")
		mustLack(t, "a new learner's home", body, "to see your record", "Sign in</a>", `id="continue"`, "Your compliance", "Assessments waiting")
	})
	t.Run("InProgressContinuesAtTheLessonLastOpened", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.client(w.srv, w.session("learner"))
		c.post("/courses/sample-course/enrol", nil)
		c.post("/courses/sample-course/lessons/01-first-steps/complete", nil)
		c.do("GET", "/courses/sample-course/lessons/02-second-steps", nil)
		_, body := c.do("GET", "/", nil)
		cont := section(t, body, "continue-learning")
		mustHave(t, "Continue where you left off", cont, "Sample course for tests", "Lesson 2 of 3", "Second steps", "1 of 3 lessons done",
			`id="continue" href="/courses/sample-course/lessons/02-second-steps"`)
		// Back to the first lesson to read it again: that is where they left off.
		c.do("GET", "/courses/sample-course/lessons/01-first-steps", nil)
		_, body = c.do("GET", "/", nil)
		mustHave(t, "Continue after reopening lesson 1", section(t, body, "continue-learning"), "Lesson 1 of 3",
			`id="continue" href="/courses/sample-course/lessons/01-first-steps"`)
		mustLack(t, "the home in progress", body, "to see your record", "Assessments waiting")
	})
	t.Run("AllLessonsDoneShowsTheAssessmentWaitingAndItsRules", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		c := w.readyLearner("learner")
		_, body := c.do("GET", "/", nil)
		waiting := section(t, body, "assessments-waiting")
		mustHave(t, "Assessments waiting", waiting, "Sample course for tests", "You have 3 attempts left.",
			"If you do not pass, you can try again 24 hours after you submit.", `href="/courses/sample-course/assessment"`, "Take the assessment")
		mustLack(t, "the home with every lesson done", body, `id="continue"`)
		_, body = c.do("GET", "/courses/sample-course", nil)
		mustHave(t, "the course page before an attempt", section(t, body, "attempt-rules"), "You have 3 attempts. If you do not pass, you can try again 24 hours after you submit.")
		_, body = c.do("GET", "/courses/sample-course/assessment", nil)
		mustHave(t, "the assessment start page", section(t, body, "attempt-rules"), "This will be attempt 1 of 3.", "If you do not pass, you can try again 24 hours after you submit.")
		mustHave(t, "the assessment start page", body, `id="start-attempt"`)
	})
	t.Run("PassedWithACertificateExpiringSoon", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		w.certifiedLearner()
		_, body := w.client(w.srv, w.session("learner")).do("GET", "/", nil)
		certs := section(t, body, "home-certificates")
		mustHave(t, "certificates on the home", certs, "Sample course for tests", "Valid", "Valid until 22 November 2027", `href="/my/certificates"`)
		mustLack(t, "a certificate a year from expiry", certs, "Renew soon")
		mustHave(t, "the home after a pass", body, "1 course completed, 0.5 CPD hours")
		// Eleven months on, it expires in about a month: renew soon.
		w.advance(334 * 24 * time.Hour)
		_, body = w.client(w.srv, w.session("learner")).do("GET", "/", nil)
		certs = section(t, body, "home-certificates")
		mustHave(t, "a certificate expiring within 60 days", certs, "Renew soon", "Valid until 22 November 2027", `href="/courses/sample-course">Renew: take the course again`)
		// And once it has expired.
		w.advance(40 * 24 * time.Hour)
		_, body = w.client(w.srv, w.session("learner")).do("GET", "/", nil)
		mustHave(t, "an expired certificate", section(t, body, "home-certificates"), "Expired", "Expired on 22 November 2027", "Renew: take the course again")
	})
	t.Run("AdvocateSeesTheNextComplianceDueDate", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		ctx := context.Background()
		// Without a record yet.
		_, body := w.client(w.srv, w.session("advocate")).do("GET", "/", nil)
		mustHave(t, "an advocate's home without a record", section(t, body, "home-compliance"), "Your manager has not set up your compliance record yet.")
		mustLack(t, "an advocate's home", body, "to see your record")

		start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		mgr, adv := w.users["manager"], w.users["advocate"]
		if _, err := w.svc.Comply.CreateForUser(ctx, mgr, adv, compliance.Advocate{Profession: compliance.OtherAdvocate, Status: compliance.StatusActive,
			ContractStart: &start, ManagerID: mgr.ID, MandatoryCourses: []string{}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comply.AddSupervision(ctx, mgr, adv.ID, compliance.SupervisionForm{Date: "2026-11-20", Supervisor: "Manager Person", Kind: "individual"}); err != nil {
			t.Fatal(err)
		}
		a, err := w.env.DB.Advocate(ctx, adv.ID)
		if err != nil || a.Snapshot.NextDue == nil {
			t.Fatalf("fixture: advocate %v, next due %v", err, a)
		}
		var label string
		for _, r := range a.Snapshot.Requirements {
			if r.Due != nil && r.Due.Equal(*a.Snapshot.NextDue) && label == "" {
				label = compliance.RequirementLabels[r.Key]
			}
		}
		due := a.Snapshot.NextDue.In(compliance.London).Format("2 January 2006")
		_, body = w.client(w.srv, w.session("advocate")).do("GET", "/", nil)
		comp := section(t, body, "home-compliance")
		mustHave(t, "an advocate's compliance on the home", comp, "Next due:", label, due, `href="/my/compliance"`, a.Snapshot.Overall.Label())
		// A learner who is not an advocate has no compliance section.
		_, body = w.client(w.srv, w.session("learner")).do("GET", "/", nil)
		mustLack(t, "a learner's home", body, "Your compliance", "/my/compliance")
	})
	t.Run("ManagerWaitingForTwoFactorSeesNoRecords", func(t *testing.T) {
		w := newWorld(t, sampleDir)
		u, err := w.svc.Auth.CreateUser(context.Background(), "new.manager@example.org", "New Manager", "x", w.orgA.ID, auth.JobOther, w.users["manager"].Roles)
		if err != nil {
			t.Fatal(err)
		}
		_, body := w.client(w.srv, w.sessionFor(u.ID)).do("GET", "/", nil)
		mustHave(t, "the home before two-factor is set up", body, "Welcome back, New", `href="/account/2fa"`)
		mustLack(t, "the home before two-factor is set up", body, "to see your record", "Your certificates")
	})
}

// TestNoHiddenLocks: before an attempt the learner is told the attempts
// and the wait; after a fail, the result page, the course page, My
// learning, the assessment page and the home say when the next attempt
// opens (Europe/London) and name the lessons to revise; once the wait is
// over, every page offers the assessment again.
func TestNoHiddenLocks(t *testing.T) {
	w := newWorld(t, sampleDir) // the clock: 09:00 UTC on Sunday 22 November 2026
	c := w.readyLearner("learner")
	resultURL, wrong := w.failOnce(c)
	const opens = "9:00am on Monday 23 November 2026" // 24 hours after submitting; London is on GMT in November

	t.Run("ResultSaysWhenAndWhatToRevise", func(t *testing.T) {
		_, body := c.do("GET", resultURL, nil)
		mustHave(t, "the result", body, "You did not pass this time")
		mustHave(t, "the result's next attempt", section(t, body, "next-attempt"), "You can try again from", opens, "2 attempts left", `datetime="2026-11-23T09:00:00Z"`)
		revise := list(body, "revise-list")
		mustHave(t, "the result", body, "Lessons to revise")
		for name, title := range sampleLessons {
			link := `href="/courses/sample-course/lessons/` + name + `">` + title + `</a>`
			if wrong[name] != strings.Contains(revise, link) {
				t.Errorf("lessons to revise: %s listed %v, want %v (its questions answered wrongly): %s", title, !wrong[name], wrong[name], revise)
			}
		}
	})
	t.Run("CoursePageSaysWhenAndMarksTheLessons", func(t *testing.T) {
		_, body := c.do("GET", "/courses/sample-course", nil)
		mustHave(t, "the course page after a fail", section(t, body, "next-attempt"), "You can try again from", opens, "scored 50%")
		mustHave(t, "the course page after a fail", body, "Lessons to revise", `href="`+resultURL+`"`)
		for name, title := range sampleLessons {
			if got := strings.Contains(body, title+`</a> <span class="tag tag-ok">Done</span> <span class="tag tag-warn">Revise</span>`); got != wrong[name] {
				t.Errorf("lesson list: %s marked Revise %v, want %v", title, got, wrong[name])
			}
		}
		mustLack(t, "the course page while waiting", body, "Go to the assessment", "Try the assessment again")
	})
	t.Run("MyLearningSaysNextAttemptFrom", func(t *testing.T) {
		_, body := c.do("GET", "/my/learning", nil)
		mustHave(t, "My learning while waiting", body, "Next attempt from", opens, "See what to revise")
		mustLack(t, "My learning while waiting", body, "Take the assessment")
	})
	t.Run("AssessmentPageAndStartSayWhen", func(t *testing.T) {
		_, body := c.do("GET", "/courses/sample-course/assessment", nil)
		mustHave(t, "the assessment page while waiting", section(t, body, "retry-wait"), "You can try again from", opens)
		mustHave(t, "the assessment page while waiting", body, "Lessons to revise")
		mustLack(t, "the assessment page while waiting", body, `id="start-attempt"`)
		resp, _ := c.post("/courses/sample-course/assessment/start", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start while waiting: %d", resp.StatusCode)
		}
		_, body = c.do("GET", "/courses/sample-course/assessment", nil)
		mustHave(t, "the refusal to start", body, "You can try the assessment again from "+opens+".")
	})
	t.Run("HomeSaysNextAttemptFrom", func(t *testing.T) {
		_, body := c.do("GET", "/", nil)
		mustHave(t, "the home while waiting", section(t, body, "assessments-waiting"), "Next attempt from", opens, "2 attempts left",
			`href="`+resultURL+`"`)
		mustLack(t, "the home while waiting", body, "Take the assessment")
	})

	// A minute after the wait ends.
	w.advance(24*time.Hour + time.Minute)
	c = w.client(w.srv, w.session("learner"))
	t.Run("WaitOverOffersTheAssessmentAgain", func(t *testing.T) {
		_, body := c.do("GET", "/courses/sample-course", nil)
		mustHave(t, "the course page after the wait", section(t, body, "attempt-rules"), "The wait is over", "2 attempts left")
		mustHave(t, "the course page after the wait", body, "Try the assessment again", "Lessons to revise")
		mustLack(t, "the course page after the wait", body, "You can try again from")
		_, body = c.do("GET", "/my/learning", nil)
		mustHave(t, "My learning after the wait", body, "Take the assessment", "(2 attempts left)")
		mustLack(t, "My learning after the wait", body, "Next attempt from")
		_, body = c.do("GET", "/", nil)
		mustHave(t, "the home after the wait", section(t, body, "assessments-waiting"), "Take the assessment", "You have 2 attempts left.", "Your last attempt scored 50%.")
		_, body = c.do("GET", "/courses/sample-course/assessment", nil)
		mustHave(t, "the assessment page after the wait", section(t, body, "attempt-rules"), "This will be attempt 2 of 3.", "24 hours after you submit")
		mustHave(t, "the assessment page after the wait", body, `id="start-attempt"`)
		_, body = c.do("GET", resultURL, nil)
		mustHave(t, "the old result after the wait", section(t, body, "next-attempt"), "You can try again now (2 attempts left)")
	})
	t.Run("LastAttemptSaysSoAndTheEndIsNamed", func(t *testing.T) {
		w.failOnce(c)
		w.advance(24*time.Hour + time.Minute)
		c = w.client(w.srv, w.session("learner"))
		_, body := c.do("GET", "/courses/sample-course/assessment", nil)
		mustHave(t, "the start page of the last attempt", section(t, body, "attempt-rules"), "This will be attempt 3 of 3, your last.")
		mustLack(t, "the start page of the last attempt", section(t, body, "attempt-rules"), "try again")
		url3, _ := w.failOnce(c)
		_, body = c.do("GET", url3, nil)
		mustHave(t, "the result of the last attempt", section(t, body, "next-attempt"), "You have used all 3 attempts")
		_, body = c.do("GET", "/my/learning", nil)
		mustHave(t, "My learning with no attempts left", body, "All 3 attempts used")
		mustLack(t, "My learning with no attempts left", body, "Take the assessment", "Next attempt from")
	})
	e, _ := w.env.DB.Enrolment(context.Background(), learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
	if len(e.Attempts) != 3 {
		t.Errorf("attempts recorded: %d, want 3", len(e.Attempts))
	}
}
