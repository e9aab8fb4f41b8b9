package server

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// lessonLinkRE matches Markdown links to another lesson of the same course.
var lessonLinkRE = regexp.MustCompile(`\]\((\d\d-[a-z0-9-]+)\.md(#[^)]*)?\)`)

// lessonStatic is the part of a lesson page that is the same for every
// learner, rendered once at start-up: a lesson page then runs only a few
// template actions (html/template's reflection is the main cost of a page).
type lessonStatic struct {
	Body        template.HTML // the lesson's Markdown as HTML
	Breadcrumb  template.HTML
	Article     template.HTML // title, objectives and body
	Nav         template.HTML // previous and next
	CompleteURL string
}

// renderLessons renders every lesson once, at start-up, with links between
// lessons pointing at their pages.
func (s *Server) renderLessons(cat *learning.Catalogue) (map[string]*lessonStatic, error) {
	out := map[string]*lessonStatic{}
	t := s.tmpl.pages["lesson"]
	for _, c := range cat.All() {
		for i := range c.Lessons {
			l := &c.Lessons[i]
			md := lessonLinkRE.ReplaceAllString(l.Body, "](/courses/"+c.Slug+"/lessons/$1$2)")
			body, err := renderMarkdown([]byte(md))
			if err != nil {
				return nil, fmt.Errorf("lesson %s/%s: %w", c.Slug, l.Name, err)
			}
			data := struct {
				Course     *courses.Course
				Lesson     *courses.Lesson
				Body       template.HTML
				Index      int
				Prev, Next *courses.Lesson
			}{Course: c, Lesson: l, Body: body, Index: i + 1}
			if i > 0 {
				data.Prev = &c.Lessons[i-1]
			}
			if i+1 < len(c.Lessons) {
				data.Next = &c.Lessons[i+1]
			}
			st := &lessonStatic{Body: body, CompleteURL: "/courses/" + c.Slug + "/lessons/" + l.Name + "/complete"}
			for name, dst := range map[string]*template.HTML{"lessonArticle": &st.Breadcrumb, "lessonBody": &st.Article, "lessonNav": &st.Nav} {
				var buf bytes.Buffer
				if err := t.ExecuteTemplate(&buf, name, data); err != nil {
					return nil, fmt.Errorf("lesson %s/%s: %w", c.Slug, l.Name, err)
				}
				*dst = template.HTML(buf.String()) //nolint:gosec // produced by html/template
			}
			out[c.Slug+"/"+l.Name] = st
		}
	}
	return out, nil
}

// coursePage is the page struct for GET /courses/:slug.
type coursePage struct {
	basePage
	Course     *courses.Course
	Live       []liveRow // live sessions of the course to come
	Enrolled   bool
	Progress   learning.Progress
	Principles []string
	// Attempts is where an enrolled learner stands with the assessment;
	// after a fail, Revise lists the lessons to read again (also marked
	// in the lesson list through ReviseSet) and LastResult links to it.
	Attempts   learning.Attempts
	Revise     []revisionLesson
	ReviseSet  map[string]int
	LastResult string
}

// Rules states the course's attempt rules, for anyone reading the course page.
func (p *coursePage) Rules() learning.Attempts {
	return learning.Attempts{Max: p.Course.Assessment.MaxAttempts, WaitHours: p.Course.Assessment.RetryAfterHours}
}

// handleCourse handles GET /courses/:slug.
func (s *Server) handleCourse(c *fiber.Ctx) error {
	course, err := s.learn.Catalogue.Get(c.Params("slug"))
	if err != nil {
		return err
	}
	p := &coursePage{basePage: basePage{Title: course.Title}, Course: course}
	if s.live != nil {
		sessions, err := s.live.ForCourse(c.UserContext(), course.Slug, 5)
		if err != nil {
			return err
		}
		for _, ses := range sessions {
			if ses.Cancelled == nil {
				p.Live = append(p.Live, s.liveRow(ses, viewerOf(c)))
			}
		}
	}
	for _, n := range course.Principles {
		p.Principles = append(p.Principles, courses.Principles[n])
	}
	if v := viewerOf(c); v != nil {
		e, err := s.learn.Enrolment(c.UserContext(), v.ID, course.Slug)
		switch {
		case err == nil:
			p.Enrolled, p.Progress = true, learning.ProgressOf(course, e)
			p.Attempts = learning.AttemptsOf(course, e, s.now())
		case !errs.Is(err, errs.ENOTFOUND):
			return err
		}
	}
	if p.Attempts.FailedLast() {
		// One point read: the last attempt's wrong answers name the lessons.
		sub, err := s.learn.Submission(c.UserContext(), viewerOf(c).ID, course.Slug, p.Attempts.Last.No)
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return err
		}
		if sub != nil {
			p.Revise = revisionOf(course, sub.Result)
			p.ReviseSet = map[string]int{}
			for _, r := range p.Revise {
				p.ReviseSet[r.Name] = r.Questions
			}
			p.LastResult = "/courses/" + course.Slug + "/assessment/" + strconv.Itoa(sub.No) + "/result"
		}
	}
	return s.render(c, fiber.StatusOK, "course", p)
}

