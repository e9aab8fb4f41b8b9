package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// paperQuestion is one question of a paper as shown: options in the drawn order.
type paperQuestion struct {
	Number   int
	ID       string
	Prompt   string
	Multiple bool
	Options  []paperOption
}

type paperOption struct {
	Index   int // index in the bank question
	Text    string
	Checked bool
}

// assessmentPage is the page struct for GET /courses/:slug/assessment.
type assessmentPage struct {
	basePage
	State     *learning.AssessmentState
	Questions []paperQuestion
	Error     string
	PassMark  int
	Remaining int // attempts left, -1 for unlimited
	// Revise lists the lessons the last failed attempt's wrong answers
	// point to, while the learner waits or before they try again.
	Revise []revisionLesson
}

// revisionLesson is a lesson to read again before the next attempt.
type revisionLesson struct {
	Name, Title string
	Questions   int // questions answered wrongly that it covers
}

// revisionOf lists the lessons a result's wrong answers point to, once
// each, in course order.
func revisionOf(c *courses.Course, r courses.Result) []revisionLesson {
	count := map[string]int{}
	for _, w := range r.Wrong {
		count[w.Lesson]++
	}
	var out []revisionLesson
	for _, l := range c.Lessons {
		if n := count[l.Name]; n > 0 {
			out = append(out, revisionLesson{Name: l.Name, Title: l.Title, Questions: n})
		}
	}
	return out
}

func (s *Server) paperView(course *courses.Course, a *learning.Attempt, chosen courses.Answers) []paperQuestion {
	var out []paperQuestion
	for i, it := range a.Paper {
		q, ok := course.Assessment.Question(it.QuestionID)
		if !ok {
			continue
		}
		pq := paperQuestion{Number: i + 1, ID: q.ID, Prompt: q.Prompt, Multiple: q.Type == courses.Multiple}
		for _, idx := range it.Order {
			checked := false
			for _, c := range chosen[q.ID] {
				checked = checked || c == idx
			}
			pq.Options = append(pq.Options, paperOption{Index: idx, Text: q.Options[idx].Text, Checked: checked})
		}
		out = append(out, pq)
	}
	return out
}

// handleAssessment handles GET /courses/:slug/assessment.
func (s *Server) handleAssessment(c *fiber.Ctx) error {
	return s.renderAssessment(c, fiber.StatusOK, nil, "")
}

func (s *Server) renderAssessment(c *fiber.Ctx, status int, chosen courses.Answers, problem string) error {
	slug := c.Params("slug")
	st, err := s.learn.Assessment(c.UserContext(), viewerOf(c).ID, slug)
	if err != nil {
		if errs.Is(err, errs.ENOTFOUND) {
			return s.redirectWith(c, "/courses/"+slug, flash{Kind: "info", Text: "Enrol on the course and complete its lessons to take the assessment."})
		}
		return err
	}
	p := &assessmentPage{basePage: basePage{Title: "Assessment: " + st.Course.Title}, State: st, Error: problem, PassMark: st.Course.Assessment.PassMarkPercent, Remaining: -1}
	if m := st.Course.Assessment.MaxAttempts; m > 0 {
		p.Remaining = max(m-st.Used, 0)
	}
	if st.Last != nil && !st.Last.Result.Passed && st.Enrolment.Completion == nil {
		p.Revise = revisionOf(st.Course, st.Last.Result)
	}
	if st.Open != nil {
		p.Questions = s.paperView(st.Course, st.Open, chosen)
	}
	return s.render(c, status, "assessment", p)
}

// handleAttemptStart handles POST /courses/:slug/assessment/start.
func (s *Server) handleAttemptStart(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if _, err := s.learn.StartAttempt(c.UserContext(), viewerOf(c).ID, slug); err != nil {
		if errs.Is(err, errs.ECONFLICT) {
			return s.redirectWith(c, "/courses/"+slug+"/assessment", flash{Kind: "warning", Text: errs.MessageOf(err)})
		}
		return err
	}
	return c.Redirect("/courses/"+slug+"/assessment", fiber.StatusSeeOther)
}

