// Package input reads numbers and dates as people type them into forms.
//
// Every reader is strict: a number is plain decimal digits (never NaN, an
// infinity, hex or an exponent), a date is a real YYYY-MM-DD day, and each
// must fall in the range the field allows. A reader says what is wrong as a
// Problem; the caller turns it into a message beside the field.
package input

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Problem says what is wrong with a typed value.
type Problem int

const (
	OK         Problem = iota // the value is usable
	Empty                     // nothing was typed
	Malformed                 // not a number, or not a real date
	TooLow                    // below the range (for a date: too early)
	TooHigh                   // above the range (for a date: too late)
	TooPrecise                // more decimal places than the field keeps
)

// maxLen bounds what is worth parsing: longer input is Malformed.
const maxLen = 32

// Range is what a number field accepts: Min to Max, Min itself only when
// MinExclusive is false, with at most Places decimal places.
type Range struct {
	Min, Max     float64
	MinExclusive bool
	Places       int
}

// Number reads a decimal number such as "1.5", "-2" or ".25" (spaces around
// it are ignored) and checks it against r. The result is always finite.
func Number(s string, r Range) (float64, Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Empty
	}
	if len(s) > maxLen || !decimal(s) {
		return 0, Malformed
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		if strings.HasPrefix(s, "-") {
			return 0, TooLow
		}
		return 0, TooHigh
	}
	if v == 0 {
		v = 0 // "-0" is plain 0
	}
	switch {
	case v < r.Min || (r.MinExclusive && v == r.Min):
		return v, TooLow
	case v > r.Max:
		return v, TooHigh
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(strings.TrimRight(s[i+1:], "0")) > r.Places {
		return v, TooPrecise
	}
	return v, OK
}

// decimal reports whether s is an optional sign, then digits with at most
// one decimal point, with at least one digit.
func decimal(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// Int reads a whole number (spaces around it are ignored) in [lo, hi].
func Int(s string, lo, hi int) (int, Problem) {
	v, p := Number(s, Range{Min: float64(lo), Max: float64(hi)})
	switch {
	case p == TooPrecise:
		return 0, Malformed // "1.5" is not a whole number
	case p != OK:
		return 0, p
	}
	return int(v), OK
}

// DateLayout is how dates are typed (the HTML date input's value).
const DateLayout = "2006-01-02"

// Date reads a date typed as YYYY-MM-DD (spaces around it are ignored) as
// midnight in loc, and checks it falls between earliest and latest; a zero
// bound is no bound. A day that does not exist (30 February) is Malformed.
func Date(s string, loc *time.Location, earliest, latest time.Time) (time.Time, Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, Empty
	}
	if len(s) != len(DateLayout) || strings.Trim(s[0:4]+s[5:7]+s[8:10], "0123456789") != "" || s[4] != '-' || s[7] != '-' {
		return time.Time{}, Malformed
	}
	t, err := time.ParseInLocation(DateLayout, s, loc)
	if err != nil {
		return time.Time{}, Malformed
	}
	switch {
	case !earliest.IsZero() && t.Before(earliest):
		return t, TooLow
	case !latest.IsZero() && t.After(latest):
		return t, TooHigh
	}
	return t, OK
}

// DateMessage says what is wrong with a date field, for the message beside
// it: label names the field ("Issue date"); pastOnly says the field is about
// the past, so a date after latest is in the future. OK and Empty need no
// message.
func DateMessage(label string, p Problem, pastOnly bool) string {
	switch p {
	case OK, Empty:
		return ""
	case TooLow:
		return label + " is too far in the past"
	case TooHigh:
		if pastOnly {
			return label + " cannot be in the future"
		}
		return label + " is too far in the future"
	}
	return label + " must be a real date, like 2026-03-27"
}
