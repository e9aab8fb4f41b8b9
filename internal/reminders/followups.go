package reminders

import (
	"fmt"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// FollowUpLookBack is how many days back a run still sends follow-ups
// that fell due while the job did not run; older day lists are dropped.
const FollowUpLookBack = 14

// followUps sends each completion's follow-up ("Has this course changed
// how you work?") on its due day, or on the first run within
// FollowUpLookBack days after it: one email and one notification, each
// with an ID fixed by the completion, so a rerun or a second runner sends
// nothing more. A follow-up already answered, or whose learner is gone,
// is not sent.
func (r *run) followUps() error {
	if r.Impact == nil || r.Learn == nil {
		return nil
	}
	today := civil.Of(r.now)
	for back := FollowUpLookBack; back >= 0; back-- {
		d := today.AddDays(-back).String()
		ids, err := r.Impact.Store.FollowUpsDue(r.ctx, d)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := r.followUp(id, d); err != nil {
				return err
			}
		}
	}
	for back := FollowUpLookBack + 1; back <= FollowUpLookBack+7; back++ {
		if err := r.Impact.Store.DropFollowUpDay(r.ctx, today.AddDays(-back).String()); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) followUp(enrolmentID, due string) error {
	e, err := r.Learn.EnrolmentByID(r.ctx, enrolmentID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil // erased
	}
	if err != nil {
		return err
	}
	u := r.user(e.UserID)
	if e.Completion == nil || u == nil {
		return nil
	}
	row, err := r.Impact.Row(r.ctx, e)
	if err != nil {
		return err
	}
	if row != nil && row.FollowUp != nil {
		return nil // answered already (from the course page)
	}
	title := e.Completion.CourseTitle
	link := "/my/evaluation/" + e.Course + "/follow-up"
	if err := r.send(note{id: messageID("follow-up", e.ID, due), to: u, kind: "follow-up", optional: true, link: link,
		subject: fmt.Sprintf("Has “%s” changed how you work?", title),
		email: notify.Email{Paragraphs: []string{
			fmt.Sprintf("You completed “%s” on %s. Has it changed how you work?", title, dateText(e.Completion.At)),
			"Three short questions, under a minute: your answer helps the organisation show funders and commissioners what its training does for the families you support. No names are kept with your answer.",
		}, Action: &notify.Action{Label: "Answer the three questions"}}}); err != nil {
		return err
	}
	if row == nil || row.FollowUpSent == nil {
		return r.Impact.MarkFollowUpSent(r.ctx, e, r.now.UTC())
	}
	return nil
}