// handleAttemptSubmit handles POST /courses/:slug/assessment/:no. A second
// submission of the same attempt shows the first one's result.
func (s *Server) handleAttemptSubmit(c *fiber.Ctx) error {
	slug := c.Params("slug")
	n, err := strconv.Atoi(c.Params("no"))
	if err != nil || n < 1 {
		return errs.E(errs.ENOTFOUND, "We could not find that attempt.")
	}
	answers, ok := parseAnswers(c)
	if !ok {
		return s.renderAssessment(c, fiber.StatusUnprocessableEntity, answers, "Your answers did not match this paper. Please answer the questions shown.")
	}
	sub, err := s.learn.Submit(c.UserContext(), viewerOf(c).ID, slug, n, answers)
	if errs.Is(err, errs.EINVALID) {
		return s.renderAssessment(c, fiber.StatusUnprocessableEntity, answers, errs.MessageOf(err))
	}
	if errs.Is(err, errs.ECONFLICT) { // the course changed under the paper
		return s.redirectWith(c, "/courses/"+slug+"/assessment", flash{Kind: "warning", Text: errs.MessageOf(err)})
	}
	if err != nil {
		return err
	}
	if sub.Result.Passed {
		s.handOver(c, learning.EnrolmentID(viewerOf(c).ID, slug))
	}
	return c.Redirect("/courses/"+slug+"/assessment/"+strconv.Itoa(sub.No)+"/result", fiber.StatusSeeOther)
}

// parseAnswers reads q_<id> fields; ok is false when a value is not an option number.
func parseAnswers(c *fiber.Ctx) (courses.Answers, bool) {
	answers := courses.Answers{}
	ok := true
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if !strings.HasPrefix(key, "q_") {
			return
		}
		i, err := strconv.Atoi(string(v))
		if err != nil {
			ok = false
			return
		}
		id := strings.TrimPrefix(key, "q_")
		answers[id] = append(answers[id], i)
	})
	return answers, ok
}

// resultPage is the page struct for GET /courses/:slug/assessment/:no/result.
type resultPage struct {
	basePage
	Course     *courses.Course
	Submission *learning.Submission
	Wrong      []wrongView
	Completed  bool
	CertCode   string // the certificate, when issued
	// Attempts is where the learner stands now; Latest says whether this
	// result is of their latest attempt (only then does the page say when
	// the next one opens).
	Attempts learning.Attempts
	Latest   bool
	AskAfter bool             // offer the optional questions after a pass
	Revise   []revisionLesson // lessons to read again, after a fail
}

type wrongView struct {
	courses.WrongAnswer
	LessonTitle string
}

// handleAttemptResult handles GET /courses/:slug/assessment/:no/result.
func (s *Server) handleAttemptResult(c *fiber.Ctx) error {
	slug := c.Params("slug")
	course, err := s.learn.Catalogue.Get(slug)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("no"))
	if err != nil {
		return errs.E(errs.ENOTFOUND, "We could not find that attempt.")
	}
	sub, err := s.learn.Submission(c.UserContext(), viewerOf(c).ID, slug, n)
	if err != nil {
		return err
	}
	p := &resultPage{basePage: basePage{Title: "Your result"}, Course: course, Submission: sub}
	if e, err := s.learn.Enrolment(c.UserContext(), viewerOf(c).ID, slug); err == nil {
		p.Attempts = learning.AttemptsOf(course, e, s.now())
		p.Latest = p.Attempts.Last.No == sub.No
		if sub.Result.Passed && len(e.CertificateCodes) > 0 {
			p.CertCode = e.CertificateCodes[len(e.CertificateCodes)-1]
		}
		p.AskAfter = sub.Result.Passed && s.askAfter(c, e)
	}
	if !sub.Result.Passed {
		p.Revise = revisionOf(course, sub.Result)
	}
	for _, w := range sub.Result.Wrong {
		wv := wrongView{WrongAnswer: w}
		if l, _, ok := course.Lesson(w.Lesson); ok {
			wv.LessonTitle = l.Title
		}
		p.Wrong = append(p.Wrong, wv)
	}
	return s.render(c, fiber.StatusOK, "result", p)
}

// handOver issues the certificate of a completion and records it as CPD
// straight away; whatever fails here (storage down, say), the reconciler
// finishes later, and the learner's result page shows the pass meanwhile.
func (s *Server) handOver(c *fiber.Ctx, enrolmentID string) {
	if err := s.handover.HandOver(c.UserContext(), enrolmentID); err != nil {
		s.log.Warn("completion not handed over yet; the reconciler will finish it", "err", err, "request_id", requestID(c))
	}
}
