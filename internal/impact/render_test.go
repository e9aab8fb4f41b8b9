package impact

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
)

func renderCourse() *courses.Course {
	return &courses.Course{
		Slug:  "care-proceedings",
		Title: "Supporting parents through care proceedings",
		Outcomes: []string{
			"Explain to a parent what happens at each hearing of care proceedings and who will be there",
			"Help a parent prepare for a meeting with their social worker",
		},
		Lessons: []courses.Lesson{{Number: 1, Name: "01-hearings", Title: "Hearings"}, {Number: 2, Name: "02-meetings", Title: "Meetings"}},
		Assessment: courses.Assessment{PassMarkPercent: 80, QuestionsPerAttempt: 2, Questions: []courses.Question{
			{ID: "q1", Lesson: "01-hearings", Type: courses.Single, Prompt: "Who decides?", Options: []courses.Option{{Text: "The judge", Correct: true}, {Text: "The social worker"}}},
			{ID: "q2", Lesson: "02-meetings", Type: courses.TrueFalse, Prompt: "A parent may bring someone.", Options: []courses.Option{{Text: "True", Correct: true}, {Text: "False"}}},
		}},
	}
}

// learner is one row of the test data, written out by hand.
type learner struct {
	pid, org      string
	month         time.Month
	attempts      int
	before, after []int
	helpful       int
	relevant      int
	recommend     string
	changed       string // "": follow-up not sent
	family        string
	different     string
	publish       []string
}

// renderRows: six learners of org-a (five in January 2027, one in March)
// and three of org-b (February).
func renderRows(c *courses.Course) map[string]map[string]Row {
	ls := []learner{
		{"p1", "org-a", 1, 1, []int{2, 3}, []int{4, 4}, 5, 5, "yes", "yes", "yes", "I will ask the family what they want first.", []string{"different"}},
		{"p2", "org-a", 1, 2, []int{3, 2}, []int{5, 4}, 4, 4, "yes", "somewhat", "not-sure", "Not for publishing.", nil},
		{"p3", "org-a", 1, 1, []int{2, 0}, []int{4, 3}, 3, 5, "not-sure", "no", "no", "", nil},
		{"p4", "org-a", 1, 1, []int{3, 3}, []int{4, 5}, 5, 3, "yes", "yes", "yes", "", nil},
		{"p5", "org-a", 1, 1, []int{2, 0}, []int{5, 0}, 2, 2, "yes", "yes", "yes", "", nil},
		{"p6", "org-a", 3, 1, []int{3, 2}, []int{4, 3}, 4, 5, "yes", "", "", "", nil},
		{"p7", "org-b", 2, 1, []int{1, 1}, []int{5, 5}, 5, 5, "yes", "", "", "", nil},
		{"p8", "org-b", 2, 1, []int{1, 1}, []int{5, 5}, 5, 5, "yes", "", "", "", nil},
		{"p9", "org-b", 2, 1, []int{1, 1}, []int{5, 5}, 5, 5, "yes", "", "", "", nil},
	}
	docs := map[string]map[string]Row{}
	for _, l := range ls {
		enrolled := time.Date(2027, l.month, 10, 12, 0, 0, 0, time.UTC)
		passed := enrolled.AddDate(0, 0, 7)
		row := Row{Org: l.org, Enrolled: enrolled, Lessons: 2, Attempts: l.attempts, Passed: &passed,
			First:   &First{Answers: map[string][]int{"q1": {0}, "q2": {0}}, Passed: true},
			Before:  &Ratings{At: enrolled, Confidence: l.before},
			After:   &After{Ratings: Ratings{At: passed, Confidence: l.after}, Helpful: l.helpful, Relevant: l.relevant, Recommend: l.recommend, Different: l.different},
			Publish: l.publish}
		if l.changed != "" {
			sent := passed.AddDate(0, 0, FollowUpDays)
			row.FollowUpSent = &sent
			row.FollowUp = &FollowUp{At: sent, Changed: l.changed, Family: l.family}
		}
		doc := DocID(c.Slug, enrolled, l.pid)
		if docs[doc] == nil {
			docs[doc] = map[string]Row{}
		}
		docs[doc][l.pid] = row
	}
	return docs
}

