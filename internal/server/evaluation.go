package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
)

// The learner's side of course evaluation: a confidence self-rating before
// the course, the same after passing with a few questions more, and a
// follow-up months later. Each is optional, skippable and asked once.

// evaluationPage is the page struct of GET/POST /my/evaluation/:slug/<kind>.
type evaluationPage struct {
	basePage
	Kind      string // before, after, follow-up
	Course    *courses.Course
	Form      *formState
	Scale     []scalePoint
	Continue  string // where "skip" and saving lead
	Recommend []string
	Changed   []string
	Family    []string
}

// scalePoint is one point of a 1–5 scale.
type scalePoint struct{ Value, Label string }

// The scales' points are numbers; what the ends mean is the question's
// hint, so a scale fits on one line on a phone.
var (
	confidenceScale = []scalePoint{{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}}
	helpfulScale    = confidenceScale
)

// Field reads the form's value of a named field (for the scales).
func (p *evaluationPage) Field(name string) string { return p.Form.Get(name) }

// ConfidenceName is the form field of outcome i.
func (p *evaluationPage) ConfidenceName(i int) string { return "confidence_" + strconv.Itoa(i+1) }

// HelpfulScale is the 1–5 scale of "how helpful" and "how relevant".
func (p *evaluationPage) HelpfulScale() []scalePoint { return helpfulScale }

// evaluationKinds are the forms and their titles.
var evaluationKinds = map[string]string{
	"before":    "Before you start: your confidence",
	"after":     "How did the course go?",
	"follow-up": "A few months on",
}

// evaluationEnrolment returns the viewer's enrolment in the course, and
// where to go next.
func (s *Server) evaluationEnrolment(c *fiber.Ctx, kind string) (*learning.Enrolment, *courses.Course, string, error) {
	if _, ok := evaluationKinds[kind]; !ok || s.impact == nil {
		return nil, nil, "", errs.E(errs.ENOTFOUND, "We could not find that page.")
	}
	slug := c.Params("slug")
	e, err := s.learn.Enrolment(c.UserContext(), viewerOf(c).ID, slug)
	if err != nil {
		return nil, nil, "", err
	}
	course, err := s.learn.Catalogue.Get(slug)
	if err != nil {
		return nil, nil, "", err
	}
	next := "/courses/" + slug
	if kind == "before" {
		next = "/courses/" + slug + "/lessons/" + learning.ProgressOf(course, e).NextLesson
	} else if kind == "after" {
		next = "/my/certificates"
	} else {
		next = "/my/learning"
	}
	if kind != "before" && e.Completion == nil {
		return nil, nil, "", errs.E(errs.ENOTFOUND, "These questions come after you pass the course.")
	}
	return e, course, next, nil
}

// handleEvaluationForm handles GET /my/evaluation/:slug/<kind>.
func (s *Server) handleEvaluationForm(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, course, next, err := s.evaluationEnrolment(c, kind)
		if err != nil {
			return err
		}
		row, err := s.impact.Row(c.UserContext(), e)
		if err != nil {
			return err
		}
		if answered(row, kind) {
			return s.redirectWith(c, next, flash{Kind: "info", Text: "You have already answered these questions. Thank you."})
		}
		return s.renderEvaluation(c, fiber.StatusOK, kind, course, next, emptyForm(nil))
	}
}

func answered(row *impact.Row, kind string) bool {
	if row == nil {
		return false
	}
	switch kind {
	case "before":
		return row.Before != nil
	case "after":
		return row.After != nil
	}
	return row.FollowUp != nil
}

func (s *Server) renderEvaluation(c *fiber.Ctx, status int, kind string, course *courses.Course, next string, f *formState) error {
	return s.render(c, status, "evaluation", &evaluationPage{basePage: basePage{Title: evaluationKinds[kind]}, Kind: kind, Course: course, Form: f,
		Scale: confidenceScale, Continue: next, Recommend: impact.RecommendChoices, Changed: impact.ChangedChoices, Family: impact.FamilyChoices})
}