// handleEnrol handles POST /courses/:slug/enrol. An account whose email
// address waits to be confirmed enrols once it is.
func (s *Server) handleEnrol(c *fiber.Ctx) error {
	slug := c.Params("slug")
	if v := viewerOf(c); v.MustConfirmEmail {
		if _, err := s.learn.Catalogue.Get(slug); err != nil {
			return err
		}
		return s.redirectWith(c, "/courses/"+slug, flash{Kind: "warning",
			Text: "Confirm your email address before you enrol: follow the link we sent to " + v.Email + ", or send it again below."})
	}
	e, err := s.learn.Enrol(c.UserContext(), viewerOf(c).ID, slug)
	if err != nil {
		return err
	}
	if s.impact != nil {
		if err := s.impact.Enrolled(c.UserContext(), e, viewerOf(c).OrgID); err != nil {
			s.log.Warn("evaluation: enrolment", "enrolment", e.ID, "err", err) // it is written again with the first answer
		}
	}
	course, _ := s.learn.Catalogue.Get(slug)
	p := learning.ProgressOf(course, e)
	return s.redirectWith(c, "/courses/"+slug+"/lessons/"+p.NextLesson, flash{Kind: "success", Text: "You are enrolled. Work through the lessons in order; your place is saved as you go."})
}

// lessonPage is the page struct for GET /courses/:slug/lessons/:lesson.
type lessonPage struct {
	basePage
	Static      *lessonStatic
	Progress    learning.Progress
	Done        bool
	ButtonLabel string
	AskBefore   bool // offer the optional confidence rating (first lesson, not answered)
}

// ProgressHTML renders the lesson page's progress bar (in Go: see NavHTML).
func (p *lessonPage) ProgressHTML() template.HTML {
	return template.HTML(fmt.Sprintf(`<div class="progress" aria-label="Course progress"><progress max="%d" value="%d">%d%%</progress><span id="progress-text">%d of %d lessons done</span></div>`, //nolint:gosec // numbers only
		p.Progress.Total, p.Progress.Done, p.Progress.Percent, p.Progress.Done, p.Progress.Total))
}

// handleLesson handles GET /courses/:slug/lessons/:lesson.
func (s *Server) handleLesson(c *fiber.Ctx) error {
	slug := c.Params("slug")
	course, lesson, prog, err := s.learn.ViewLesson(c.UserContext(), viewerOf(c).ID, slug, c.Params("lesson"))
	if errors.Is(err, learning.ErrNotEnrolled) {
		return s.redirectWith(c, "/courses/"+slug, flash{Kind: "info", Text: "Enrol on the course to start the lessons."})
	}
	if err != nil {
		return err
	}
	_, i, _ := course.Lesson(lesson.Name)
	p := &lessonPage{basePage: basePage{Title: lesson.Title}, Static: s.lessonHTML[slug+"/"+lesson.Name], Progress: prog}
	_, p.Done = prog.Enrolment.Lessons[lesson.Name]
	p.AskBefore = s.askBefore(c, prog)
	last := i+1 == len(course.Lessons)
	switch {
	case p.Done && last:
		p.ButtonLabel = "Go to the assessment"
	case p.Done:
		p.ButtonLabel = "Next lesson"
	case last:
		p.ButtonLabel = "Mark as complete"
	default:
		p.ButtonLabel = "Mark as complete and continue"
	}
	return s.render(c, fiber.StatusOK, "lesson", p)
}

// handleLessonComplete handles POST /courses/:slug/lessons/:lesson/complete.
func (s *Server) handleLessonComplete(c *fiber.Ctx) error {
	slug, name := c.Params("slug"), c.Params("lesson")
	prog, err := s.learn.CompleteLesson(c.UserContext(), viewerOf(c).ID, slug, name)
	if err != nil {
		return err
	}
	course := prog.Course
	_, i, _ := course.Lesson(name)
	if i+1 < len(course.Lessons) {
		return c.Redirect("/courses/"+slug+"/lessons/"+course.Lessons[i+1].Name, fiber.StatusSeeOther)
	}
	if prog.AllLessonsDone() {
		return s.redirectWith(c, "/courses/"+slug+"/assessment", flash{Kind: "success", Text: "You have completed every lesson. You can now take the assessment."})
	}
	return s.redirectWith(c, "/courses/"+slug+"/lessons/"+prog.NextLesson, flash{Kind: "info", Text: "Some lessons are not complete yet; this is the next one."})
}

// printPage is the page struct for GET /courses/:slug/print.
type printPage struct {
	basePage
	Course  *courses.Course
	Lessons []printLesson
}

type printLesson struct {
	Lesson *courses.Lesson
	Body   template.HTML
}

// handleCoursePrint handles GET /courses/:slug/print: the whole course on one page.
func (s *Server) handleCoursePrint(c *fiber.Ctx) error {
	course, err := s.learn.Catalogue.Get(c.Params("slug"))
	if err != nil {
		return err
	}
	p := &printPage{basePage: basePage{Title: course.Title + " (print)"}, Course: course}
	for i := range course.Lessons {
		l := &course.Lessons[i]
		p.Lessons = append(p.Lessons, printLesson{Lesson: l, Body: s.lessonHTML[course.Slug+"/"+l.Name].Body})
	}
	return s.render(c, fiber.StatusOK, "course_print", p)
}

// myLearningPage is the page struct for GET /my/learning.
type myLearningPage struct {
	basePage
	InProgress []learning.Progress
	Completed  []learning.Progress
	CPDHours   float64
	// Attempts is where the learner stands with each in-progress course's
	// assessment, by course slug.
	Attempts map[string]learning.Attempts
}

// handleMyLearning handles GET /my/learning.
func (s *Server) handleMyLearning(c *fiber.Ctx) error {
	inProg, done, hours, err := s.learn.MyLearning(c.UserContext(), viewerOf(c).ID)
	if err != nil {
		return err
	}
	p := &myLearningPage{basePage: basePage{Title: "My learning"}, InProgress: inProg, Completed: done, CPDHours: hours, Attempts: map[string]learning.Attempts{}}
	now := s.now()
	for _, x := range inProg {
		p.Attempts[x.Course.Slug] = learning.AttemptsOf(x.Course, x.Enrolment, now)
	}
	return s.render(c, fiber.StatusOK, "my_learning", p)
}
