package civil_test

import (
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
)

func d(s string) civil.Date {
	x, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return x
}

func TestAddMonthsClampsToTheMonthsEnd(t *testing.T) {
	for _, tc := range []struct {
		from   string
		months int
		want   string
	}{
		{"2024-02-29", 36, "2027-02-28"}, // a DBS check of 29 Feb 2024 rechecked after 3 years
		{"2024-02-29", 48, "2028-02-29"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2026-08-31", 1, "2026-09-30"},
		{"2026-12-15", 1, "2027-01-15"},
		{"2026-10-25", 12, "2027-10-25"},
		{"2025-12-31", -12, "2024-12-31"},
		{"2026-05-31", 24, "2028-05-31"},
	} {
		if got := d(tc.from).AddMonths(tc.months).String(); got != tc.want {
			t.Errorf("%s + %d months: got %s, want %s", tc.from, tc.months, got, tc.want)
		}
	}
}

func TestDaysAcrossTheClockChanges(t *testing.T) {
	for _, tc := range []struct {
		from string
		days int
		want string
	}{
		{"2026-12-01", -60, "2026-10-02"}, // across the October change
		{"2027-04-30", -60, "2027-03-01"},
		{"2026-03-29", 1, "2026-03-30"}, // the March change (23-hour day)
		{"2026-10-25", 1, "2026-10-26"}, // the October change (25-hour day)
		{"2026-03-28", 2, "2026-03-30"},
		{"2026-12-31", 1, "2027-01-01"},
	} {
		if got := d(tc.from).AddDays(tc.days).String(); got != tc.want {
			t.Errorf("%s %+d days: got %s, want %s", tc.from, tc.days, got, tc.want)
		}
	}
	if n := d("2026-10-02").DaysUntil(d("2026-12-01")); n != 60 {
		t.Errorf("days from 2 October to 1 December: %d, want 60", n)
	}
	if n := d("2026-03-01").DaysUntil(d("2026-04-30")); n != 60 {
		t.Errorf("days from 1 March to 30 April: %d, want 60", n)
	}
}

func TestOfReadsTheDateInLondon(t *testing.T) {
	for _, tc := range []struct {
		utc  string
		want string
	}{
		{"2026-06-30T23:30:00Z", "2026-07-01"}, // BST: 00:30 on 1 July
		{"2026-12-31T23:30:00Z", "2026-12-31"}, // GMT
		{"2026-03-29T00:59:59Z", "2026-03-29"},
		{"2026-10-24T23:00:00Z", "2026-10-25"}, // 00:00 BST
	} {
		at, _ := time.Parse(time.RFC3339, tc.utc)
		if got := civil.Of(at).String(); got != tc.want {
			t.Errorf("Of(%s): got %s, want %s", tc.utc, got, tc.want)
		}
	}
	at, _ := time.Parse(time.RFC3339, "2026-01-31T14:00:00Z")
	if got := civil.AddMonthsTo(at, 1).UTC().Format(time.RFC3339); got != "2026-02-28T14:00:00Z" {
		t.Errorf("31 January 14:00 + 1 month: %s", got)
	}
	at, _ = time.Parse(time.RFC3339, "2026-03-15T14:00:00Z") // GMT; in April it is BST, same London clock
	if got := civil.AddMonthsTo(at, 1).UTC().Format(time.RFC3339); got != "2026-04-15T13:00:00Z" {
		t.Errorf("15 March 14:00 + 1 month: %s", got)
	}
}
