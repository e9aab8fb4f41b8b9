package civil

import "time"

// Working days in England and Wales, for deadlines that move to the next
// working day when they fall on a weekend or a bank holiday (a data-rights
// request's month, for one).

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// IsBankHoliday reports whether d is a bank holiday in England and Wales
// by the standing rules (Banking and Financial Dealings Act 1971 and the
// usual proclamations): New Year's Day, Good Friday, Easter Monday, the
// first and last Mondays of May, the last Monday of August, Christmas Day
// and Boxing Day, a holiday falling at a weekend moving to the next
// weekday not already a holiday. One-off holidays proclaimed for a single
// year (a coronation, a state funeral) and the years a May holiday was
// moved for a jubilee or an anniversary (1995, 2002, 2012, 2020, 2022) are
// not known here: a deadline on such a day comes a day early, never late.
func IsBankHoliday(d Date) bool {
	for _, h := range BankHolidays(d.Year) {
		if h == d {
			return true
		}
	}
	return false
}

// BankHolidays returns the year's bank holidays in England and Wales, in
// order (see IsBankHoliday).
func BankHolidays(year int) []Date {
	easter := easterSunday(year)
	out := []Date{substitute(New(year, time.January, 1), nil), easter.AddDays(-2), easter.AddDays(1),
		nthMonday(year, time.May, 1), lastMonday(year, time.May), lastMonday(year, time.August)}
	christmas := substitute(New(year, time.December, 25), nil)
	boxing := substitute(New(year, time.December, 26), []Date{christmas})
	return append(out, christmas, boxing)
}

// NextWorkingDay returns d when it is a working day (Monday to Friday, not
// a bank holiday), or the first working day after it.
func (d Date) NextWorkingDay() Date {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || IsBankHoliday(d) {
		d = d.AddDays(1)
	}
	return d
}

// substitute moves a holiday at a weekend to the next weekday that is not
// one of taken.
func substitute(d Date, taken []Date) Date {
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || contains(taken, d) {
		d = d.AddDays(1)
	}
	return d
}

func contains(ds []Date, d Date) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func nthMonday(year int, m time.Month, n int) Date {
	d := New(year, m, 1)
	for d.Weekday() != time.Monday {
		d = d.AddDays(1)
	}
	return d.AddDays(7 * (n - 1))
}

func lastMonday(year int, m time.Month) Date {
	d := New(year, m, DaysIn(year, m))
	for d.Weekday() != time.Monday {
		d = d.AddDays(-1)
	}
	return d
}

// easterSunday is Easter Day in the Gregorian calendar (the anonymous
// Gregorian algorithm, "Meeus/Jones/Butcher").
func easterSunday(y int) Date {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return New(y, time.Month(month), day)
}