func renderReport(t *testing.T, org string) *Report {
	t.Helper()
	c := renderCourse()
	return Compute(c, "2027-01", "2027-03", org, renderRows(c), false, func(_, _, _, sealed string) string { return sealed })
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Percent(Figure{N: 8, Of: 8, Value: 87.5}), "88%"},
		{Percent(Figure{N: 6, Of: 6, Value: 200.0 / 3}), "67%"},
		{Percent(Figure{N: 3, Of: 3, Hidden: true}), "fewer than 5 responses"},
		{Percent(Figure{}), "no responses"},
		{Mean(Figure{N: 20, Value: 83.0 / 20}), "4.2"},
		{Mean(Figure{N: 6, Value: 2.5}), "2.5"},
		{Signed(Figure{N: 6, Value: 11.0 / 6}), "+1.8"},
		{Signed(Figure{N: 6, Value: -0.3}), "-0.3"},
		{Signed(Figure{N: 6, Value: -0.04}), "0.0"},
		{Signed(Figure{N: 2, Hidden: true}), "fewer than 5 responses"},
		{People(Count{N: 23}), "23"},
		{People(Count{N: 3, Hidden: true}), "fewer than 5"},
		{People(Count{}), "0"},
		{period("2027-01", "2027-06"), "January 2027 to June 2027"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestCharts(t *testing.T) {
	r := renderReport(t, "org-a")
	conf := string(ConfidenceChart(r))
	for _, want := range []string{
		`role="img"`, `<title>Mean confidence before and after the course, by outcome (1 to 5)</title>`,
		`<desc>Outcome 1 (Explain to a parent what happens at each hearing of care proceedings and who will be there): Before the course 2.5 out of 5, After passing 4.3 out of 5; Outcome 2 (Help a parent prepare for a meeting with their social worker): Before the course fewer than 5 responses, After passing fewer than 5 responses.</desc>`,
		">Outcome 1<", ">Outcome 2<", ">2.5<", ">4.3<", ">fewer than 5 responses<", "Before the course<", "After passing<",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("confidence chart lacks %q:\n%s", want, conf)
		}
	}
	trend := string(TrendChart(r))
	for _, want := range []string{
		`role="img"`, "<title>", "Jan 2027: Found it helpful 60%, Changed practice at follow-up 80%; Feb 2027: Found it helpful no responses, Changed practice at follow-up no responses; Mar 2027: Found it helpful fewer than 5 responses, Changed practice at follow-up no responses.",
		">Jan 2027<", ">Mar 2027<", ">60%<", ">80%<", ">fewer than 5 responses<", ">100%<",
	} {
		if !strings.Contains(trend, want) {
			t.Errorf("trend chart lacks %q:\n%s", want, trend)
		}
	}

	small := renderReport(t, "org-b")
	for name, svg := range map[string]string{"confidence": string(ConfidenceChart(small)), "trend": string(TrendChart(small))} {
		if !strings.Contains(svg, "<title>") || !strings.Contains(svg, ">fewer than 5 responses<") || strings.Contains(svg, `height="18"`) { // height 18: a bar
			t.Errorf("%s chart of three learners: want no bars and the words:\n%s", name, svg)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	c := renderCourse()
	docs := renderRows(c)
	const head = "enrolled_month,passed,attempts,before_1,before_2,after_1,after_2,helpful,relevant,recommend,followup_changed,followup_family"

	var b bytes.Buffer
	n, err := WriteCSV(&b, c, docs, "2027-01", "2027-03", "org-a")
	if err != nil || n != 6 {
		t.Fatalf("WriteCSV = %d, %v", n, err)
	}
	want := strings.Join([]string{head,
		"2027-01,yes,1,2,,4,3,3,5,not-sure,no,no",
		"2027-01,yes,1,2,,5,,2,2,yes,yes,yes",
		"2027-01,yes,1,2,3,4,4,5,5,yes,yes,yes",
		"2027-01,yes,1,3,3,4,5,5,3,yes,yes,yes",
		"2027-01,yes,2,3,2,5,4,4,4,yes,somewhat,not-sure",
		"other,yes,1,3,2,4,3,4,5,yes,,", // the only learner of March: not named by month
	}, "\n") + "\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
	}
	for _, secret := range []string{"org-a", "p1", "I will ask", "-10"} {
		if strings.Contains(b.String(), secret) {
			t.Errorf("CSV holds %q", secret)
		}
	}

	b.Reset()
	if n, err := WriteCSV(&b, c, docs, "2027-01", "2027-03", ""); err != nil || n != 9 {
		t.Errorf("all organisations: %d, %v", n, err)
	}
	b.Reset()
	if n, err := WriteCSV(&b, c, docs, "2027-01", "2027-02", "org-a"); err != nil || n != 5 {
		t.Errorf("January to February: %d, %v", n, err)
	}

	b.Reset()
	n, err = WriteCSV(&b, c, docs, "2027-01", "2027-03", "org-b")
	if err != nil || n != 0 || b.String() != head+"\n# fewer than 5 responses: rows withheld\n" {
		t.Errorf("three learners: %d, %v:\n%s", n, err, b.String())
	}
	b.Reset()
	n, err = WriteCSV(&b, c, docs, "2026-01", "2026-12", "")
	if err != nil || n != 0 || b.String() != head+"\n" {
		t.Errorf("nobody: %d, %v:\n%s", n, err, b.String())
	}
}

func TestSummaryPDF(t *testing.T) {
	reg, err := os.ReadFile("../../web/static/fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	bold, err := os.ReadFile("../../web/static/fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		t.Fatal(err)
	}
	// pdftotext is installed by .ci/run and here: fail rather than skip.
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatalf("pdftotext (poppler-utils) is needed: %v", err)
	}
	produced := time.Date(2027, 7, 3, 9, 0, 0, 0, time.UTC)
	read := func(t *testing.T, r *Report, org string) string {
		t.Helper()
		pdf, err := SummaryPDF(r, org, produced, reg, bold)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF")) {
			t.Fatalf("not a PDF: %.20q", pdf)
		}
		path := filepath.Join(t.TempDir(), "impact.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}

	text := read(t, renderReport(t, "org-a"), "Northern Family Advocacy")
	for _, want := range []string{
		"Training impact: Supporting parents through care proceedings",
		"January 2027 to March 2027", "Organisation: Northern Family Advocacy",
		"Enrolments 6", "Pass rate 100% (of 6)",
		"Found it helpful 67% (of 6)", // helpful or very helpful: p1, p2, p4, p6
		"Relevant to their work 67% (of 6)",
		"Changed practice at follow-up (yes or somewhat) 80% (of 5)",
		"Made a difference for a family 60% (of 5)",
		"Explain to a parent what happens at each hearing", "2.5 4.3 +1.8",
		"fewer than 5 responses", "Outcome 1", "Jan 2027",
		"\u201cI will ask the family what they want first.\u201d",
		"Figures describing fewer than 5 people are not shown. No names are held with these answers.",
		"Produced 3 July 2027", "Page 1 of",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Not for publishing") {
		t.Error("PDF quotes an unpublished comment")
	}

	small := read(t, renderReport(t, "org-b"), "")
	for _, want := range []string{"All organisations", "Enrolments fewer than 5", "Found it helpful fewer than 5 responses"} {
		if !strings.Contains(small, want) {
			t.Errorf("PDF of three learners lacks %q:\n%s", want, small)
		}
	}
}
