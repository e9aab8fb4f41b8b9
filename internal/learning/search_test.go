package learning

import (
	"slices"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/courses"
)

// searchCatalogue is three small courses whose words fall in known places.
func searchCatalogue() *Catalogue {
	return NewCatalogue([]*courses.Course{
		{Slug: "court", Title: "Going to the family court", Summary: "Hearings, orders and what a parent can expect.",
			Lessons: []courses.Lesson{
				{Name: "01-hearings", Title: "Hearings", Body: "## Case scenario\n\nJo has a **first hearing** next week. The judge reads the [statement](https://example.org).\n"},
				{Name: "02-orders", Title: "Orders", Body: "A care order gives the council parental responsibility. Fact-finding comes first."},
			}},
		{Slug: "meetings", Title: "Child protection conferences", Summary: "How a conference works, and the court's part when it goes further.",
			Lessons: []courses.Lesson{
				{Name: "01-before", Title: "Before the conference", Body: "Read the report with the parent. Ask for it two days before."},
				{Name: "02-during", Title: "During the conference", Body: strings.Repeat("Words to pad the lesson out. ", 12) + "The chair asks everyone for their view on the plan: this is when a parent's voice matters. " + strings.Repeat("More words after it. ", 12)},
			}},
		{Slug: "records", Title: "A parent's records", Summary: "Asking to see what is written down.",
			Lessons: []courses.Lesson{
				{Name: "01-access", Title: "Subject access", Body: "A subject access request is free. Café notes count too."},
			}},
	})
}

func slugs(hits []SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Course.Slug)
	}
	return out
}

func snippetText(parts []SnippetPart) (text string, marked []string) {
	for _, p := range parts {
		text += p.Text
		if p.Match {
			marked = append(marked, p.Text)
		}
	}
	return text, marked
}

func TestSearchFindsWordsAndRanksTitleSummaryLesson(t *testing.T) {
	cat := searchCatalogue()
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"court", []string{"court", "meetings"}},               // title, then summary
		{"COURT", []string{"court", "meetings"}},               // case does not matter
		{"conference chair", []string{"meetings"}},             // every word must match
		{"care order", []string{"court"}},                      // both in one lesson
		{"cafe", []string{"records"}},                          // accents do not matter
		{"proceedings", nil},                                   // nowhere
		{"conference zebra", nil},                              // one word missing
		{"   ", nil},                                           // no words
		{"parent's", []string{"records", "court", "meetings"}}, // "s" is ignored; title, summary, summary
		{"hear", []string{"court"}},                            // a word matches words it starts
	} {
		if got := slugs(cat.Search(tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q): got %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestSearchNamesTheLessonWithAPassage(t *testing.T) {
	cat := searchCatalogue()
	t.Run("AWordOnlyInALesson", func(t *testing.T) {
		hits := cat.Search("chair")
		if len(hits) != 1 || len(hits[0].Lessons) != 1 {
			t.Fatalf("got %+v, want one course naming one lesson", hits)
		}
		l := hits[0].Lessons[0]
		if l.Lesson.Name != "02-during" || l.Number != 2 {
			t.Fatalf("lesson %s (%d), want 02-during (2)", l.Lesson.Name, l.Number)
		}
		text, marked := snippetText(l.Snippet)
		if !slices.Equal(marked, []string{"chair"}) || !strings.Contains(text, "The chair asks everyone") {
			t.Errorf("passage %q marks %v", text, marked)
		}
		if !strings.HasPrefix(text, "…") || !strings.HasSuffix(text, "…") || len(text) > 260 {
			t.Errorf("passage %q (%d bytes): want a short extract with … at both ends", text, len(text))
		}
	})
	t.Run("MarkdownIsNotShown", func(t *testing.T) {
		hits := cat.Search("statement")
		text, _ := snippetText(hits[0].Lessons[0].Snippet)
		for _, bad := range []string{"**", "##", "](", "https://"} {
			if strings.Contains(text, bad) {
				t.Errorf("passage %q shows Markdown %q", text, bad)
			}
		}
		if !strings.Contains(text, "first hearing") {
			t.Errorf("passage %q lacks the text", text)
		}
	})
	t.Run("ThePassageIsFromTheBodyWhenItHasTheWord", func(t *testing.T) {
		hits := cat.Search("before")
		if len(hits) != 1 || len(hits[0].Lessons) != 1 {
			t.Fatalf("got %+v", hits)
		}
		text, marked := snippetText(hits[0].Lessons[0].Snippet)
		if text != "Read the report with the parent. Ask for it two days before." || !slices.Equal(marked, []string{"before"}) {
			t.Errorf("passage %q marks %v; want the body's sentence, not the lesson's title", text, marked)
		}
	})
	t.Run("WordsInTheTitleNameNoLesson", func(t *testing.T) {
		if hits := cat.Search("family court"); len(hits) != 1 || len(hits[0].Lessons) != 0 {
			t.Fatalf("got %+v, want the course and no lesson", hits)
		}
	})
	t.Run("WordsInTwoLessonsNameBoth", func(t *testing.T) {
		hits := cat.Search("report chair")
		if len(hits) != 1 || len(hits[0].Lessons) != 2 || hits[0].Lessons[0].Lesson.Name != "01-before" || hits[0].Lessons[1].Lesson.Name != "02-during" {
			t.Fatalf("got %+v, want both lessons, in order", hits)
		}
	})
}

func TestSearchWords(t *testing.T) {
	if got := SearchWords("  Section 47, s.47 and Clare's  LAW law "); !slices.Equal(got, []string{"section", "47", "and", "clare", "law"}) {
		t.Errorf("got %v", got)
	}
	if got := SearchWords(strings.Repeat("word ", 50)); len(got) != 1 {
		t.Errorf("repeats: got %v", got)
	}
}
