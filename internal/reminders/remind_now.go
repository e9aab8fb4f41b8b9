package reminders

import (
	"context"
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Reminder is what RemindNow did.
type Reminder struct {
	Sent    bool   // false: this reminder had gone already today
	To      string // the advocate's name
	What    string // the requirement, as in a sentence ("DBS check", "supervision")
	Subject string
}

// RemindNow sends an advocate, at a manager's request, one email (and
// in-app notification) about a requirement coming due, and records it in
// the audit trail. Asked again the same day (London), it sends nothing:
// the message's ID is fixed by the advocate, requirement and day. The
// email goes first and the record after, so a retry after a failure in
// between records the reminder that went.
func (s *Service) RemindNow(ctx context.Context, actor *auth.User, advocateID, key string) (Reminder, error) {
	a, err := s.Comply.Manage(ctx, actor, advocateID)
	if err != nil {
		return Reminder{}, err
	}
	q := a.Snapshot.Requirement(key)
	label := compliance.RequirementLabels[key]
	if q.Key == "" || label == "" {
		return Reminder{}, errs.E(errs.ENOTFOUND, "There is no such requirement.")
	}
	if q.Due == nil {
		return Reminder{}, errs.E(errs.EINVALID, "%s's %s has no due date to remind them of.", a.Name, lower(label))
	}
	r := &run{Service: s, ctx: ctx, now: s.Now(), users: map[string]*auth.User{}}
	r.today = day(r.now)
	person := r.user(a.ID)
	if person == nil {
		return Reminder{}, errs.E(errs.EINVALID, "%s's account is disabled, so there is nobody to remind.", a.Name)
	}
	id := messageID(a.ID, "remind-now", key, r.today.Format(time.DateOnly))
	days := r.daysUntil(*q.Due)
	when := fmt.Sprintf("is due on %s, in %s", dateText(*q.Due), plural(days, "day"))
	switch {
	case days == 0:
		when = "is due today, " + dateText(*q.Due)
	case days < 0:
		when = fmt.Sprintf("was due on %s", dateText(*q.Due))
	}
	subject := fmt.Sprintf("Reminder from %s: your %s %s", actor.Name, lower(label), when)
	if err := r.send(note{id: id, to: person, kind: "reminder", link: "/my/compliance", subject: subject,
		email: notify.Email{Paragraphs: []string{
			fmt.Sprintf("%s has asked us to remind you that your %s %s.", actor.Name, lower(label), when),
			q.Reason,
			"Please arrange it and tell your manager, so that you stay cleared to work with families.",
		}, Action: &notify.Action{Label: "See your requirements"}}}); err != nil {
		return Reminder{}, err
	}
	if err := s.Comply.Reminded(ctx, actor, a, key, "ev-"+id); err != nil {
		return Reminder{}, err
	}
	return Reminder{Sent: r.queued > 0, To: a.Name, What: lower(label), Subject: subject}, nil
}
