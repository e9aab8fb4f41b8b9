package compliance

import (
	"bytes"
	"context"
	"github.com/family-advocacy/lms/internal/civil"
	"sort"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// Row is an advocate's line on the organisation's dashboard.
type Row struct {
	ID         string                `bson:"id"`
	Name       string                `bson:"name"`
	Status     string                `bson:"status"`
	Profession string                `bson:"profession"`
	Overall    State                 `bson:"overall"`
	Cleared    bool                  `bson:"cleared"`
	States     map[string]State      `bson:"states"`
	Due        map[string]*time.Time `bson:"due"`
	NextDue    *time.Time            `bson:"next_due,omitempty"`
	CPDMonths  []float64             `bson:"cpd_months"` // hours in each of the last 12 months, oldest first
	Updated    time.Time             `bson:"updated_at"`
	Computed   time.Time             `bson:"computed_at"` // when the states were computed
}

// Rollup is one organisation's dashboard rows, kept in one document so the
// dashboard is a point read.
type Rollup struct {
	OrgID string         `bson:"_id"`
	Rows  map[string]Row `bson:"rows"`
}

// staleBatch bounds the rows one dashboard view recomputes.
const staleBatch = 100

// Recompute recomputes one advocate's snapshot (dates pass).
func (s *Service) Recompute(ctx context.Context, id string) error {
	_, err := s.recompute(ctx, id)
	return err
}

func (s *Service) recompute(ctx context.Context, id string) (*Advocate, error) {
	return s.update(ctx, nil, id, "", func(a *Advocate) (map[string]any, map[string]any, error) {
		s.refreshTraining(ctx, a)
		if cleared := clearOldDecisionNotes(a, s.Now()); len(cleared) > 0 {
			a.Outbox = append(a.Outbox, s.event("system", "Retention job", "dbs.notes_deleted", a, nil,
				map[string]any{"checks": cleared}, "DBS decision notes deleted six months after the decision"))
		}
		return nil, nil, nil
	})
}

// clearOldDecisionNotes deletes the notes on DBS decisions made more than
// six months ago: after that, the record keeps only what an audit needs
// (level, certificate number, issue date, decision, who saw it). It returns
// the checks it changed.
func clearOldDecisionNotes(a *Advocate, now time.Time) []string {
	var ids []string
	for i := range a.DBS {
		d := &a.DBS[i]
		if d.DecisionAt != nil && d.DecisionNotes != "" && !now.Before(ScanDeleteAfter(*d.DecisionAt)) {
			d.DecisionNotes = ""
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// RecomputeAll recomputes every advocate (the daily job).
func (s *Service) RecomputeAll(ctx context.Context) (int, error) {
	ids, err := s.db.AdvocateIDs(ctx)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.Recompute(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// rollup writes the advocate's dashboard row.
func (s *Service) rollup(ctx context.Context, a *Advocate) error {
	return s.db.PutRollupRow(ctx, a.OrgID, s.RowOf(a))
}

// RowOf builds an advocate's dashboard row.
func (s *Service) RowOf(a *Advocate) Row {
	r := Row{ID: a.ID, Name: a.Name, Status: a.Status, Profession: a.Profession, Overall: a.Snapshot.Overall, Cleared: a.Snapshot.Cleared,
		States: map[string]State{}, Due: map[string]*time.Time{}, NextDue: a.Snapshot.NextDue, Updated: a.Updated, Computed: a.Snapshot.ComputedAt,
		CPDMonths: make([]float64, 12)}
	for _, q := range a.Snapshot.Requirements {
		r.States[q.Key], r.Due[q.Key] = q.State, q.Due
	}
	now := s.Now().In(London)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, London).AddDate(0, -11, 0)
	for _, e := range a.CPD {
		d := e.Date.In(London)
		m := (d.Year()-first.Year())*12 + int(d.Month()-first.Month())
		if m >= 0 && m < 12 {
			r.CPDMonths[m] += e.Hours
		}
	}
	return r
}

// DashboardQuery selects and orders dashboard rows.
type DashboardQuery struct {
	Search      string
	Filter      string // "", "overdue", "due30", "due60", "due90", "not-cleared"
	Requirement string // show only advocates not met on this requirement
	Sort        string // "name", "overall", "next-due"
	Offset      int
	Limit       int
	Status      string // advocate status; "" = all but ended
}

// Dashboard is what the manager dashboard shows.
type Dashboard struct {
	Rows      []Row
	Total     int           // rows matching
	Counts    map[State]int // by overall state, all active rows
	Cleared   int           // cleared for allocation
	Advocates int           // rows counted
	CPDMonths []float64     // organisation's CPD hours per month (last 12)
	Months    []string      // labels of those months
}

// Dashboard returns an organisation's dashboard: one point read of the
// rollup, then filtering, sorting and paging in memory.
func (s *Service) Dashboard(ctx context.Context, orgID string, q DashboardQuery) (*Dashboard, error) {
	ru, err := s.db.Rollup(ctx, orgID)
	if errs.Is(err, errs.ENOTFOUND) {
		ru = &Rollup{Rows: map[string]Row{}}
	} else if err != nil {
		return nil, err
	}
	now := s.Now()
	// Dates pass: rows computed before today are recomputed now (the
	// periodic job normally has done it; at most staleBatch per view).
	stale := 0
	for id, r := range ru.Rows {
		if day(r.Computed).Before(day(now)) && stale < staleBatch {
			stale++
			if a, err := s.recompute(ctx, id); err == nil {
				ru.Rows[id] = s.RowOf(a)
			}
		}
	}
	d := &Dashboard{Counts: map[State]int{}, CPDMonths: make([]float64, 12)}
	first := time.Date(now.In(London).Year(), now.In(London).Month(), 1, 0, 0, 0, 0, London).AddDate(0, -11, 0)
	for i := 0; i < 12; i++ {
		d.Months = append(d.Months, first.AddDate(0, i, 0).Format("Jan"))
	}
	var rows []Row
	for _, r := range ru.Rows {
		if q.Status == "" && r.Status == StatusEnded || q.Status != "" && q.Status != "all" && r.Status != q.Status {
			continue
		}
		d.Advocates++
		d.Counts[r.Overall]++
		if r.Cleared {
			d.Cleared++
		}
		for i, h := range r.CPDMonths {
			if i < 12 {
				d.CPDMonths[i] += h
			}
		}
		if q.Search != "" && !containsFold(r.Name, q.Search) {
			continue
		}
		if !matches(r, q, now) {
			continue
		}
		rows = append(rows, r)
	}
	sortRows(rows, q.Sort)
	d.Total = len(rows)
	if q.Limit <= 0 {
		q.Limit = len(rows)
	}
	from, to := min(q.Offset, len(rows)), min(q.Offset+q.Limit, len(rows))
	d.Rows = rows[from:to]
	return d, nil
}

// matches applies the dashboard's filters to a row. With a requirement
// chosen, the filters look at that requirement alone, and without a date
// filter only advocates not meeting it are shown. "Due within N days"
// means coming due in the next N days (met or due soon); what is already
// overdue has its own filter.
func matches(r Row, q DashboardQuery, now time.Time) bool {
	keys := RequirementKeys
	dated := strings.HasPrefix(q.Filter, "due")
	if q.Requirement != "" {
		if !dated && r.States[q.Requirement] == Met {
			return false
		}
		keys = []string{q.Requirement}
	}
	dueWithin := func(days int) bool { // from today to the date days on, in calendar days
		today := civil.Of(now)
		limit := today.AddDays(days)
		for _, k := range keys {
			if due := r.Due[k]; due != nil && !civil.Of(*due).Before(today) && !civil.Of(*due).After(limit) && r.States[k] != Overdue {
				return true
			}
		}
		return false
	}
	switch q.Filter {
	case "overdue":
		for _, k := range keys {
			if st := r.States[k]; st == Overdue || st == Missing {
				return true
			}
		}
		return false
	case "due30":
		return dueWithin(30)
	case "due60":
		return dueWithin(60)
	case "due90":
		return dueWithin(90)
	case "not-cleared":
		return !r.Cleared
	}
	return true
}

func sortRows(rows []Row, by string) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch by {
		case "overall":
			if a.Overall != b.Overall {
				return Worse(a.Overall, b.Overall)
			}
		case "next-due":
			switch {
			case a.NextDue == nil && b.NextDue != nil:
				return false
			case a.NextDue != nil && b.NextDue == nil:
				return true
			case a.NextDue != nil && !a.NextDue.Equal(*b.NextDue):
				return a.NextDue.Before(*b.NextDue)
			}
		}
		return a.Name < b.Name
	})
}

func containsFold(s, sub string) bool {
	return bytes.Contains(bytes.ToLower([]byte(s)), bytes.ToLower([]byte(sub)))
}

// Count returns how many advocates are in a state (for templates).
func (d *Dashboard) Count(state string) int { return d.Counts[State(state)] }
