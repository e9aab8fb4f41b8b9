package courses

import (
	"regexp"
	"strings"
	"unicode"
)

var (
	headingRE  = regexp.MustCompile(`^#{1,6}\s+`)
	listRE     = regexp.MustCompile(`^([-*+]|\d+\.)\s+`)
	quoteRE    = regexp.MustCompile(`^>\s*`)
	mdLinkRE   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	emphasisRE = regexp.MustCompile("[*_`]")
	wordRE     = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9'’\-]*`)
	stopRE     = regexp.MustCompile(`[.!?]+(\s|$)`)
	endStopRE  = regexp.MustCompile(`[.!?][)"”’]?$`)
	vowelsRE   = regexp.MustCompile(`[aeiouy]+`)
)

// Readability returns the number of words in the Markdown prose and its
// Flesch reading ease (206.835 − 1.015 × words/sentences − 84.6 ×
// syllables/words). Headings, list items and lines without a full stop end
// a sentence; tables, code and HTML lines are skipped.
func Readability(md string) (words int, ease float64) {
	var sentences, syllables int
	for _, line := range strings.Split(md, "\n") {
		s := strings.TrimSpace(line)
		if s == "" || strings.HasPrefix(s, "```") || strings.HasPrefix(s, "|") || strings.HasPrefix(s, "<") {
			continue
		}
		s = headingRE.ReplaceAllString(s, "")
		s = listRE.ReplaceAllString(s, "")
		s = quoteRE.ReplaceAllString(s, "")
		s = mdLinkRE.ReplaceAllString(s, "$1")
		s = emphasisRE.ReplaceAllString(s, "")
		ws := wordRE.FindAllString(s, -1)
		if len(ws) == 0 {
			continue
		}
		words += len(ws)
		for _, w := range ws {
			syllables += syllableCount(w)
		}
		n := len(stopRE.FindAllString(s, -1))
		if !endStopRE.MatchString(s) {
			n++
		}
		sentences += max(n, 1)
	}
	if words == 0 {
		return 0, 0
	}
	ease = 206.835 - 1.015*(float64(words)/float64(sentences)) - 84.6*(float64(syllables)/float64(words))
	return words, ease
}

// syllableCount estimates syllables: vowel groups, less a silent final e.
func syllableCount(word string) int {
	w := strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, word)
	if w == "" {
		return 0
	}
	n := len(vowelsRE.FindAllString(w, -1))
	if strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "le") && n > 1 {
		n--
	}
	return max(n, 1)
}
