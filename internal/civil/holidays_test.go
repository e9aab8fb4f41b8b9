package civil

import (
	"testing"
	"time"
)

// TestBankHolidaysOfEnglandAndWales: the years' bank holidays as GOV.UK
// lists them, with the substitute days when Christmas, Boxing Day or New
// Year's Day fall at a weekend.
func TestBankHolidaysOfEnglandAndWales(t *testing.T) {
	for year, want := range map[int][]string{
		2025: {"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"},
		2026: {"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"},
		2027: {"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
		2028: {"2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26"},
		2033: {"2033-01-03", "2033-04-15", "2033-04-18", "2033-05-02", "2033-05-30", "2033-08-29", "2033-12-26", "2033-12-27"}, // Christmas on a Sunday
	} {
		got := BankHolidays(year)
		if len(got) != len(want) {
			t.Fatalf("%d: %v", year, got)
		}
		for i := range want {
			if got[i].String() != want[i] {
				t.Errorf("%d: holiday %d is %s, want %s", year, i+1, got[i], want[i])
			}
		}
	}
}

func TestNextWorkingDay(t *testing.T) {
	for _, c := range []struct{ from, want string }{
		{"2026-12-07", "2026-12-07"}, // a Monday
		{"2026-12-05", "2026-12-07"}, // Saturday → Monday
		{"2026-12-25", "2026-12-29"}, // Christmas (Friday), the weekend, Boxing Day's substitute (Monday)
		{"2027-03-26", "2027-03-30"}, // Good Friday, the weekend, Easter Monday
		{"2027-01-01", "2027-01-04"}, // New Year's Day (Friday) and the weekend
	} {
		d, _ := Parse(c.from)
		if got := d.NextWorkingDay().String(); got != c.want {
			t.Errorf("after %s: %s, want %s", c.from, got, c.want)
		}
	}
	if d := New(2026, time.December, 5); d.Weekday() != time.Saturday {
		t.Fatalf("5 December 2026 is a %s", d.Weekday())
	}
}
