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
	}
	for _, tc := range []struct {
		name string
		q    DashboardQuery
		want []string
	}{
		{"Everyone", DashboardQuery{}, []string{"all-met-far-away", "cpd-in-20", "dbs-in-20", "dbs-in-45", "dbs-in-75", "dbs-overdue"}},
		{"Overdue", DashboardQuery{Filter: "overdue"}, []string{"dbs-overdue"}},
		{"Due30LeavesOutWhatIsOverdue", DashboardQuery{Filter: "due30"}, []string{"cpd-in-20", "dbs-in-20"}},
		{"Due60", DashboardQuery{Filter: "due60"}, []string{"cpd-in-20", "dbs-in-20", "dbs-in-45"}},
		{"Due90IncludesStillMet", DashboardQuery{Filter: "due90"}, []string{"cpd-in-20", "dbs-in-20", "dbs-in-45", "dbs-in-75"}},
		{"Due30OnDBSOnly", DashboardQuery{Filter: "due30", Requirement: ReqDBS}, []string{"dbs-in-20"}},
		{"NotMetOnDBS", DashboardQuery{Requirement: ReqDBS}, []string{"dbs-in-20", "dbs-in-45", "dbs-overdue"}},
		{"OverdueOnCPD", DashboardQuery{Filter: "overdue", Requirement: ReqCPD}, nil},
		{"NotCleared", DashboardQuery{Filter: "not-cleared"}, []string{"dbs-overdue"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, name := range []string{"all-met-far-away", "cpd-in-20", "dbs-in-20", "dbs-in-45", "dbs-in-75", "dbs-overdue"} {
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
