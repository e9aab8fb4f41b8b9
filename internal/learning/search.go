package learning

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/family-advocacy/lms/courses"
)

// Searching the catalogue. The catalogue is small and fixed at start-up
// (a few courses of a few lessons each), so its words are indexed in
// memory once, when the catalogue is loaded: a search reads no database.
//
// A search is a few words; case and accents do not matter, and each word
// matches the words of the text that start with it ("proceed" finds
// "proceedings"). A course is found when every word is somewhere in it:
// its title, its summary or the text of a lesson (the lesson's title,
// objectives and body). Courses are ranked by where the words are: a word
// in the title counts for more than one in the summary, which counts for
// more than one only in a lesson. A word found only in lessons names the
// lessons it is in, each with a short passage around it.

// Ranks of the places a word is found.
const (
	rankTitle   = 100
	rankSummary = 10
	rankLesson  = 1
)

// Bounds of a search.
const (
	maxSearchWords  = 10  // words of a search looked at
	maxSearchRunes  = 200 // characters of a search looked at
	maxLessonHits   = 3   // lessons named per course
	snippetBefore   = 60  // bytes of context before the first match
	snippetAfter    = 160 // bytes of context from the first match on
	snippetEllipsis = "…"
)

// SearchHit is a course a search found.
type SearchHit struct {
	Course *courses.Course
	Score  int // higher ranks first
	// Lessons are the lessons holding the words that the title and
	// summary do not, best first (empty when those two hold every word).
	Lessons []LessonHit
}

// LessonHit is a lesson a search found, with a passage around the first
// word found.
type LessonHit struct {
	Lesson  *courses.Lesson
	Number  int // 1-based, as the course page numbers lessons
	Snippet []SnippetPart
}

// SnippetPart is a piece of a passage: the words the search found are
// parts of their own, marked.
type SnippetPart struct {
	Text  string
	Match bool
}

// searchIndex holds the words of every course, built once.
type searchIndex struct {
	docs []courseDoc
}

type courseDoc struct {
	course         *courses.Course
	title, summary wordSet
	lessons        []lessonDoc
}

type lessonDoc struct {
	lesson *courses.Lesson
	number int
	text   string // plain text: title, objectives, body
	body   int    // where the body starts in text
	spans  []span // its words, in order
	words  wordSet
}

// span is a word of a text: its bytes [start, end) and its folded form.
type span struct {
	start, end int
	folded     string
}

// wordSet is a sorted set of folded words.
type wordSet []string

// has reports whether a word of the set starts with q.
func (w wordSet) has(q string) bool {
	i, _ := slices.BinarySearch(w, q)
	return i < len(w) && strings.HasPrefix(w[i], q)
}

