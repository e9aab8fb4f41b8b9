package courses

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// sampleFS returns the sample course as an in-memory file system rooted at
// "c/sample-course", with edits applied: file name → function of its text
// (return "" to delete the file).
func sampleFS(t testing.TB, edits map[string]func(string) string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("testdata/sample-course"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile("testdata/sample-course/" + p)
		if err != nil {
			return err
		}
		m["c/sample-course/"+p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range edits {
		key := "c/sample-course/" + name
		old := ""
		if f, ok := m[key]; ok {
			old = string(f.Data)
		}
		if s := edit(old); s == "" {
			delete(m, key)
		} else {
			m[key] = &fstest.MapFile{Data: []byte(s)}
		}
	}
	return m
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func TestSampleCourseIsValid(t *testing.T) {
	c, probs := Load(sampleFS(t, nil), "c/sample-course")
	if errs := Errors(probs); len(errs) > 0 {
		t.Fatalf("sample course has errors: %v", errs)
	}
	if c.Slug != "sample-course" || len(c.Lessons) != 3 || len(c.Assessment.Questions) != 6 || c.Version != "2026-11-01" {
		t.Fatalf("parsed: slug %q, %d lessons, %d questions, version %q", c.Slug, len(c.Lessons), len(c.Assessment.Questions), c.Version)
	}
	if c.Lessons[0].Title != "First steps" || c.Lessons[0].Minutes != 10 || c.Lessons[0].BodyLine != 8 {
		t.Fatalf("lesson 1: %+v", c.Lessons[0])
	}
	// Short lessons are warned about, not refused.
	warned := false
	for _, p := range probs {
		if p.Warning && strings.Contains(p.Message, "words") {
			warned = true
		}
	}
	if !warned {
		t.Fatal("no word-count warning for the short sample lessons")
	}
}

func TestValidatorFindsEachProblemWithFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]func(string) string
		file  string
		line  int
		want  string
	}{
		{"DuplicateQuestionID", map[string]func(string) string{"assessment.yaml": replace("id: s2", "id: s1")}, "assessment.yaml", 16, "duplicate id (first used on line 6)"},
		{"NoCorrectOption", map[string]func(string) string{"assessment.yaml": replace("      - text: Read the letter with Jo\n        correct: true", "      - text: Read the letter with Jo")}, "assessment.yaml", 6, "question s1: no correct option"},
		{"SingleWithTwoCorrect", map[string]func(string) string{"assessment.yaml": replace("      - text: Phone the social worker", "      - text: Phone the social worker\n        correct: true")}, "assessment.yaml", 6, "single-choice question with 2 correct options"},
		{"QuestionsPerAttemptAboveBank", map[string]func(string) string{"assessment.yaml": replace("questions_per_attempt: 4", "questions_per_attempt: 7")}, "assessment.yaml", 1, "questions_per_attempt (7) is more than the 6 questions"},
		{"GapInLessonNumbering", map[string]func(string) string{
			"02-second-steps.md": func(string) string { return "" },
			"04-second-steps.md": func(string) string {
				b, _ := os.ReadFile("testdata/sample-course/02-second-steps.md")
				return string(b)
			},
			"assessment.yaml":   func(s string) string { return strings.ReplaceAll(s, "02-second-steps", "04-second-steps") },
			"01-first-steps.md": replace("02-second-steps.md", "04-second-steps.md"),
		}, "03-last-steps.md", 1, "expected 02 here"},
		{"LinkToMissingLesson", map[string]func(string) string{"01-first-steps.md": replace("02-second-steps.md", "09-nowhere.md")}, "01-first-steps.md", 22, "link to a lesson that does not exist: 09-nowhere.md"},
		{"MissingReferences", map[string]func(string) string{"course.yaml": func(s string) string { return s[:strings.Index(s, "references:")] + "references: []\n" }}, "course.yaml", 17, "missing references"},
		{"NoReferencesField", map[string]func(string) string{"course.yaml": func(s string) string { return s[:strings.Index(s, "references:")] }}, "course.yaml", 1, `missing field "references"`},
		{"ReferenceWithoutCheckedDate", map[string]func(string) string{"course.yaml": replace("    checked: 2026-11-01\n", "")}, "course.yaml", 18, "needs the date it was checked"},
		{"QuestionForMissingLesson", map[string]func(string) string{"assessment.yaml": replace("lesson: 03-last-steps\n    type: true_false", "lesson: 07-nope\n    type: true_false")}, "assessment.yaml", 45, `lesson "07-nope" does not exist`},
		{"UnknownField", map[string]func(string) string{"course.yaml": replace("level: introductory", "levle: introductory")}, "course.yaml", 8, `unknown field "levle"`},
		{"BadYAML", map[string]func(string) string{"assessment.yaml": replace("    prompt: What does Sam do first?", "    prompt: [unclosed")}, "assessment.yaml", 9, "did not find expected"},
		{"WrongType", map[string]func(string) string{"course.yaml": replace("estimated_minutes: 30", "estimated_minutes: half an hour")}, "course.yaml", 9, "cannot unmarshal"},
		{"LessonWithoutFrontMatter", map[string]func(string) string{"03-last-steps.md": func(string) string { return "# Last steps\n\nNo front matter.\n" }}, "03-last-steps.md", 1, "front matter"},
		{"LessonWithoutTitle", map[string]func(string) string{"02-second-steps.md": replace("title: Second steps\n", "")}, "02-second-steps.md", 2, "lesson needs a title"},
		{"TrueFalseOptions", map[string]func(string) string{"assessment.yaml": replace(`      - text: "False"
    explanation: Written`, `      - text: "Maybe"
    explanation: Written`)}, "assessment.yaml", 16, "true_false options must be exactly"},
		{"BadSlug", map[string]func(string) string{"course.yaml": replace("slug: sample-course", "slug: Sample Course")}, "course.yaml", 1, "lowercase"},
		{"PrincipleOutOfRange", map[string]func(string) string{"course.yaml": replace("principles: [1, 7]", "principles: [1, 8]")}, "course.yaml", 13, "principle 8 does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Load(sampleFS(t, tt.edits), "c/sample-course")
			wantFile := "c/sample-course/" + tt.file
			for _, p := range Errors(probs) {
				if p.File == wantFile && p.Line == tt.line && strings.Contains(p.Message, tt.want) {
					return
				}
			}
			t.Fatalf("want an error at %s:%d containing %q; got:\n%v", wantFile, tt.line, tt.want, probs)
		})
	}
}

