package impact

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/pdftext"
	"github.com/jung-kurt/gofpdf"
)

// privacyNote ends every page of the summary.
const privacyNote = "Figures describing fewer than 5 people are not shown. No names are held with these answers."

// maxComments is how many published comments the summary quotes.
const maxComments = 10

// summary is the funder's PDF being written, with its page furniture.
type summary struct {
	pdf         *gofpdf.Fpdf
	left, width float64 // the printable column, mm
	bottom      float64 // where a page's content must end, mm
	cm          float64 // cell margin, mm
	title       string
	produced    string // "3 July 2027"
}

// SummaryPDF is a course's evaluation as an A4 summary for a funder:
// headline figures, confidence per outcome, both charts and up to ten
// published comments, produced at produced for orgName ("" for all
// organisations), in the TrueType fonts regular and bold.
func SummaryPDF(r *Report, orgName string, produced time.Time, regular, bold []byte) ([]byte, error) {
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.AliasNbPages("") // before the fonts, so the subset keeps the digits
	pdf.SetCreationDate(produced)
	title := "Training impact: " + r.CourseTitle
	pdf.SetTitle(title, true)
	pdf.SetAuthor("Family Advocacy Learning", true)
	pdf.AddUTF8FontFromBytes("body", "", regular)
	pdf.AddUTF8FontFromBytes("body", "B", bold)
	pdf.SetMargins(15, 12, 15)
	pdf.SetAutoPageBreak(false, 0) // rows break pages themselves (see need)
	pw, ph := pdf.GetPageSize()
	s := &summary{pdf: pdf, left: 15, width: pw - 30, bottom: ph - 22, cm: pdf.GetCellMargin(),
		title: title, produced: produced.In(civil.London).Format("2 January 2006")}
	pdf.SetHeaderFunc(s.header)
	pdf.SetFooterFunc(s.footer)
	pdf.AddPage()

	s.paragraph(title, 18, true)
	if orgName == "" {
		orgName = "All organisations"
	}
	s.paragraph("Period: "+period(r.From, r.To)+" (learners who enrolled in these months)", 10, false)
	s.paragraph("Organisation: "+orgName, 10, false)

	s.heading("Headline figures")
	s.table([]string{"Measure", "Figure"}, []float64{s.width * 0.6, s.width * 0.4}, [][]string{
		{"Enrolments", People(r.Enrolments)},
		{"Completions", People(r.Completions)},
		{"Pass rate", ofN(r.PassRate)},
		{"Response rate before the course", ofN(r.BeforeRate)},
		{"Response rate after passing", ofN(r.AfterRate)},
		{"Response rate at follow-up", ofN(r.FollowUpRate)},
		{"Found it helpful", ofN(r.Helpful)},
		{"Relevant to their work", ofN(r.Relevant)},
		{"Would recommend", ofN(r.Recommend)},
		{"Changed practice at follow-up (yes or somewhat)", ofN(r.Changed)},
		{"Made a difference for a family", ofN(r.Family)},
	})

	s.heading("Confidence against the course outcomes")
	s.paragraph("Mean self-rated confidence from 1 (not confident) to 5 (very confident), of the learners who rated an outcome before the course and after passing.", 9, false)
	var rows [][]string
	for i, o := range r.Outcomes {
		text := fmt.Sprintf("Outcome %d: %s", i+1, o.Text)
		if !o.Before.Shown() { // then neither is After: the same people
			rows = append(rows, []string{text, Mean(o.Before)})
			continue
		}
		rows = append(rows, []string{text, Mean(o.Before), Mean(o.After), Signed(o.Change)})
	}
	s.table([]string{"Outcome", "Before", "After", "Change"}, []float64{s.width - 78, 26, 26, 26}, rows)

	confidenceData(r).pdf(s)
	trendData(r).pdf(s)

	var quoted int
	for _, c := range r.Comments {
		if !c.Published || quoted == maxComments {
			continue
		}
		if quoted == 0 {
			s.heading("What learners said")
		}
		quoted++
		s.paragraph("\u201c"+strings.TrimSpace(c.Text)+"\u201d", 10, false)
		s.paragraph(map[string]string{"different": "What they will do differently", "example": "How it changed their work, at follow-up"}[c.Kind], 8, true)
		pdf.SetY(pdf.GetY() + 2)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("impact summary: %w", err)
	}
	return buf.Bytes(), nil
}

