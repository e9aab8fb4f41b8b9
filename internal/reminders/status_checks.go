package reminders

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/notify"
)

// statusChecks runs the day's automatic DBS Update Service status checks
// of one organisation's advocates (each at most once a day: the check's
// day is claimed on the record first), then tells their managers what
// needs them. A notice has one ID per finding, so one that a crash kept
// from going is sent by the next run, and none goes twice.
func (r *run) statusChecks(ru compliance.Rollup) error {
	ids := make([]string, 0, len(ru.Rows))
	for id := range ru.Rows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		row := ru.Rows[id]
		due := row.NextAutoCheck != nil && !day(*row.NextAutoCheck).After(r.today)
		pending := row.LastStatusCheck != nil && (row.LastStatusCheck.Action || row.LastStatusCheck.Days >= compliance.FailureNoticeDays)
		if !due && !pending {
			continue
		}
		var a *compliance.Advocate
		var err error
		if due {
			a, err = r.Comply.AutoStatusCheck(r.ctx, id)
		}
		if !due || errors.Is(err, compliance.ErrNotDue) {
			a, err = r.Comply.Current(r.ctx, id)
		}
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			r.Log.Warn("reminders: status check", "advocate", id, "err", err)
			continue
		}
		if err := r.statusNotices(a); err != nil {
			return err
		}
	}
	return nil
}

// StatusNotices tells the advocate's managers, once each, what the latest
// status check of their DBS certificate needs: a decision after new
// information or no match, or a look when checks have failed three days
// running. Called after a manager's "check now" as well as by the job.
func (s *Service) StatusNotices(ctx context.Context, a *compliance.Advocate) error {
	r := &run{Service: s, ctx: ctx, now: s.Now(), users: map[string]*auth.User{}}
	r.today = day(r.now)
	return r.statusNotices(a)
}

func (r *run) statusNotices(a *compliance.Advocate) error {
	d := a.LatestDBS()
	if d == nil {
		return nil
	}
	link := fmt.Sprintf("/manage/advocates/%s#dbs-%s", a.ID, d.ID)
	var key, subject string
	var paras []string
	if last := d.LastStatus(); last.NeedsAction() {
		key = "found/" + last.Date.In(compliance.London).Format(time.DateOnly)
		subject = fmt.Sprintf("Action needed: %s's DBS status check found %s", a.Name, finding(last.Result))
		paras = []string{
			fmt.Sprintf("The Update Service status check of %s's DBS certificate on %s says: %s.", a.Name, dateText(last.Date), last.Words()),
			fmt.Sprintf("%s is not cleared for allocation to families until a manager records a decision on their DBS record: a new DBS check requested, or the information reviewed and clear, with the reason.", a.Name),
		}
	} else if since, failing := d.FailingSince(); failing {
		key = "failing/" + since.In(compliance.London).Format(time.DateOnly)
		e := d.LastEntry()
		subject = fmt.Sprintf("%s's DBS status check could not be made for %s", a.Name, plural(e.Days, "day"))
		paras = []string{
			fmt.Sprintf("Since %s the app could not check %s's DBS certificate on the Update Service: %s.", dateText(since), a.Name, e.Reason),
			"Their DBS requirement keeps its state until its due date, and the app tries again each day. If it goes on, check the certificate on the DBS website and record the result.",
		}
	} else {
		return nil
	}
	managers, err := r.managersOf(a)
	if err != nil {
		return err
	}
	for _, mid := range managers {
		if err := r.send(note{id: messageID(mid, a.ID, "dbs-status", d.ID, key), to: r.user(mid), about: []string{a.ID}, kind: "escalation", link: link,
			subject: subject, email: notify.Email{Paragraphs: paras, Action: &notify.Action{Label: "Open " + a.Name + "'s DBS record"}}}); err != nil {
			return err
		}
	}
	return nil
}

// managersOf returns the advocate's named manager, or every manager of
// their organisation when none is named (or theirs is disabled).
func (r *run) managersOf(a *compliance.Advocate) ([]string, error) {
	if a.ManagerID != "" && r.user(a.ManagerID) != nil {
		return []string{a.ManagerID}, nil
	}
	ms, err := r.Comply.Managers(r.ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		if m.ID != a.ID {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

func finding(result string) string {
	if result == "no-match" {
		return "no match"
	}
	return "new information"
}