func newWordSet(spans []span) wordSet {
	out := make(wordSet, 0, len(spans))
	for _, s := range spans {
		out = append(out, s.folded)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// newSearchIndex indexes the words of a catalogue.
func newSearchIndex(cs []*courses.Course) *searchIndex {
	ix := &searchIndex{}
	for _, c := range cs {
		d := courseDoc{course: c, title: newWordSet(words(c.Title)), summary: newWordSet(words(c.Summary))}
		for i := range c.Lessons {
			l := &c.Lessons[i]
			text, body := lessonText(l)
			sp := words(text)
			d.lessons = append(d.lessons, lessonDoc{lesson: l, number: i + 1, text: text, body: body, spans: sp, words: newWordSet(sp)})
		}
		ix.docs = append(ix.docs, d)
	}
	return ix
}

// Search returns the courses holding every word of q, best first (courses
// that rank the same keep the catalogue's order); nil when q has no words.
func (c *Catalogue) Search(q string) []SearchHit {
	if c.index == nil { // a Catalogue not made by NewCatalogue
		return newSearchIndex(c.list).search(q)
	}
	return c.index.search(q)
}

// SearchWords returns the words a search looks for: folded, without
// repeats or one-letter words (the "s" of "Clare's"), at most ten.
func SearchWords(q string) []string {
	if r := []rune(q); len(r) > maxSearchRunes {
		q = string(r[:maxSearchRunes])
	}
	var out []string
	for _, s := range words(q) {
		w := s.folded
		if len([]rune(w)) < 2 && !unicode.IsDigit([]rune(w)[0]) || slices.Contains(out, w) {
			continue
		}
		out = append(out, w)
		if len(out) == maxSearchWords {
			break
		}
	}
	return out
}

func (ix *searchIndex) search(q string) []SearchHit {
	qs := SearchWords(q)
	if len(qs) == 0 {
		return nil
	}
	var hits []SearchHit
	for _, d := range ix.docs {
		score := 0
		var rest []string // words in no title or summary
		found := true
		for _, w := range qs {
			switch {
			case d.title.has(w):
				score += rankTitle
			case d.summary.has(w):
				score += rankSummary
			case slices.ContainsFunc(d.lessons, func(l lessonDoc) bool { return l.words.has(w) }):
				score += rankLesson
				rest = append(rest, w)
			default:
				found = false
			}
			if !found {
				break
			}
		}
		if found {
			hits = append(hits, SearchHit{Course: d.course, Score: score, Lessons: d.lessonHits(rest, qs)})
		}
	}
	slices.SortStableFunc(hits, func(a, b SearchHit) int { return b.Score - a.Score })
	return hits
}

// lessonHits names the lessons that hold the words rest: the lesson with
// most of them first, then the one with most of those left, and so on. Each
// passage marks every word of the search (all).
func (d courseDoc) lessonHits(rest, all []string) []LessonHit {
	var out []LessonHit
	left := slices.Clone(rest)
	used := map[int]bool{}
	for len(left) > 0 && len(out) < maxLessonHits {
		best, bestN := -1, 0
		for i, l := range d.lessons {
			if used[i] {
				continue
			}
			n := 0
			for _, w := range left {
				if l.words.has(w) {
					n++
				}
			}
			if n > bestN {
				best, bestN = i, n
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		l := d.lessons[best]
		var first string
		left = slices.DeleteFunc(left, func(w string) bool {
			if l.words.has(w) {
				if first == "" {
					first = w
				}
				return true
			}
			return false
		})
		out = append(out, LessonHit{Lesson: l.lesson, Number: l.number, Snippet: l.snippet(first, all)})
	}
	return out
}

// snippet returns the passage of the lesson around the first word that
// starts with at, with every word starting with one of all marked: the
// first in the body, or else in the title or objectives (which the page
// shows already, as the lesson's name).
func (l lessonDoc) snippet(at string, all []string) []SnippetPart {
	match := func(s span) bool { return strings.HasPrefix(s.folded, at) }
	i := slices.IndexFunc(l.spans, func(s span) bool { return s.start >= l.body && match(s) })
	if i < 0 {
		i = slices.IndexFunc(l.spans, match)
	}
	if i < 0 {
		return nil
	}
	// The window: whole words from about snippetBefore bytes before the
	// word to about snippetAfter after its start.
	lo, hi := i, i
	inBody := l.spans[i].start >= l.body
	for lo > 0 && l.spans[i].start-l.spans[lo-1].start <= snippetBefore && (!inBody || l.spans[lo-1].start >= l.body) {
		lo--
	}
	for hi+1 < len(l.spans) && l.spans[hi+1].end-l.spans[i].start <= snippetAfter {
		hi++
	}
	start, end := l.spans[lo].start, l.spans[hi].end
	// Keep the punctuation that closes the last word (a full stop, a bracket).
	for end < len(l.text) && l.text[end] != ' ' && end-l.spans[hi].end < 2 {
		end++
	}
	var parts []SnippetPart
	add := func(text string, match bool) {
		if text == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Match == match {
			parts[n-1].Text += text
			return
		}
		parts = append(parts, SnippetPart{Text: text, Match: match})
	}
	if lo > 0 && start != l.body { // the passage starts in mid-text
		add(snippetEllipsis, false)
	}
	pos := start
	for _, s := range l.spans[lo : hi+1] {
		if !slices.ContainsFunc(all, func(w string) bool { return strings.HasPrefix(s.folded, w) }) {
			continue
		}
		add(l.text[pos:s.start], false)
		add(l.text[s.start:s.end], true)
		pos = s.end
	}
	add(l.text[pos:end], false)
	if end < len(l.text) {
		add(snippetEllipsis, false)
	}
	return parts
}

// Markdown that a plain passage leaves out: comments, link targets,
// emphasis and heading, list, quote and table markers.
var (
	mdComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	mdImage   = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink    = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdLine    = regexp.MustCompile(`(?m)^\s*(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+|\|?\s*:?-{3,}.*$)`)
	mdMarks   = strings.NewReplacer("**", "", "__", "", "*", "", "`", "", "|", " ")
)

// lessonText returns a lesson's title, objectives and body as plain text
// on one line, each of the first two ending with a full stop, and where
// the body starts in it.
func lessonText(l *courses.Lesson) (string, int) {
	body := mdComment.ReplaceAllString(l.Body, " ")
	body = mdImage.ReplaceAllString(body, "$1")
	body = mdLink.ReplaceAllString(body, "$1")
	body = mdLine.ReplaceAllString(body, "")
	body = mdMarks.Replace(body)
	var head []string
	for _, s := range append([]string{l.Title}, l.Objectives...) {
		if s = strings.Join(strings.Fields(s), " "); s == "" {
			continue
		}
		if !strings.ContainsRune(".?!:", rune(s[len(s)-1])) {
			s += "."
		}
		head = append(head, s)
	}
	h := strings.Join(head, " ")
	if h != "" {
		h += " "
	}
	return h + strings.Join(strings.Fields(body), " "), len(h)
}

// words splits text into words (runs of letters and digits), each with its
// folded form: lower case, without accents.
func words(text string) []span {
	var out []span
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, span{start: start, end: end, folded: fold(text[start:end])})
			start = -1
		}
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

// fold lower-cases a word and takes its accents off.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
