// Package civil is calendar dates as people in England read them: a year,
// a month and a day, counted in Europe/London. Due dates are dates, not
// instants: "36 months after 29 February 2024" is 28 February 2027 (the
// month's last day, not 1 March), and "60 days before 1 December" is
// 2 October whatever the clocks did in between (60 × 24 hours from a
// London midnight lands at 23:00 the day before, across the October
// change). The time zone database is embedded, so the rules hold on a
// machine without one.
package civil

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/London on machines with no zoneinfo (Windows, minimal containers)
)

// London is the time zone dates are counted and shown in.
var London = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err) // cannot happen: time/tzdata is embedded
	}
	return l
}()

// Date is a calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Of returns the date of t in London.
func Of(t time.Time) Date {
	y, m, d := t.In(London).Date()
	return Date{y, m, d}
}

// New returns the date y-m-d, normalised (New(2026, 2, 30) is 2 March).
func New(y int, m time.Month, d int) Date {
	return Of(time.Date(y, m, d, 12, 0, 0, 0, London))
}

// Parse reads a date written 2006-01-02.
func Parse(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Midnight is the instant the date starts in London.
func (d Date) Midnight() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, London) }

// String writes the date as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n calendar days later (earlier for negative n).
func (d Date) AddDays(n int) Date {
	return Of(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, London))
}

// AddMonths returns the same day n months later, or the last day of that
// month when it is shorter (31 January + 1 month is 28 or 29 February).
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 12, 0, 0, 0, London)
	day := min(d.Day, DaysIn(first.Year(), first.Month()))
	return Date{first.Year(), first.Month(), day}
}

// AddYears is AddMonths(12n).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// DaysIn returns the number of days in a month.
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// Compare returns -1, 0 or +1 as d is before, the same as or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmp(d.Year, e.Year)
	case d.Month != e.Month:
		return cmp(int(d.Month), int(e.Month))
	}
	return cmp(d.Day, e.Day)
}

func cmp(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// DaysUntil counts calendar days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// AddMonthsTo returns the instant n months after t at the same London
// clock time, the day clamped to the month's end (a certificate passed at
// 14:00 on 31 January 2026 and valid 1 month expires at 14:00 on
// 28 February).
func AddMonthsTo(t time.Time, n int) time.Time {
	lt := t.In(London)
	d := Of(t).AddMonths(n)
	return time.Date(d.Year, d.Month, d.Day, lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), London)
}
