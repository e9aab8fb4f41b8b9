package pdftext

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// TestWrap: at most 10 characters a line (a character is one unit wide):
// words move to the next line, paragraphs start a new one, and a word
// longer than a line is broken inside.
func TestWrap(t *testing.T) {
	fits := func(s string) bool { return utf8.RuneCountInString(s) <= 10 }
	got := Wrap("care proceedings begin\nŁukasiewiczówna x", fits)
	want := []string{"care", "proceeding", "s begin", "Łukasiewic", "zówna x"}
	if !slices.Equal(got, want) {
		t.Fatalf("Wrap = %q, want %q", got, want)
	}
}
