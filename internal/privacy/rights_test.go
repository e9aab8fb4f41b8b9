package privacy

import (
	"testing"

	"github.com/family-advocacy/lms/internal/civil"
)

// TestRightsDueIsAMonthThenTheNextWorkingDay: the ICO's reading of "one
// month of receipt": the same date next month, the month's last day when
// it has none, moved past weekends and bank holidays in England and Wales.
func TestRightsDueIsAMonthThenTheNextWorkingDay(t *testing.T) {
	for _, c := range []struct{ received, due, why string }{
		{"2026-09-21", "2026-10-21", "a Wednesday"},
		{"2026-01-31", "2026-03-02", "no 31 February: Saturday 28th, so Monday"},
		{"2027-01-31", "2027-03-01", "28 February 2027 is a Sunday"},
		{"2028-01-30", "2028-02-29", "a leap year"},
		{"2026-11-25", "2026-12-29", "Christmas Day, the weekend, Boxing Day's substitute"},
		{"2026-12-01", "2027-01-04", "New Year's Day is a Friday"},
		{"2027-02-26", "2027-03-30", "Good Friday and Easter Monday"},
		{"2026-09-03", "2026-10-05", "3 October 2026 is a Saturday"},
	} {
		d, _ := civil.Parse(c.received)
		if got := RightsDue(d).String(); got != c.due {
			t.Errorf("received %s: due %s, want %s (%s)", c.received, got, c.due, c.why)
		}
	}
}
