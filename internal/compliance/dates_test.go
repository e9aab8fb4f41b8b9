package compliance

import (
	"testing"
	"time"
)

// at returns an instant in London: a date and a clock time.
func at(date, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, London)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDueDatesAreCalendarDates checks every due-date rule at month ends
// and on each side of both clock changes: a due date is a date, "due soon"
// starts a number of calendar days before it and "overdue" on the day
// after, whatever time of day it is and whatever the clocks did.
func TestDueDatesAreCalendarDates(t *testing.T) {
	p := testPolicy(t) // due soon 60 days; DBS recheck 36 months; supervision every 6 weeks, due soon 7 days
	base := func() *Advocate {
		return &Advocate{Profession: SocialWorker, ContractStart: dp("2023-01-01"), Created: d("2023-01-01")}
	}
	tests := []struct {
		name  string
		edit  func(a *Advocate)
		req   string
		due   string // the due date
		cases map[string]State
	}{
		{"DBSRecheckFrom29February", func(a *Advocate) { a.DBS = []DBSCheck{clearDBS("2024-02-29")} }, ReqDBS, "2027-02-28",
			map[string]State{"2026-12-29 23:59": Met, "2026-12-30 00:00": DueSoon, "2027-02-28 23:59": DueSoon, "2027-03-01 00:00": Overdue}},
		{"RegistrationAcrossTheOctoberChange", func(a *Advocate) { a.RegistrationDue = dp("2026-12-01") }, ReqRegistration, "2026-12-01",
			// 60 days before 1 December is 2 October (BST), though the
			// clocks go back on 25 October.
			map[string]State{"2026-10-01 23:59": Met, "2026-10-02 00:00": DueSoon, "2026-10-02 00:30": DueSoon, "2026-12-01 23:59": DueSoon, "2026-12-02 00:00": Overdue}},
		{"RegistrationAcrossTheMarchChange", func(a *Advocate) { a.RegistrationDue = dp("2027-04-15") }, ReqRegistration, "2027-04-15",
			map[string]State{"2027-02-13 23:59": Met, "2027-02-14 00:00": DueSoon, "2027-04-15 23:30": DueSoon, "2027-04-16 00:30": Overdue}},
		{"SupervisionAcrossTheMarchChange", func(a *Advocate) { a.Supervisions = []Supervision{{Date: d("2026-03-20")}} }, ReqSupervision, "2026-05-01",
			map[string]State{"2026-04-23 23:59": Met, "2026-04-24 00:00": DueSoon, "2026-05-01 23:59": DueSoon, "2026-05-02 00:00": Overdue}},
		{"SupervisionAcrossTheOctoberChange", func(a *Advocate) { a.Supervisions = []Supervision{{Date: d("2026-10-20")}} }, ReqSupervision, "2026-12-01",
			map[string]State{"2026-11-23 23:59": Met, "2026-11-24 00:00": DueSoon, "2026-12-02 00:00": Overdue}},
		{"TrainingRenewalFrom29February", func(a *Advocate) {
			a.Training = map[string]time.Time{"child-protection-process": d("2024-02-29"), "advocacy-standards-in-practice": d("2025-06-01")}
		}, ReqTraining, "2026-02-28",
			map[string]State{"2025-12-29 23:59": Met, "2025-12-30 00:00": DueSoon, "2026-02-28 23:59": DueSoon, "2026-03-01 00:00": Overdue}},
		{"SocialWorkEnglandYearEnd", func(a *Advocate) {
			a.CPD = []CPDEntry{entry("2025-12-05", "course", 3)} // 1 of 2 pieces, none with a peer
		}, ReqCPD, "2026-11-30",
			map[string]State{"2026-09-30 23:59": Met, "2026-10-01 00:00": DueSoon, "2026-11-30 23:59": DueSoon}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.edit(a)
			if tc.name == "SocialWorkEnglandYearEnd" {
				// The year before (1 Dec 2024 - 30 Nov 2025) was met.
				a.CPD = append(a.CPD, entry("2025-01-10", "course", 3), entry("2025-02-10", "peer-reflection", 1))
			}
			for when, want := range tc.cases {
				date, clock := when[:10], when[11:]
				got := Evaluate(p, a, title, at(date, clock)).Requirement(tc.req)
				if got.State != want {
					t.Errorf("at %s: %s, want %s (%s)", when, got.State, want, got.Reason)
				}
				if got.Due == nil || got.Due.In(London).Format(time.DateOnly) != tc.due {
					t.Errorf("at %s: due %v, want %s", when, got.Due, tc.due)
				}
			}
		})
	}
}

// TestRollingCPDNeverMetIsOverdueFromOneDate: an escalation about it must
// go once, so its overdue date must not move a day each day.
func TestRollingCPDNeverMetIsOverdueFromOneDate(t *testing.T) {
	p := testPolicy(t)
	never := &Advocate{Profession: OtherAdvocate, ContractStart: dp("2023-01-31"), Created: d("2023-01-01")}
	metLongAgo := &Advocate{Profession: OtherAdvocate, ContractStart: dp("2022-01-01"), Created: d("2022-01-01"),
		CPD: []CPDEntry{entry("2022-06-10", "course", 15), entry("2022-06-10", "peer-reflection", 1)}}
	for _, tc := range []struct {
		name string
		a    *Advocate
		want string
	}{
		{"NeverMet", never, "2024-01-31"},        // the first window: 31 January 2023 + 12 months
		{"MetLongAgo", metLongAgo, "2023-06-10"}, // the day after the last window holding the entries
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, on := range []string{"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2027-03-01"} {
				got := Evaluate(p, tc.a, title, d(on)).Requirement(ReqCPD)
				if got.State != Overdue || got.Due == nil || got.Due.In(London).Format(time.DateOnly) != tc.want {
					t.Fatalf("on %s: %s, due %v; want overdue since %s", on, got.State, got.Due, tc.want)
				}
			}
		})
	}
}