func TestReadability(t *testing.T) {
	words, ease := Readability("The cat sat on the mat. It was happy.\n\n## A heading\n\n- a list item")
	if words != 14 {
		t.Errorf("words: got %d, want 14", words)
	}
	if ease < 90 {
		t.Errorf("ease of very simple text: got %.1f, want above 90", ease)
	}
	_, hard := Readability("Notwithstanding the aforementioned statutory considerations, the local authority's determination necessitates comprehensive interdisciplinary consultation.")
	if hard > 0 {
		t.Errorf("ease of dense legal prose: got %.1f, want below 0", hard)
	}
	for w, want := range map[string]int{"cat": 1, "table": 2, "make": 1, "advocacy": 4, "the": 1, "a": 1} {
		if got := syllableCount(w); got != want {
			t.Errorf("syllables(%q): got %d, want %d", w, got, want)
		}
	}
}

func TestGrade(t *testing.T) {
	c, _ := Load(sampleFS(t, nil), "c/sample-course")
	a := &c.Assessment
	paper := []PaperItem{{QuestionID: "s1", Order: []int{2, 0, 1}}, {QuestionID: "s2", Order: []int{0, 1}}, {QuestionID: "s3", Order: []int{0, 1, 2}}, {QuestionID: "s4", Order: []int{1, 0}}}
	tests := []struct {
		name        string
		answers     Answers
		correct     int
		passed      bool
		wrong       []string
		wantErr     bool
		wantPercent int
	}{
		{"AllRight", Answers{"s1": {0}, "s2": {0}, "s3": {0, 2}, "s4": {1}}, 4, true, nil, false, 100},
		{"ThreeOfFourPassesAt75", Answers{"s1": {0}, "s2": {0}, "s3": {0, 2}, "s4": {0}}, 3, true, []string{"s4"}, false, 75},
		{"MultipleNeedsExactSet", Answers{"s1": {0}, "s2": {0}, "s3": {0}, "s4": {0}}, 2, false, []string{"s3", "s4"}, false, 50},
		{"ExtraOptionInMultipleIsWrong", Answers{"s1": {0}, "s2": {0}, "s3": {0, 1, 2}, "s4": {1}}, 3, true, []string{"s3"}, false, 75},
		{"UnansweredIsWrong", Answers{"s1": {0}}, 1, false, []string{"s2", "s3", "s4"}, false, 25},
		{"DuplicateChoiceCountsOnce", Answers{"s1": {0, 0}, "s2": {0}, "s3": {2, 0, 2}, "s4": {1}}, 4, true, nil, false, 100},
		{"QuestionNotOnPaper", Answers{"s1": {0}, "s6": {1}}, 0, false, nil, true, 0},
		{"OptionOutOfRange", Answers{"s1": {7}}, 0, false, nil, true, 0},
		{"TwoAnswersToSingle", Answers{"s1": {0, 1}}, 0, false, nil, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Grade(a, paper, tt.answers)
			if tt.wantErr {
				if _, ok := err.(*AnswerError); !ok {
					t.Fatalf("got %v, want an *AnswerError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var wrong []string
			for _, w := range r.Wrong {
				wrong = append(wrong, w.QuestionID)
				if w.Explanation == "" || w.Lesson == "" {
					t.Errorf("wrong answer %s lacks explanation or lesson", w.QuestionID)
				}
			}
			if r.Correct != tt.correct || r.Passed != tt.passed || r.Percent != tt.wantPercent || strings.Join(wrong, ",") != strings.Join(tt.wrong, ",") {
				t.Fatalf("got %d correct, passed %v, %d%%, wrong %v; want %d, %v, %d%%, %v", r.Correct, r.Passed, r.Percent, wrong, tt.correct, tt.passed, tt.wantPercent, tt.wrong)
			}
		})
	}
}

func TestDrawPicksDistinctQuestionsAndShuffles(t *testing.T) {
	c, _ := Load(sampleFS(t, nil), "c/sample-course")
	rng := rand.New(rand.NewPCG(1, 2))
	orders := map[string]bool{}
	for i := 0; i < 50; i++ {
		p := Draw(&c.Assessment, rng)
		if len(p) != 4 {
			t.Fatalf("paper has %d questions, want 4", len(p))
		}
		seen := map[string]bool{}
		for _, it := range p {
			if seen[it.QuestionID] {
				t.Fatalf("question %s drawn twice", it.QuestionID)
			}
			seen[it.QuestionID] = true
			q, _ := c.Assessment.Question(it.QuestionID)
			if len(it.Order) != len(q.Options) {
				t.Fatalf("order %v for %d options", it.Order, len(q.Options))
			}
			if q.Type == TrueFalse && (it.Order[0] != 0 || it.Order[1] != 1) {
				t.Fatalf("true/false options shuffled: %v", it.Order)
			}
			if it.QuestionID == "s1" {
				orders[strings.Trim(strings.Join(strings.Fields(strings.Trim(fmtInts(it.Order), "[]")), ","), ",")] = true
			}
		}
	}
	if len(orders) < 3 {
		t.Fatalf("options of s1 appeared in %d orders over 50 draws; want them shuffled", len(orders))
	}
}

func fmtInts(xs []int) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteByte(byte('0' + x))
		b.WriteByte(' ')
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"course.yaml", "assessment.yaml", "01-first-steps.md"} {
		b, err := os.ReadFile("testdata/sample-course/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
	}
	f.Add("02-second-steps.md", []byte("---\ntitle: x\n---\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		switch name {
		case "course.yaml", "assessment.yaml", "01-first-steps.md", "02-second-steps.md":
		default:
			name = "02-second-steps.md"
		}
		m := sampleFS(t, map[string]func(string) string{name: func(string) string { return string(data) + " " }})
		c, probs := Load(m, "c/sample-course")
		for _, p := range probs {
			if p.File == "" || p.Message == "" || p.Line < 0 {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if c != nil && len(Errors(probs)) == 0 {
			// A valid course must be gradable.
			paper := Draw(&c.Assessment, rand.New(rand.NewPCG(1, 1)))
			if _, err := Grade(&c.Assessment, paper, Answers{}); err != nil {
				t.Fatalf("valid course cannot be graded: %v", err)
			}
		}
	})
}

func TestPaperFits(t *testing.T) {
	c, _ := Load(sampleFS(t, nil), "c/sample-course")
	p := Draw(&c.Assessment, rand.New(rand.NewPCG(3, 4)))
	if !PaperFits(&c.Assessment, p) {
		t.Fatal("a paper just drawn does not fit its bank")
	}
	gone := slices.Clone(p)
	gone[0].QuestionID = "no-such-question"
	if PaperFits(&c.Assessment, gone) {
		t.Fatal("a paper naming a question no longer in the bank fits")
	}
	more := slices.Clone(p)
	more[1].Order = append(slices.Clone(more[1].Order), len(more[1].Order))
	if PaperFits(&c.Assessment, more) {
		t.Fatal("a paper whose question now has a different number of options fits")
	}
}
