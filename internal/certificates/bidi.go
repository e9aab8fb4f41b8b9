package certificates

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/bidi"
)

// gofpdf writes text left to right, one glyph per character. A name in a
// right-to-left script (Hebrew, Arabic, Persian, Urdu) is therefore put
// into visual order first, with Arabic letters in the joined forms they
// take at the start, middle and end of a word (the font's presentation
// forms), so "محمد" prints as one connected word read from the right.

// visual returns s as drawn from left to right: Arabic letters joined, and
// right-to-left runs reversed by a one-line version of the Unicode
// bidirectional algorithm (enough for names: no embeddings or brackets).
// Text without right-to-left letters is returned as it is.
// Visual is visual for other documents that print names (the live
// training sign-in sheet).
func Visual(s string) string { return visual(s) }

func visual(s string) string {
	if !hasRTL(s) {
		return s
	}
	s = shapeArabic(s)
	// Characters with the marks that follow them, and each one's class.
	var clusters []string
	var classes []bidi.Class
	for _, r := range s {
		p, _ := bidi.LookupRune(r)
		c := p.Class()
		if len(clusters) > 0 && (c == bidi.NSM || unicode.In(r, unicode.Mn, unicode.Me)) {
			clusters[len(clusters)-1] += string(r)
			continue
		}
		clusters, classes = append(clusters, string(r)), append(classes, c)
	}
	// The paragraph takes the direction of its first strong character.
	rtl := func(c bidi.Class) bool { return c == bidi.R || c == bidi.AL }
	strong := func(c bidi.Class) bool { return c == bidi.L || rtl(c) }
	base := 0
	for _, c := range classes {
		if strong(c) {
			if rtl(c) {
				base = 1
			}
			break
		}
	}
	// Levels: right-to-left letters odd, left-to-right letters and digits
	// even; a neutral between two characters of one direction takes it, any
	// other takes the paragraph's.
	strongDir := make([]int, len(classes)) // 0 left to right, 1 right to left, -1 neutral
	for i, c := range classes {
		switch {
		case rtl(c):
			strongDir[i] = 1
		case c == bidi.L || c == bidi.EN || c == bidi.AN:
			strongDir[i] = 0
		default:
			strongDir[i] = -1
		}
	}
	nearest := func(i, step int) int {
		for j := i + step; j >= 0 && j < len(strongDir); j += step {
			if strongDir[j] >= 0 {
				return strongDir[j]
			}
		}
		return base
	}
	dir := slices.Clone(strongDir)
	for i, d := range strongDir {
		if d < 0 {
			if before := nearest(i, -1); before == nearest(i, 1) {
				dir[i] = before
			} else {
				dir[i] = base
			}
		}
	}
	levels := make([]int, len(dir))
	for i, d := range dir {
		switch {
		case d == 1:
			levels[i] = 1
		case base == 1:
			levels[i] = 2
		}
	}
	// Reverse every run at or above each level, from the highest down to 1.
	for lvl := 2; lvl >= 1; lvl-- {
		for i := 0; i < len(levels); {
			if levels[i] < lvl {
				i++
				continue
			}
			j := i
			for j < len(levels) && levels[j] >= lvl {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				clusters[a], clusters[b] = clusters[b], clusters[a]
				levels[a], levels[b] = levels[b], levels[a]
			}
			i = j
		}
	}
	return strings.Join(clusters, "")
}

func hasRTL(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana) {
			return true
		}
	}
	return false
}

const (
	joinNone  = iota // does not join (and is not Arabic)
	joinRight        // joins the letter before it only (alef, dal, reh, waw...)
	joinDual         // joins on both sides
)

func joining(r rune) int {
	if r == 0x0640 { // tatweel, the joining stroke
		return joinDual
	}
	f, ok := arabicForms[r]
	switch {
	case !ok:
		return joinNone
	case f[2] != 0 && f[3] != 0:
		return joinDual
	case f[1] != 0:
		return joinRight
	}
	return joinNone
}

// shapeArabic replaces each Arabic letter by its isolated, final, initial
// or medial form, and lam followed by alef by their ligature. Combining
// marks (vowel signs) are skipped over when deciding how letters join.
func shapeArabic(s string) string {
	rs := []rune(s)
	mark := func(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Me) }
	neighbour := func(i, step int) rune {
		for j := i + step; j >= 0 && j < len(rs); j += step {
			if !mark(rs[j]) {
				return rs[j]
			}
		}
		return 0
	}
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		t := joining(r)
		if t == joinNone || r == 0x0640 {
			out = append(out, r)
			continue
		}
		prevJoins := joining(neighbour(i, -1)) == joinDual
		if r == 0x0644 && i+1 < len(rs) {
			if lig, ok := lamAlef[rs[i+1]]; ok {
				if prevJoins {
					out = append(out, lig[1])
				} else {
					out = append(out, lig[0])
				}
				i++
				continue
			}
		}
		nextJoins := t == joinDual && joining(neighbour(i, 1)) != joinNone
		f := arabicForms[r]
		form := f[0]
		switch {
		case prevJoins && nextJoins:
			form = f[3]
		case prevJoins:
			form = f[1]
		case nextJoins:
			form = f[2]
		}
		if form == 0 {
			form = r
		}
		out = append(out, form)
	}
	return string(out)
}