// header prints the running title.
func (s *summary) header() {
	s.font(8, true, 0)
	y := s.lines(s.left, 8, s.width, s.wrap(s.title, s.width), "L")
	s.pdf.SetDrawColor(120, 120, 120)
	s.pdf.SetLineWidth(0.2)
	s.pdf.Line(s.left, y+1, s.left+s.width, y+1)
	s.pdf.SetY(y + 5)
}

// footer prints the privacy note, the date produced and "Page n of m".
func (s *summary) footer() {
	_, ph := s.pdf.GetPageSize()
	y := ph - 18
	s.pdf.SetDrawColor(120, 120, 120)
	s.pdf.SetLineWidth(0.2)
	s.pdf.Line(s.left, y, s.left+s.width, y)
	s.font(8, false, 0)
	y = s.lines(s.left, y+1, s.width, s.wrap(privacyNote, s.width), "L")
	s.lines(s.left, y, s.width, []string{"Produced " + s.produced}, "L")
	s.lines(s.left, y, s.width, []string{fmt.Sprintf("Page %d of {nb}", s.pdf.PageNo())}, "R")
}

func lineHeight(size float64) float64 { return pdftext.LineHeight(size) }

// font sets the font and a grey level of its ink (0: black).
func (s *summary) font(size float64, bold bool, grey int) {
	s.pdf.SetFont("body", map[bool]string{true: "B"}[bold], size)
	s.pdf.SetTextColor(grey, grey, grey)
}

// lines prints lines from (x, y) in the current font and returns the y
// below them.
func (s *summary) lines(x, y, w float64, lines []string, align string) float64 {
	size, _ := s.pdf.GetFontSize()
	for _, l := range lines {
		s.pdf.SetXY(x, y)
		s.pdf.CellFormat(w, lineHeight(size), l, "", 0, align, false, 0, "")
		y += lineHeight(size)
	}
	return y
}

// wrap breaks text into lines that fit a cell w wide in the current font,
// at spaces, and inside a word only when it is longer than a line.
func (s *summary) wrap(text string, w float64) []string {
	limit := w - 2*s.cm
	return pdftext.Wrap(text, func(t string) bool { return s.pdf.GetStringWidth(t) <= limit })
}

// need starts a new page unless h mm fit on this one; it reports whether
// it did.
func (s *summary) need(h float64) bool {
	if s.pdf.GetY()+h <= s.bottom {
		return false
	}
	s.pdf.AddPage()
	return true
}

// heading prints a section heading, kept with some of what follows.
func (s *summary) heading(text string) {
	s.font(12, true, 0)
	s.need(lineHeight(12) + 30)
	s.pdf.SetY(s.lines(s.left, s.pdf.GetY()+3, s.width, s.wrap(text, s.width), "L") + 1)
}

// paragraph prints wrapped text, breaking pages between its lines.
func (s *summary) paragraph(text string, size float64, bold bool) {
	s.font(size, bold, 0)
	for _, l := range s.wrap(text, s.width) {
		s.need(lineHeight(size))
		s.pdf.SetY(s.lines(s.left, s.pdf.GetY(), s.width, []string{l}, "L"))
	}
	s.pdf.SetY(s.pdf.GetY() + 1)
}

// table prints rows under a header repeated on each page. A row with fewer
// cells than columns has its last cell span the rest.
func (s *summary) table(head []string, widths []float64, rows [][]string) {
	const size, pad = 9.0, 1.2
	var draw func(cells []string, bold bool)
	draw = func(cells []string, bold bool) {
		ws := append([]float64(nil), widths[:len(cells)]...)
		for _, w := range widths[len(cells):] {
			ws[len(ws)-1] += w
		}
		s.font(size, bold, 0)
		var wrapped [][]string
		most := 1
		for i, c := range cells {
			wrapped = append(wrapped, s.wrap(c, ws[i]))
			most = max(most, len(wrapped[i]))
		}
		h := float64(most)*lineHeight(size) + 2*pad
		if s.need(h) && !bold {
			draw(head, true)
			s.font(size, false, 0)
		}
		x, y := s.left, s.pdf.GetY()
		s.pdf.SetDrawColor(150, 150, 150)
		s.pdf.SetFillColor(225, 225, 225)
		s.pdf.SetLineWidth(0.2)
		for i, lines := range wrapped {
			s.pdf.Rect(x, y, ws[i], h, map[bool]string{true: "FD", false: "D"}[bold])
			s.lines(x, y+pad, ws[i], lines, "L")
			x += ws[i]
		}
		s.pdf.SetY(y + h)
	}
	s.need(4 * lineHeight(size))
	draw(head, true)
	for _, r := range rows {
		draw(r, false)
	}
}
