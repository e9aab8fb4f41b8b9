package compliance

import (
	"sync"

	"bytes"
	"context"
	"github.com/family-advocacy/lms/internal/civil"
	"golang.org/x/sync/errgroup"
	"sort"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// Row is an advocate's line on the organisation's dashboard.
type Row struct {
	ID         string                `bson:"id"`
	Name       string                `bson:"name"`
	Status     string                `bson:"status"`
	ManagerID  string                `bson:"manager_id,omitempty"`
	Profession string                `bson:"profession"`
	Overall    State                 `bson:"overall"`
	Cleared    bool                  `bson:"cleared"`
	States     map[string]State      `bson:"states"`
	Due        map[string]*time.Time `bson:"due"`
	NextDue    *time.Time            `bson:"next_due,omitempty"`
	CPDMonths  []float64             `bson:"cpd_months"` // hours in each of the last 12 months, oldest first
	Updated    time.Time             `bson:"updated_at"`
	Computed   time.Time             `bson:"computed_at"` // when the states were computed
	// LastStatusCheck is the latest Update Service status check of the
	// latest DBS check; NextAutoCheck when the app checks it next.
	LastStatusCheck *StatusSummary `bson:"last_status_check,omitempty"`
	NextAutoCheck   *time.Time     `bson:"next_auto_check,omitempty"`
}

// Rollup is one organisation's dashboard rows, kept in one document so the
// dashboard is a point read.
type Rollup struct {
	OrgID string         `bson:"_id"`
	Rows  map[string]Row `bson:"rows"`
}

// staleBatch bounds the rows one dashboard view re-evaluates: a batch of
// point reads that keeps a view just after midnight within its time; the
// rest wait for the recompute job of the first hour of the day.
const staleBatch = 25

// freshen re-evaluates, in memory, the rows computed before today (dates
// pass; the periodic job writes them back soon after midnight): at most
// staleBatch per view, their records read eight at a time, nothing
// written, so a view just after midnight costs a batch of point reads and
// never waits behind the write lock.
//
// It returns how many stale rows it left for the job.
func (s *Service) freshen(ctx context.Context, ru *Rollup, now time.Time) int {
	var ids []string
	behind := 0
	for id, r := range ru.Rows {
		if !day(r.Computed).Before(day(now)) {
			continue
		}
		if len(ids) < staleBatch {
			ids = append(ids, id)
		} else {
			behind++
		}
	}
	if len(ids) == 0 {
		return 0
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, id := range ids {
		g.Go(func() error {
			a, err := s.db.Advocate(gctx, id)
			if err != nil {
				return nil // gone or unreadable: the row stays as it was
			}
			a.Snapshot = Evaluate(s.Policy, a, s.CourseTitle, now)
			row := s.RowOf(a)
			mu.Lock()
			ru.Rows[id] = row
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return behind
}

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
	r := Row{ID: a.ID, Name: a.Name, Status: a.Status, ManagerID: a.ManagerID, Profession: a.Profession, Overall: a.Snapshot.Overall, Cleared: a.Snapshot.Cleared,
		States: map[string]State{}, Due: map[string]*time.Time{}, NextDue: a.Snapshot.NextDue, Updated: a.Updated, Computed: a.Snapshot.ComputedAt,
		CPDMonths: make([]float64, 12), LastStatusCheck: StatusSummaryOf(a)}
	_, r.NextAutoCheck = s.Policy.NextAutoCheck(a)
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
	Search string
	// Filter is one of "", "cleared", "not-cleared", "overdue", "missing",
	// "attention" (overdue or missing), "due7", "due30", "due60", "due90".
	Filter      string
	Requirement string // with Filter, look at this requirement alone; without, advocates not met on it
	Overall     State  // only advocates whose overall state is this (the headline counts)
	Manager     string // only advocates with this named manager ("none": without one)
	Sort        string // "name", "overall", "next-due"
	Offset      int
	Limit       int
	Status      string // advocate status; "" = all but ended, "all" = every one
}

// DueWithin are the "due within N days" filters, in days.
var DueWithin = []int{7, 30, 60, 90}

// Next returns the row's next due requirement and its date: the earliest
// due date of any requirement, overdue ones included; "" when none has one.
func (r Row) Next() (string, *time.Time) {
	key, due := "", (*time.Time)(nil)
	for _, k := range RequirementKeys {
		if d := r.Due[k]; d != nil && (due == nil || d.Before(*due)) {
			key, due = k, d
		}
	}
	return key, due
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
	Lapsing30 int           // requirements of the rows counted lapsing within 30 days
	Trend     []MonthPoint  // cleared and overdue, last 12 months
	// Behind counts the rows shown as last computed (before today): the
	// recompute of the day's first hour has not reached them yet.
	Behind int
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
	behind := s.freshen(ctx, ru, now)
	d := &Dashboard{Counts: map[State]int{}, CPDMonths: make([]float64, 12), Behind: behind}
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
		for _, k := range RequirementKeys {
			if lapsesWithin(r, k, civil.Of(now), 30) {
				d.Lapsing30++
			}
		}
		for i, h := range r.CPDMonths {
			if i < 12 {
				d.CPDMonths[i] += h
			}
		}
		if q.Search != "" && !containsFold(r.Name, q.Search) || q.Overall != "" && r.Overall != q.Overall ||
			q.Manager == "none" && r.ManagerID != "" || q.Manager != "" && q.Manager != "none" && r.ManagerID != q.Manager {
			continue
		}
		if !matches(r, q, now) {
			continue
		}
		rows = append(rows, r)
	}
	if d.Trend, err = s.Trend(ctx, orgID, ru.Rows); err != nil {
		return nil, err
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
// chosen, the filters look at that requirement alone, and without a
// filter only advocates not meeting it are shown. "Due within N days"
// means coming due in the next N days (met or due soon); what is already
// overdue has its own filter.
func matches(r Row, q DashboardQuery, now time.Time) bool {
	keys := RequirementKeys
	if q.Requirement != "" {
		if (q.Filter == "" || q.Filter == "not-cleared") && r.States[q.Requirement] == Met {
			return false
		}
		keys = []string{q.Requirement}
	}
	some := func(ok func(k string) bool) bool {
		for _, k := range keys {
			if ok(k) {
				return true
			}
		}
		return false
	}
	today := civil.Of(now)
	switch q.Filter {
	case "cleared":
		return r.Cleared
	case "not-cleared":
		return !r.Cleared
	case "overdue":
		return some(func(k string) bool { return r.States[k] == Overdue })
	case "missing":
		return some(func(k string) bool { return r.States[k] == Missing })
	case "attention":
		return some(func(k string) bool { return r.States[k] == Overdue || r.States[k] == Missing })
	}
	if days, ok := dueFilter(q.Filter); ok {
		return some(func(k string) bool { return lapsesWithin(r, k, today, days) })
	}
	return true
}

// dueFilter reads a "dueN" filter.
func dueFilter(f string) (int, bool) {
	for _, d := range DueWithin {
		if f == "due"+strconv.Itoa(d) {
			return d, true
		}
	}
	return 0, false
}

// lapsesWithin reports whether a requirement of the row falls due from
// today to days on (calendar days in London) and is not overdue already.
func lapsesWithin(r Row, key string, today civil.Date, days int) bool {
	due := r.Due[key]
	if due == nil || r.States[key] == Overdue {
		return false
	}
	d := civil.Of(*due)
	return !d.Before(today) && !d.After(today.AddDays(days))
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
