package compliance

import (
	"context"
	"sort"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

// Lapse is one requirement of one advocate falling due.
type Lapse struct {
	AdvocateID string
	Name       string
	ManagerID  string
	Key        string // requirement
	State      State
	Due        time.Time
	DaysLeft   int // calendar days from today (0: today)
	Cleared    bool
}

// LapsingQuery selects the "lapsing soon" list.
type LapsingQuery struct {
	Within      int    // days ahead: one of DueWithin
	Requirement string // "" = every requirement
	Manager     string // named manager's ID; "none": advocates without one
	Offset      int
	Limit       int
}

// Lapsing is one page of what falls due within the window across the
// organisation, soonest first.
type Lapsing struct {
	Items []Lapse
	Total int
}

// Lapsing lists every requirement of the organisation's advocates (not
// ended) that falls due from today to q.Within days on and is not overdue
// yet, soonest first: one point read of the dashboard rollup.
func (s *Service) Lapsing(ctx context.Context, orgID string, q LapsingQuery) (*Lapsing, error) {
	ru, err := s.db.Rollup(ctx, orgID)
	if errs.Is(err, errs.ENOTFOUND) {
		return &Lapsing{}, nil
	} else if err != nil {
		return nil, err
	}
	today := civil.Of(s.Now())
	var all []Lapse
	for _, r := range ru.Rows {
		if r.Status == StatusEnded || q.Manager == "none" && r.ManagerID != "" || q.Manager != "" && q.Manager != "none" && r.ManagerID != q.Manager {
			continue
		}
		for _, k := range RequirementKeys {
			if q.Requirement != "" && k != q.Requirement || !lapsesWithin(r, k, today, q.Within) {
				continue
			}
			all = append(all, Lapse{AdvocateID: r.ID, Name: r.Name, ManagerID: r.ManagerID, Key: k, State: r.States[k], Due: *r.Due[k],
				DaysLeft: today.DaysUntil(civil.Of(*r.Due[k])), Cleared: r.Cleared})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.Due.Equal(b.Due) {
			return a.Due.Before(b.Due)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Key < b.Key
	})
	l := &Lapsing{Total: len(all)}
	if q.Limit <= 0 {
		q.Limit = len(all)
	}
	l.Items = all[min(q.Offset, len(all)):min(q.Offset+q.Limit, len(all))]
	return l, nil
}

// TrendPoint is one day's count of an organisation's advocates (not
// ended): how many there were, how many were cleared for allocation, and
// how many requirements were overdue.
type TrendPoint struct {
	Advocates int `bson:"advocates"`
	Cleared   int `bson:"cleared"`
	Overdue   int `bson:"overdue"`
}

// TrendDays is how many days of points an organisation's trend keeps.
const TrendDays = 400

// pointOf counts a dashboard's rows for the trend.
func pointOf(rows map[string]Row) TrendPoint {
	var p TrendPoint
	for _, r := range rows {
		if r.Status == StatusEnded {
			continue
		}
		p.Advocates++
		if r.Cleared {
			p.Cleared++
		}
		for _, st := range r.States {
			if st == Overdue {
				p.Overdue++
			}
		}
	}
	return p
}

// RecordTrends writes today's point of every organisation's trend, from
// the dashboards the recompute has just brought up to date (one small
// document per organisation). Run again the same day, it replaces the
// day's point.
func (s *Service) RecordTrends(ctx context.Context) (int, error) {
	rus, err := s.db.Rollups(ctx)
	if err != nil {
		return 0, err
	}
	today := civil.Of(s.Now())
	for i, ru := range rus {
		if err := s.db.PutTrendPoint(ctx, ru.OrgID, today.String(), pointOf(ru.Rows), today.AddDays(-TrendDays).String()); err != nil {
			return i, err
		}
	}
	return len(rus), nil
}

// MonthPoint is the trend at the end of one month (the last day recorded
// in it; the current month shows today).
type MonthPoint struct {
	Label string // "Jan 2026"
	TrendPoint
	Recorded bool // false: no day of the month was recorded
	day      string
}

// Trend returns the organisation's last 12 months, oldest first; today is
// taken from the live dashboard rows.
func (s *Service) Trend(ctx context.Context, orgID string, rows map[string]Row) ([]MonthPoint, error) {
	days, err := s.db.Trend(ctx, orgID)
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return nil, err
	}
	today := civil.Of(s.Now())
	if rows != nil {
		if days == nil {
			days = map[string]TrendPoint{}
		}
		days[today.String()] = pointOf(rows)
	}
	first := civil.New(today.Year, today.Month, 1).AddMonths(-11)
	out := make([]MonthPoint, 12)
	for i := range out {
		m := first.AddMonths(i)
		out[i].Label = m.Midnight().Format("Jan 2006")
	}
	for day, p := range days {
		d, err := civil.Parse(day)
		if err != nil || d.Before(first) || d.After(today) {
			continue
		}
		i := (d.Year-first.Year)*12 + int(d.Month-first.Month)
		if !out[i].Recorded || out[i].day < day {
			out[i].TrendPoint, out[i].Recorded, out[i].day = p, true, day
		}
	}
	return out, nil
}

// Reminded records in the audit trail that the actor sent the advocate a
// reminder about a requirement. eventID fixes the event (one per reminder
// message), so recording it again after a retry adds nothing.
func (s *Service) Reminded(ctx context.Context, actor *auth.User, a *Advocate, key, eventID string) error {
	e := s.event(actor.ID, actor.Name, "advocate.reminded", a, nil, map[string]any{"requirement": RequirementLabels[key]}, "")
	e.ID = eventID
	return s.Audit.RecordOnce(ctx, e)
}
