package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/reminders"
)

// contentReviewPage is the page struct for GET /admin/content-review.
type contentReviewPage struct {
	basePage
	Today      time.Time
	NoticeDays int
	Rows       []reviewRow
	Pending    int
}

// reviewRow is one course on the content review page.
type reviewRow struct {
	courses.ReviewItem
	Checked  time.Time
	Soon     bool // due within the notice period, not yet overdue
	DaysOver int  // days overdue
}

// handleContentReview handles GET /admin/content-review: every course's
// legal review (who checked it, when, when it is next due; the ones due
// or overdue first) and the statements waiting on commencement, the same
// list as `lms courses validate --due`.
func (s *Server) handleContentReview(c *fiber.Ctx) error {
	today := civil.Of(s.now())
	all := s.learn.Catalogue.All()
	p := &contentReviewPage{basePage: basePage{Title: "Content review"}, Today: today.Midnight(), NoticeDays: reminders.ReviewNoticeDays}
	// Every course (a list bounded by the catalogue), soonest due first.
	for _, it := range courses.ReviewList(all, today, 1<<30) {
		p.Rows = append(p.Rows, reviewRow{ReviewItem: it, Checked: it.Course.ReviewedOnDate(), Soon: !it.Overdue() && it.DueIn <= reminders.ReviewNoticeDays, DaysOver: -it.DueIn})
		p.Pending += len(it.Pending)
	}
	return s.render(c, fiber.StatusOK, "admin_content_review", p)
}
