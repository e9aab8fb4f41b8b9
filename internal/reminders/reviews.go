package reminders

import (
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/notify"
)

// ReviewNoticeDays is how long before a course's review date its owner is
// emailed.
const ReviewNoticeDays = 30

// courseReviews emails each course's owner once when its review falls due
// within ReviewNoticeDays (or is past, the first time the job sees it):
// the message's ID is derived from the course and its review date, so a
// new review date gets its own reminder.
func (r *run) courseReviews() error {
	today := civil.Of(r.now)
	var admins []string // told when a course names no owner and LMS_CONTENT_OWNER is empty
	for _, c := range r.Courses {
		due := c.ReviewDueDate()
		in := c.ReviewDueIn(today)
		if due.IsZero() || in > ReviewNoticeDays {
			continue
		}
		owners := []string{c.Owner}
		if c.Owner == "" {
			owners = []string{r.ContentOwner}
		}
		if owners[0] == "" {
			if admins == nil {
				us, err := r.store.RoleMembers(r.ctx, auth.RoleAdmin)
				if err != nil {
					return err
				}
				admins = []string{}
				for _, u := range us {
					if !u.Disabled && u.Email != "" {
						admins = append(admins, u.Email)
					}
				}
			}
			owners = admins
		}
		when := fmt.Sprintf("falls due on %s, in %s", due.Format("2 January 2006"), plural(in, "day"))
		if in < 0 {
			when = fmt.Sprintf("was due on %s, %s ago", due.Format("2 January 2006"), plural(-in, "day"))
		} else if in == 0 {
			when = "falls due today"
		}
		checked := "The last check is not recorded."
		if c.ReviewedBy != "" {
			checked = fmt.Sprintf("It was last checked by %s on %s.", c.ReviewedBy, c.ReviewedOnDate().Format("2 January 2006"))
		}
		paras := []string{
			fmt.Sprintf("The legal content of the course \u201c%s\u201d %s. %s", c.Title, when, checked),
			"Please check each lesson and question against the current law and guidance, update the course's references, and record the review (reviewed_by, reviewed_on, review_due) in its course.yaml.",
		}
		if n := len(c.PendingPoints()); n > 0 {
			paras = append(paras, fmt.Sprintf("The course has %s waiting on commencement or an announced change; the content review page lists them.", plural(n, "statement")))
		}
		text, html := notify.Compose(notify.Email{Greeting: "Hello,", Paragraphs: paras,
			Action: &notify.Action{Label: "Open the content review page", URL: r.BaseURL + "/admin/content-review"},
			Footer: "You receive this as the owner of the course's content (its course.yaml, or LMS_CONTENT_OWNER; when neither names anyone, every administrator is told)."})
		for _, owner := range owners {
			id := messageID("course-review", c.Slug, due.Format(time.DateOnly))
			if owner != c.Owner && owner != r.ContentOwner {
				id = messageID("course-review", c.Slug, due.Format(time.DateOnly), owner) // one per administrator
			}
			fresh, err := r.Mail.Send(r.ctx, notify.Message{ID: id, To: owner,
				Kind: "course-review", Subject: "Course review due: " + c.Title, Text: text, HTML: html})
			if err != nil {
				return err
			}
			if fresh {
				r.queued++
			}
		}
	}
	return nil
}
