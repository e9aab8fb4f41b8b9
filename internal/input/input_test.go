package input

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var hours = Range{Min: 0, Max: 100, MinExclusive: true, Places: 2}

func TestNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		p    Problem
	}{
		{"1.5", 1.5, OK},
		{" 2 ", 2, OK},
		{".25", 0.25, OK},
		{"100", 100, OK},
		{"+3", 3, OK},
		{"1.50", 1.5, OK},
		{"", 0, Empty},
		{"   ", 0, Empty},
		{"0", 0, TooLow},
		{"-1", -1, TooLow},
		{"100.01", 100.01, TooHigh},
		{"1.255", 1.255, TooPrecise},
		{"NaN", 0, Malformed},
		{"nan", 0, Malformed},
		{"Inf", 0, Malformed},
		{"-Inf", 0, Malformed},
		{"+Infinity", 0, Malformed},
		{"1e2", 0, Malformed},
		{"0x1p3", 0, Malformed},
		{"1_000", 0, Malformed},
		{"1,5", 0, Malformed},
		{"1 5", 0, Malformed},
		{"1..5", 0, Malformed},
		{".", 0, Malformed},
		{"-", 0, Malformed},
		{"١٢", 0, Malformed}, // Arabic-Indic digits
		{"\xff1", 0, Malformed},
		{strings.Repeat("9", 400), 0, Malformed},
		{"9999999999999999999999999999999", 1e31, TooHigh},
		{"-9999999999999999999999999999999", -1e31, TooLow},
	}
	if v, p := Number("-0", Range{Max: 1}); p != OK || math.Signbit(v) {
		t.Errorf(`Number("-0") = %v, %v; want 0, OK`, v, p)
	}
	for _, tt := range tests {
		got, p := Number(tt.in, hours)
		if p != tt.p || (p != Malformed && p != Empty && got != tt.want) {
			t.Errorf("Number(%q) = %v, %v; want %v, %v", tt.in, got, p, tt.want, tt.p)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		p    Problem
	}{
		{"3", 3, OK},
		{"1.0", 1, OK},
		{"1.5", 0, Malformed},
		{"0", 0, TooLow},
		{"11", 0, TooHigh},
		{"99999999999999999999999", 0, TooHigh},
		{"NaN", 0, Malformed},
		{"", 0, Empty},
	}
	for _, tt := range tests {
		if got, p := Int(tt.in, 1, 10); got != tt.want || p != tt.p {
			t.Errorf("Int(%q) = %v, %v; want %v, %v", tt.in, got, p, tt.want, tt.p)
		}
	}
}

func TestDate(t *testing.T) {
	lo, hi := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in string
		p  Problem
	}{
		{"2026-02-28", OK},
		{" 2026-11-22 ", OK},
		{"1990-01-01", OK},
		{"", Empty},
		{"2026-02-30", Malformed},
		{"2026-13-01", Malformed},
		{"99999-01-01", Malformed},
		{"2026-2-3", Malformed},
		{"2026/02/03", Malformed},
		{"+2026-02-03", Malformed},
		{"2026-02-03T00:00:00Z", Malformed},
		{"２０２６-02-03", Malformed},
		{"\xff\xfe26-02-03", Malformed},
		{"0000-01-01", TooLow},
		{"1899-12-31", TooLow},
		{"2026-11-23", TooHigh},
		{"9999-12-31", TooHigh},
	}
	for _, tt := range tests {
		if _, p := Date(tt.in, time.UTC, lo, hi); p != tt.p {
			t.Errorf("Date(%q) = %v; want %v", tt.in, p, tt.p)
		}
	}
	if _, p := Date("9999-12-31", time.UTC, time.Time{}, time.Time{}); p != OK {
		t.Errorf("unbounded: got %v, want OK", p)
	}
}

// FuzzNumber: whatever is typed, an accepted number is finite, in range and
// no more precise than allowed.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"1.5", "NaN", "-Inf", "1e400", "", " 7 ", "0.001", "\xff", "1_0", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, p := Number(s, hours)
		if p == OK && (math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > 100 || math.Abs(v*100-math.Round(v*100)) > 1e-6) {
			t.Fatalf("Number(%q) accepted %v", s, v)
		}
	})
}

// FuzzDate: an accepted date is a real day in the window and reads back as
// what was typed.
func FuzzDate(f *testing.F) {
	for _, s := range []string{"2026-02-28", "2026-02-30", "99999-01-01", "", "0000-00-00", "\xff"} {
		f.Add(s)
	}
	lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, p := Date(s, time.UTC, lo, hi)
		if p != OK {
			return
		}
		if d.Before(lo) || d.After(hi) || !utf8.ValidString(s) || d.Format(DateLayout) != strings.TrimSpace(s) {
			t.Fatalf("Date(%q) accepted %v", s, d)
		}
	})
}