// handleEvaluation handles POST /my/evaluation/:slug/<kind>: the
// answers, or "skip".
func (s *Server) handleEvaluation(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.saveEvaluation(c, kind) }
}

func (s *Server) saveEvaluation(c *fiber.Ctx, kind string) error {
	e, course, next, err := s.evaluationEnrolment(c, kind)
	if err != nil {
		return err
	}
	fields := []string{"helpful", "relevant", "recommend", "different", "changed", "example", "family"}
	for i := range course.Outcomes {
		fields = append(fields, "confidence_"+strconv.Itoa(i+1))
	}
	f := newForm(c, fields...)
	skip := c.FormValue("skip") != ""
	ratings := impact.RatingsForm{Skip: skip}
	for i := range course.Outcomes {
		ratings.Confidence = append(ratings.Confidence, f.Get("confidence_"+strconv.Itoa(i+1)))
	}
	ctx, v := c.UserContext(), viewerOf(c)
	switch kind {
	case "before":
		err = s.impact.RateBefore(ctx, e, v.OrgID, ratings)
	case "after":
		err = s.impact.RateAfter(ctx, e, v.OrgID, impact.AfterForm{RatingsForm: ratings, Helpful: f.Get("helpful"), Relevant: f.Get("relevant"),
			Different: f.Get("different"), Recommend: f.Get("recommend")})
	default:
		err = s.impact.AnswerFollowUp(ctx, e, v.OrgID, impact.FollowUpForm{Changed: f.Get("changed"), Example: f.Get("example"), Family: f.Get("family"), Skip: skip})
	}
	if errs.Is(err, errs.ECONFLICT) {
		return s.redirectWith(c, next, flash{Kind: "info", Text: errs.MessageOf(err)})
	}
	if err != nil {
		if f.absorb(err) {
			return s.renderEvaluation(c, statusFor(err), kind, course, next, f)
		}
		return err
	}
	text := "Thank you: your answers are saved, without your name."
	if skip {
		text = "No problem: we will not ask again."
	}
	return s.redirectWith(c, next, flash{Kind: "success", Text: text})
}

// askBefore says whether the lesson page offers the "before" ratings: on
// the learner's first lesson, until they answer or skip them.
func (s *Server) askBefore(c *fiber.Ctx, prog learning.Progress) bool {
	if s.impact == nil || prog.Done > 0 || prog.Enrolment == nil || prog.Enrolment.Completion != nil {
		return false
	}
	row, err := s.impact.Row(c.UserContext(), prog.Enrolment)
	return err == nil && (row == nil || row.Before == nil)
}

// askAfter says whether a pass's result page offers the "after" questions.
func (s *Server) askAfter(c *fiber.Ctx, e *learning.Enrolment) bool {
	if s.impact == nil || e == nil || e.Completion == nil {
		return false
	}
	row, err := s.impact.Row(c.UserContext(), e)
	return err == nil && (row == nil || row.After == nil)
}

// radiosView is one question answered by choosing one of a few options.
type radiosView struct {
	Name, Legend, Hint, Value, Error string
	Options                          []scalePoint
}

// Radios is a question with a 1–5 scale ("confidence" or "helpful"
// labels) or, with choices, the named answers.
func (p *evaluationPage) Radios(name, legend, scale string, choices ...string) radiosView {
	v := radiosView{Name: name, Legend: legend, Value: p.Form.Get(name), Error: p.Form.Error(name)}
	switch {
	case len(choices) > 0:
		for _, ch := range choices {
			v.Options = append(v.Options, scalePoint{ch, impact.Label(ch)})
		}
	case scale == "helpful":
		v.Options, v.Hint = helpfulScale, "1 = not at all, 5 = very"
	default:
		v.Options, v.Hint = confidenceScale, "How confident you feel about this: 1 = not confident, 5 = very confident"
	}
	return v
}

// Choices lists a question's named answers (for Radios).
func (p *evaluationPage) Choices(which string) []string {
	switch which {
	case "changed":
		return impact.ChangedChoices
	case "family":
		return impact.FamilyChoices
	}
	return impact.RecommendChoices
}
