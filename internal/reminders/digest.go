package reminders

import (
	"fmt"
	"sort"
	"time"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/notify"
)

// digestItem is one line of a manager's weekly summary, with what it is
// sorted by.
type digestItem struct {
	item  notify.Item
	state compliance.State
	due   *time.Time
	name  string
}

// sections are the parts of an advocate's record where each requirement
// is dealt with (registration sits in the record's summary).
var sections = map[string]string{
	compliance.ReqDBS: "dbs", compliance.ReqReferences: "references", compliance.ReqTraining: "training",
	compliance.ReqCPD: "cpd", compliance.ReqSupervision: "supervision",
}

// digestItem says what is wrong with one of a's requirements, in the
// words a manager reads ("Sam Patel: DBS check overdue since 3 March
// 2026"), linking to that part of the advocate's record.
func (r *run) digestItem(a *compliance.Advocate, q compliance.Requirement) digestItem {
	what := lower(compliance.RequirementLabels[q.Key])
	if what == "" {
		what = q.Key
	}
	var state string
	switch {
	case q.State == compliance.Overdue && q.Due != nil:
		state = "overdue since " + dateText(*q.Due)
	case q.State == compliance.DueSoon && q.Due != nil:
		switch d := r.daysUntil(*q.Due); {
		case d == 0:
			state = "due today, " + dateText(*q.Due)
		case d > 0:
			state = fmt.Sprintf("due on %s (in %s)", dateText(*q.Due), plural(d, "day"))
		default:
			state = "due on " + dateText(*q.Due)
		}
	case q.State == compliance.Missing && q.Due != nil: // e.g. a first supervision, due from the contract's start
		switch d := r.daysUntil(*q.Due); {
		case d < 0:
			state = "missing, was due on " + dateText(*q.Due)
		case d == 0:
			state = "missing, due today"
		default:
			state = "missing, due by " + dateText(*q.Due)
		}
	case q.State == compliance.Missing:
		state = "missing"
	default:
		state = lower(q.State.Label())
	}
	link := "/manage/advocates/" + a.ID
	if s := sections[q.Key]; s != "" {
		link += "#" + s
	}
	return digestItem{item: notify.Item{Text: a.Name + ": " + what + " " + state, Detail: q.Reason, Link: link},
		state: q.State, due: q.Due, name: a.Name}
}

// digestRank orders a summary: overdue first, then missing, then due soon.
var digestRank = map[compliance.State]int{compliance.Overdue: 0, compliance.Missing: 1, compliance.DueSoon: 2}

// sortDigest returns the items most urgent first: by state, then the
// earliest date, then the advocate's name (the order is stable, so one
// advocate's requirements keep the policy's order).
func sortDigest(ds []digestItem) []notify.Item {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		ra, oka := digestRank[a.state]
		rb, okb := digestRank[b.state]
		if !oka {
			ra = len(digestRank)
		}
		if !okb {
			rb = len(digestRank)
		}
		if ra != rb {
			return ra < rb
		}
		if (a.due == nil) != (b.due == nil) {
			return a.due != nil
		}
		if a.due != nil && !a.due.Equal(*b.due) {
			return a.due.Before(*b.due)
		}
		return a.name < b.name
	})
	items := make([]notify.Item, len(ds))
	for i, d := range ds {
		items[i] = d.item
	}
	return items
}
