package compliance

import (
	"testing"
	"time"
)

func TestDashboardFilters(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	in := func(days int) *time.Time { d := now.AddDate(0, 0, days); return &d }
	row := func(dbs State, dbsDue *time.Time, cpd State, cpdDue *time.Time, cleared bool) Row {
		return Row{States: map[string]State{ReqDBS: dbs, ReqCPD: cpd, ReqReferences: Met}, Due: map[string]*time.Time{ReqDBS: dbsDue, ReqCPD: cpdDue}, Cleared: cleared}
	}
	rows := map[string]Row{
		"dbs-in-20":        row(DueSoon, in(20), Met, in(200), true),
		"dbs-in-45":        row(DueSoon, in(45), Met, in(200), true),
		"dbs-in-75":        row(Met, in(75), Met, in(200), true),
		"dbs-overdue":      row(Overdue, in(-3), Met, in(200), false),
		"cpd-in-20":        row(Met, in(400), DueSoon, in(20), true),
		"all-met-far-away": row(Met, in(400), Met, in(200), true),
		"cpd-missing":      row(Met, in(400), Missing, nil, true),
		"dbs-in-5":         row(DueSoon, in(5), Met, in(200), true),
	}
	for _, tc := range []struct {
		name string
		q    DashboardQuery
		want []string
	}{
		{"Everyone", DashboardQuery{}, []string{"all-met-far-away", "cpd-in-20", "cpd-missing", "dbs-in-20", "dbs-in-45", "dbs-in-5", "dbs-in-75", "dbs-overdue"}},
		{"Missing", DashboardQuery{Filter: "missing"}, []string{"cpd-missing"}},
		{"Attention", DashboardQuery{Filter: "attention"}, []string{"cpd-missing", "dbs-overdue"}},
		{"Cleared", DashboardQuery{Filter: "cleared"}, []string{"all-met-far-away", "cpd-in-20", "cpd-missing", "dbs-in-20", "dbs-in-45", "dbs-in-5", "dbs-in-75"}},
		{"Due7", DashboardQuery{Filter: "due7"}, []string{"dbs-in-5"}},
		{"NotClearedOnCPD", DashboardQuery{Filter: "not-cleared", Requirement: ReqCPD}, nil},
		{"Overdue", DashboardQuery{Filter: "overdue"}, []string{"dbs-overdue"}},
		{"Due30LeavesOutWhatIsOverdue", DashboardQuery{Filter: "due30"}, []string{"cpd-in-20", "dbs-in-20", "dbs-in-5"}},
		{"Due60", DashboardQuery{Filter: "due60"}, []string{"cpd-in-20", "dbs-in-20", "dbs-in-45", "dbs-in-5"}},
		{"Due90IncludesStillMet", DashboardQuery{Filter: "due90"}, []string{"cpd-in-20", "dbs-in-20", "dbs-in-45", "dbs-in-5", "dbs-in-75"}},
		{"Due30OnDBSOnly", DashboardQuery{Filter: "due30", Requirement: ReqDBS}, []string{"dbs-in-20", "dbs-in-5"}},
		{"NotMetOnDBS", DashboardQuery{Requirement: ReqDBS}, []string{"dbs-in-20", "dbs-in-45", "dbs-in-5", "dbs-overdue"}},
		{"OverdueOnCPD", DashboardQuery{Filter: "overdue", Requirement: ReqCPD}, nil},
		{"NotCleared", DashboardQuery{Filter: "not-cleared"}, []string{"dbs-overdue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, name := range []string{"all-met-far-away", "cpd-in-20", "cpd-missing", "dbs-in-20", "dbs-in-45", "dbs-in-5", "dbs-in-75", "dbs-overdue"} {
				if matches(rows[name], tc.q, now) {
					got = append(got, name)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestRowNext: the next due requirement is the earliest date, overdue
// ones included; ties go to the first requirement in display order.
func TestRowNext(t *testing.T) {
	d := func(day int) *time.Time { x := time.Date(2026, 12, day, 0, 0, 0, 0, time.UTC); return &x }
	r := Row{Due: map[string]*time.Time{ReqCPD: d(20), ReqSupervision: d(3), ReqDBS: d(3), ReqReferences: nil}}
	if k, due := r.Next(); k != ReqDBS || !due.Equal(*d(3)) {
		t.Fatalf("next: %s %v, want dbs on 3 December", k, due)
	}
	if k, due := (Row{}).Next(); k != "" || due != nil {
		t.Fatalf("no dates: %s %v", k, due)
	}
}
