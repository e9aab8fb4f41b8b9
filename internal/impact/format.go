package impact

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// The words shown instead of a figure.
const (
	hiddenWords = "fewer than 5 responses"
	noneWords   = "no responses"
)

// words is what a figure says when it shows no number.
func words(f Figure) (string, bool) {
	switch {
	case f.Hidden:
		return hiddenWords, true
	case f.N == 0:
		return noneWords, true
	}
	return "", false
}

// halfUp rounds to places decimals, halves away from zero. The nudge
// makes a mean such as 83/20, stored a hair below 4.15, round up too;
// real figures are never that close to a half.
func halfUp(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Copysign(math.Floor(math.Abs(v)*p+0.5+1e-9)/p, v)
}

// Percent is a share as "87%", rounded half up to a whole number, or
// "fewer than 5 responses" when hidden, or "no responses" when nobody
// answered.
func Percent(f Figure) string {
	if w, ok := words(f); ok {
		return w
	}
	return strconv.Itoa(int(halfUp(f.Value, 0))) + "%"
}

// Mean is a mean to one decimal, "4.1", or the same words as Percent.
func Mean(f Figure) string {
	if w, ok := words(f); ok {
		return w
	}
	return fmt.Sprintf("%.1f", halfUp(f.Value, 1))
}

// Signed is a change to one decimal with its sign, "+1.7", "-0.3" or
// "0.0", or the same words as Percent.
func Signed(f Figure) string {
	if w, ok := words(f); ok {
		return w
	}
	v := halfUp(f.Value, 1)
	if v == 0 {
		return "0.0"
	}
	return fmt.Sprintf("%+.1f", v)
}

// People is a count of people: "23", "0", or "fewer than 5" when hidden.
func People(c Count) string {
	if c.Hidden {
		return "fewer than 5"
	}
	return strconv.Itoa(c.N)
}

// ofN is a share with what it is out of: "87% (of 23)".
func ofN(f Figure) string {
	if !f.Shown() {
		return Percent(f)
	}
	return fmt.Sprintf("%s (of %d)", Percent(f), f.Of)
}

// monthLabel is a YYYY-MM month in a layout ("Jan 2006"); a month that
// does not parse is left as it is.
func monthLabel(m, layout string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format(layout)
}

// period is a report's months in words: "January 2027 to June 2027".
func period(from, to string) string {
	f, t := monthLabel(from, "January 2006"), monthLabel(to, "January 2006")
	if f == t {
		return f
	}
	return f + " to " + t
}
