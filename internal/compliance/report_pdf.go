package compliance

// This is the only file of the package that uses gofpdf (see
// certificates/render.go for why that matters).
//
// Both reports are printed tables. Every state is a coloured cell with its
// label in words (the colours differ in lightness too, so a greyscale
// print still tells them apart); long text wraps, and a row is as tall as
// its tallest cell; a table that runs over a page repeats its header; each
// page says whose report it is, when it was produced and "Page n of m".
// Sensitive fields (DBS certificate numbers, notes, referees' contact
// details, reflections) are never printed.

import (
	"bytes"
	"fmt"
	"github.com/family-advocacy/lms/internal/pdftext"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/jung-kurt/gofpdf"
)

// ReportFonts are the TrueType fonts of the reports (any Unicode name).
type ReportFonts struct{ Regular, Bold []byte }

type rgb [3]uint8

// stateStyles colour the states: light to dark from met to overdue.
var stateStyles = map[State]struct{ Fill, Text rgb }{
	Met:     {Fill: rgb{212, 237, 218}, Text: rgb{0, 0, 0}},
	DueSoon: {Fill: rgb{255, 205, 90}, Text: rgb{0, 0, 0}},
	Missing: {Fill: rgb{240, 140, 60}, Text: rgb{0, 0, 0}},
	Overdue: {Fill: rgb{180, 30, 40}, Text: rgb{255, 255, 255}},
}

var (
	black    = rgb{0, 0, 0}
	darkGrey = rgb{70, 70, 70}
	headFill = rgb{225, 225, 225}
)

// nbsp keeps words together when wrapping (a date, "Page 2 of 5"); it
// prints as a space.
const nbsp = "\u00a0"

// report is a PDF being written, with its page furniture.
type pdfReport struct {
	pdf          *gofpdf.Fpdf
	left, width  float64 // the printable column, mm
	bottom       float64 // where the page's content must end, mm
	cMargin      float64
	produced     string // "22 November 2026 at 09:30"
	title, owner string // running header; whose report (organisation or advocate)
}

func (s *Service) newReport(orientation, title, owner string, now time.Time) *pdfReport {
	pdf := gofpdf.New(orientation, "mm", "A4", "")
	pdf.AliasNbPages("") // before the fonts, so the subset keeps the digits
	pdf.SetCreationDate(now)
	pdf.SetTitle(title, true)
	pdf.SetAuthor("Family Advocacy Learning", true)
	pdf.AddUTF8FontFromBytes("body", "", s.Fonts.Regular)
	pdf.AddUTF8FontFromBytes("body", "B", s.Fonts.Bold)
	pdf.SetMargins(12, 10, 12)
	pdf.SetAutoPageBreak(false, 0) // rows break pages themselves (see need)
	pw, ph := pdf.GetPageSize()
	r := &pdfReport{pdf: pdf, left: 12, width: pw - 24, bottom: ph - 18, cMargin: pdf.GetCellMargin(),
		produced: now.In(London).Format("2 January 2006 at 15:04"), title: title, owner: owner}
	pdf.SetHeaderFunc(r.header)
	pdf.SetFooterFunc(r.footer)
	pdf.AddPage()
	return r
}

// header prints the running header: the report's title and date.
func (r *pdfReport) header() {
	p := r.pdf
	p.SetXY(r.left, 8)
	r.font(8, true, black)
	date := "Produced " + strings.ReplaceAll(r.produced, " ", nbsp)
	dw := p.GetStringWidth(date) + 2*r.cMargin
	y := r.lines(r.left, 8, r.width-dw, r.wrap(r.title, r.width-dw), lineHeight(8), "L")
	p.SetXY(r.left+r.width-dw, 8)
	r.text(dw, lineHeight(8), date, "R")
	y = max(y, 8+lineHeight(8)) + 1
	p.SetDrawColor(120, 120, 120)
	p.Line(r.left, y, r.left+r.width, y)
	p.SetY(y + 3)
}

// footer prints whose report it is, when it was produced and the page.
func (r *pdfReport) footer() {
	p := r.pdf
	r.font(8, false, black)
	page := fmt.Sprintf("Page%s%d%sof%s{nb}", nbsp, p.PageNo(), nbsp, nbsp)
	pw := p.GetStringWidth("Page 999 of 999") + 2*r.cMargin
	_, ph := p.GetPageSize()
	y := ph - 14
	p.SetDrawColor(120, 120, 120)
	p.Line(r.left, y, r.left+r.width, y)
	r.lines(r.left, y+1, r.width-pw, r.wrap(r.owner+" · produced "+r.produced, r.width-pw), lineHeight(8), "L")
	p.SetXY(r.left+r.width-pw, y+1)
	r.text(pw, lineHeight(8), page, "R")
}

// lineHeight is the distance between lines of text of a size (points), in
// mm: far enough apart that no two lines' glyphs touch.
func lineHeight(size float64) float64 { return pdftext.LineHeight(size) }

func (r *pdfReport) font(size float64, bold bool, c rgb) {
	r.pdf.SetFont("body", map[bool]string{true: "B"}[bold], size)
	r.pdf.SetTextColor(int(c[0]), int(c[1]), int(c[2]))
}

// text prints one line at the current position.
func (r *pdfReport) text(w, h float64, s, align string) {
	r.pdf.CellFormat(w, h, strings.ReplaceAll(s, nbsp, " "), "", 0, align, false, 0, "")
}

// lines prints wrapped lines from (x, y) and returns the y below them.
func (r *pdfReport) lines(x, y, w float64, lines []string, lh float64, align string) float64 {
	for _, l := range lines {
		r.pdf.SetXY(x, y)
		r.text(w, lh, l, align)
		y += lh
	}
	return y
}

// aDate finds dates like "3 March 2027" in text, to keep them on one line.
var aDate = regexp.MustCompile(`\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})\b`)

// wrap breaks text into lines that fit a cell w wide in the current font:
// at spaces, after hyphens, and inside a word only when it is longer than
// a line. Words joined by nbsp, and dates, stay together.
func (r *pdfReport) wrap(text string, w float64) []string {
	text = aDate.ReplaceAllString(text, "${1}"+nbsp+"${2}"+nbsp+"${3}")
	limit := w - 2*r.cMargin
	width := func(s string) float64 { return r.pdf.GetStringWidth(strings.ReplaceAll(s, nbsp, " ")) }
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.FieldsFunc(para, func(c rune) bool { return c == ' ' || c == '\t' }) {
			for _, piece := range hyphenPieces(word) {
				sep := " "
				if line == "" || strings.HasSuffix(line, "-") {
					sep = ""
				}
				if width(line+sep+piece) <= limit {
					line += sep + piece
					continue
				}
				if line != "" {
					out = append(out, line)
					line = ""
				}
				for width(piece) > limit && len([]rune(piece)) > 1 { // a word longer than a line
					rs, n := []rune(piece), 1
					for n < len(rs) && width(string(rs[:n+1])) <= limit {
						n++
					}
					out = append(out, string(rs[:n]))
					piece = string(rs[n:])
				}
				line = piece
			}
		}
		if line != "" || len(out) == 0 {
			out = append(out, line)
		}
	}
	return out
}

// hyphenPieces splits "Smith-Jones" into "Smith-", "Jones".
func hyphenPieces(word string) []string {
	var out []string
	for {
		i := strings.Index(word, "-")
		if i <= 0 || i == len(word)-1 {
			return append(out, word)
		}
		out, word = append(out, word[:i+1]), word[i+1:]
	}
}

// need starts a new page unless h mm fit on this one; it reports whether
// it did.
func (r *pdfReport) need(h float64) bool {
	if r.pdf.GetY()+h <= r.bottom {
		return false
	}
	r.pdf.AddPage()
	return true
}

// heading prints a section heading, kept with room for what follows.
func (r *pdfReport) heading(s string) {
	r.font(12, true, black)
	r.need(lineHeight(12) + 25)
	r.pdf.SetY(r.pdf.GetY() + 2)
	r.pdf.SetY(r.lines(r.left, r.pdf.GetY(), r.width, r.wrap(s, r.width), lineHeight(12), "L") + 1)
}

// paragraph prints wrapped text.
func (r *pdfReport) paragraph(s string, size float64, bold bool) {
	r.font(size, bold, black)
	for _, l := range r.wrap(s, r.width) {
		r.need(lineHeight(size))
		r.pdf.SetY(r.lines(r.left, r.pdf.GetY(), r.width, []string{l}, lineHeight(size), "L"))
	}
}

// cell is one cell of a table row: paragraphs, the first one bold when
// Bold, on the state's colour when State is set.
type pdfCell struct {
	Text  []string
	Bold  bool
	State State
	Align string
}

func plain(text ...string) pdfCell { return pdfCell{Text: text} }

// stateCell is a state's colour with its label (and more lines, e.g. the
// due date).
func stateCell(s State, more ...string) pdfCell {
	label := s.Label()
	if label == "" {
		label = "Not assessed"
	}
	return pdfCell{Text: append([]string{label}, more...), Bold: true, State: s}
}

// column is a table column: its heading and width (mm).
type pdfColumn struct {
	Head  string
	Width float64
}

// table prints rows under a header that repeats on each page.
type pdfTable struct {
	r    *pdfReport
	cols []pdfColumn
	size float64
}

const cellPad = 1.2 // mm above and below a cell's text

// table starts a table; one whose columns have no headings has no header.
func (r *pdfReport) table(size float64, cols ...pdfColumn) *pdfTable {
	t := &pdfTable{r: r, cols: cols, size: size}
	t.header(true)
	return t
}

// header prints the table's header, on a new page unless it fits with a
// row or two below it.
func (t *pdfTable) header(first bool) {
	heads, named := make([]pdfCell, len(t.cols)), false
	for i, c := range t.cols {
		heads[i], named = pdfCell{Text: []string{c.Head}, Bold: true}, named || c.Head != ""
	}
	lines, h := t.layout(heads)
	if !named {
		h, lines = 0, nil
	}
	if first {
		t.r.need(h + 3*lineHeight(t.size) + 2*cellPad)
	}
	if named {
		t.draw(heads, lines, h, &headFill)
	}
}

// row prints a row, first starting a page (and repeating the header) when
// it does not fit.
func (t *pdfTable) row(cells ...pdfCell) {
	lines, h := t.layout(cells)
	if t.r.need(h) {
		t.header(false)
	}
	t.draw(cells, lines, h, nil)
}

// layout wraps each cell to its column and returns the row's height.
func (t *pdfTable) layout(cells []pdfCell) ([][]lineOf, float64) {
	out, most := make([][]lineOf, len(cells)), 1
	for i, c := range cells {
		for j, para := range c.Text {
			bold := c.Bold && j == 0
			t.r.font(t.size, bold, black)
			for _, l := range t.r.wrap(para, t.cols[i].Width) {
				out[i] = append(out[i], lineOf{l, bold})
			}
		}
		most = max(most, len(out[i]))
	}
	return out, float64(most)*lineHeight(t.size) + 2*cellPad
}

type lineOf struct {
	text string
	bold bool
}

// draw prints a laid-out row at the current y.
func (t *pdfTable) draw(cells []pdfCell, lines [][]lineOf, h float64, fill *rgb) {
	p, x, y := t.r.pdf, t.r.left, t.r.pdf.GetY()
	p.SetDrawColor(150, 150, 150)
	p.SetLineWidth(0.2)
	for i, c := range cells {
		w, ink, bg := t.cols[i].Width, black, fill
		if st, ok := stateStyles[c.State]; ok {
			ink, bg = st.Text, &st.Fill
		}
		style := "D"
		if bg != nil {
			p.SetFillColor(int(bg[0]), int(bg[1]), int(bg[2]))
			style = "FD"
		}
		p.Rect(x, y, w, h, style)
		ly := y + cellPad
		for _, l := range lines[i] {
			if c.Bold && c.State == "" && fill == nil && !l.bold {
				ink = darkGrey // e.g. the status under a name
			}
			t.r.font(t.size, l.bold, ink)
			p.SetXY(x, ly)
			t.r.text(w, lineHeight(t.size), l.text, map[bool]string{true: c.Align, false: "L"}[c.Align != ""])
			ly += lineHeight(t.size)
		}
		x += w
	}
	p.SetY(y + h)
	t.r.font(t.size, false, black)
}

// output finishes the PDF.
func (r *pdfReport) output() ([]byte, error) {
	var buf bytes.Buffer
	if err := r.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("compliance report: %w", err)
	}
	return buf.Bytes(), nil
}

// dateWidth is the width of a column of dates in a font size.
func (r *pdfReport) dateWidth(size float64) float64 {
	r.font(size, false, black)
	return r.pdf.GetStringWidth("30 September 2027") + 2*r.cMargin + 1
}

// dateText is a date as people read it: "3 March 2027", kept on one line.
func dateText(t *time.Time) string {
	if t == nil {
		return "No date"
	}
	return strings.ReplaceAll(t.In(London).Format("2 January 2006"), " ", nbsp)
}

// relative says how far a due date is from now: "in 12 days", "3 days overdue".
func relative(due *time.Time, now time.Time) string {
	switch n := civil.Of(now).DaysUntil(civil.Of(*due)); {
	case n == 0:
		return "today"
	case n == 1:
		return "tomorrow"
	case n > 1:
		return fmt.Sprintf("in %d days", n)
	case n == -1:
		return "1 day overdue"
	default:
		return fmt.Sprintf("%d days overdue", -n)
	}
}

// nextDue is "DBS check on 3 March 2027" and how far off it is, or
// "No due date".
func nextDue(key string, due *time.Time, now time.Time) []string {
	if due == nil {
		return []string{"No due date"}
	}
	return []string{RequirementLabels[key] + " on " + dateText(due), relative(due, now)}
}

// nextRequirement returns the requirement that falls due first, overdue
// ones included.
func nextRequirement(s Snapshot) (string, *time.Time) {
	key, due := "", (*time.Time)(nil)
	for _, q := range s.Requirements {
		if q.Due != nil && (due == nil || q.Due.Before(*due)) {
			key, due = q.Key, q.Due
		}
	}
	return key, due
}

func yesNo(b bool) string { return map[bool]string{true: "Yes", false: "No"}[b] }

// OrganisationReport renders an organisation's compliance report: a
// summary, then one row per advocate with each requirement's state and
// due date and what falls due next.
func (s *Service) OrganisationReport(orgName string, d *Dashboard, now time.Time) ([]byte, error) {
	r := s.newReport("L", "Compliance report: "+orgName, orgName, now)

	// Summary: how many, how many cleared, counts by overall state.
	r.font(16, true, black)
	r.pdf.SetY(r.lines(r.left, r.pdf.GetY(), r.width, r.wrap(orgName, r.width), lineHeight(16), "L") + 1)
	r.paragraph(fmt.Sprintf("%d advocates · %d cleared for allocation to families · %d not cleared", d.Advocates, d.Cleared, d.Advocates-d.Cleared), 10, true)
	if d.Lapsing30 > 0 {
		r.paragraph(fmt.Sprintf("%d requirements fall due within 30 days.", d.Lapsing30), 10, false)
	}
	r.pdf.SetY(r.pdf.GetY() + 1)
	counts := r.table(9, pdfColumn{"", 70}, pdfColumn{"", 36}, pdfColumn{"", 36}, pdfColumn{"", 36}, pdfColumn{"", 36})
	row := []pdfCell{{Text: []string{"Advocates by overall state", "(their worst requirement)"}, Bold: true}}
	for _, st := range []State{Met, DueSoon, Missing, Overdue} {
		row = append(row, pdfCell{Text: []string{fmt.Sprintf("%s: %d", st.Label(), d.Counts[st])}, Bold: true, State: st})
	}
	counts.row(row...)
	r.pdf.SetY(r.pdf.GetY() + 3)
	r.paragraph("Each requirement shows its state and the date it falls due. Cleared for allocation: DBS check, references and mandatory training are in force.", 8, false)
	r.pdf.SetY(r.pdf.GetY() + 2)

	// Columns: requirements as wide as their longest date, the rest
	// shared between the name and what is due next.
	size := 7.5
	reqW := r.dateWidth(size)
	r.font(size, true, black)
	clearedW := r.pdf.GetStringWidth("Cleared") + 2*r.cMargin + 1
	overallW := r.pdf.GetStringWidth("Due soon") + 2*r.cMargin + 2
	rest := r.width - clearedW - overallW - float64(len(RequirementKeys))*reqW
	cols := []pdfColumn{{"Advocate", rest * 0.55}, {"Cleared", clearedW}, {"Overall", overallW}}
	for _, k := range RequirementKeys {
		cols = append(cols, pdfColumn{RequirementLabels[k], reqW})
	}
	cols = append(cols, pdfColumn{"Next due", rest * 0.45})
	t := r.table(size, cols...)
	for _, row := range d.Rows {
		cells := []pdfCell{{Text: []string{row.Name, Label(row.Status)}, Bold: true}, plain(yesNo(row.Cleared)), stateCell(row.Overall)}
		for _, k := range RequirementKeys {
			if due := row.Due[k]; due != nil {
				cells = append(cells, stateCell(row.States[k], dateText(due)))
			} else {
				cells = append(cells, stateCell(row.States[k]))
			}
		}
		key, due := row.Next()
		t.row(append(cells, plain(nextDue(key, due, now)...))...)
	}
	if len(d.Rows) == 0 {
		r.paragraph("No advocates.", 9, false)
	}

	// Update Service status checks whose last result was not a clean pass.
	var unclean []Row
	for _, row := range d.Rows {
		if sc := row.LastStatusCheck; sc != nil && !sc.Clean() {
			unclean = append(unclean, row)
		}
	}
	if len(unclean) > 0 {
		r.pdf.SetY(r.pdf.GetY() + 3)
		r.heading("DBS status checks that were not a clean pass")
		r.paragraph("The last Update Service status check of each advocate below found new information or no match, or could not be made.", 8, false)
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Advocate", 60}, pdfColumn{"Checked", dw}, pdfColumn{"By", 30}, pdfColumn{"Result", r.width - 90 - dw})
		for _, row := range unclean {
			sc := row.LastStatusCheck
			by := "A manager"
			if sc.Auto {
				by = "Automatic check"
			}
			result := sc.Words
			if sc.Action {
				result = "Action needed: " + result
			}
			t.row(pdfCell{Text: []string{row.Name}, Bold: true}, plain(dateText(&sc.At)), plain(by), plain(result))
		}
	}
	return r.output()
}

// AdvocateReport renders one advocate's compliance report: the summary,
// each requirement with its state, due date and reason, then the records.
func (s *Service) AdvocateReport(orgName string, a *Advocate, now time.Time) ([]byte, error) {
	r := s.newReport("P", "Compliance report: "+a.Name, orgName+" · "+a.Name, now)
	r.font(16, true, black)
	r.pdf.SetY(r.lines(r.left, r.pdf.GetY(), r.width, r.wrap(a.Name, r.width), lineHeight(16), "L") + 2)

	// Summary.
	profession := Label(a.Profession)
	if a.ProfessionalBody != "" {
		profession += " (" + a.ProfessionalBody + ")"
	}
	cleared := "No: the DBS check, references and mandatory training must all be in force"
	if a.Snapshot.Cleared {
		cleared = "Yes: the DBS check, references and mandatory training are in force"
	}
	key, due := nextRequirement(a.Snapshot)
	sum := r.table(9, pdfColumn{"", 50}, pdfColumn{"", r.width - 50})
	for _, kv := range [][2]string{{"Profession", profession}, {"Status", Label(a.Status)}, {"Contract start", dateText(a.ContractStart)},
		{"Registration renewal", dateText(a.RegistrationDue)}, {"Cleared for allocation", cleared}} {
		sum.row(pdfCell{Text: []string{kv[0]}, Bold: true}, plain(kv[1]))
	}
	sum.row(pdfCell{Text: []string{"Overall"}, Bold: true}, stateCell(a.Snapshot.Overall))
	sum.row(pdfCell{Text: []string{"Next due"}, Bold: true}, plain(strings.Join(nextDue(key, due, now), ", ")))

	// Requirements.
	r.heading("Requirements")
	dw := r.dateWidth(9)
	t := r.table(9, pdfColumn{"Requirement", 36}, pdfColumn{"State", 22}, pdfColumn{"Due", dw}, pdfColumn{"Why", r.width - 58 - dw})
	for _, q := range a.Snapshot.Requirements {
		when := []string{dateText(q.Due)}
		if q.Due != nil {
			when = append(when, relative(q.Due, now))
		}
		t.row(pdfCell{Text: []string{RequirementLabels[q.Key]}, Bold: true}, stateCell(q.State), plain(when...), plain(q.Reason))
	}

	// CPD, newest first.
	r.heading("CPD")
	pr := Progress(s.Policy.Rule(a.Profession), a.CPD, now)
	r.paragraph(pr.Summary+" ("+pr.Period.Label()+")", 9, false)
	r.pdf.SetY(r.pdf.GetY() + 1)
	if len(a.CPD) == 0 {
		r.paragraph("No CPD recorded.", 9, false)
	} else {
		cpd := slices.Clone(a.CPD)
		sort.SliceStable(cpd, func(i, j int) bool { return cpd[i].Date.After(cpd[j].Date) })
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Date", dw}, pdfColumn{"Title", r.width - 64 - 2*dw}, pdfColumn{"Type", 32}, pdfColumn{"Hours", 14}, pdfColumn{"With a peer", 18}, pdfColumn{"Verified", dw})
		for _, e := range cpd {
			verified := "Not verified"
			if e.VerifiedAt != nil {
				verified = e.VerifiedBy + ", " + dateText(e.VerifiedAt)
			}
			t.row(plain(dateText(&e.Date)), plain(e.Title), plain(Label(e.Type)), pdfCell{Text: []string{trimFloat(e.Hours)}, Align: "R"}, plain(yesNo(e.Reflective())), plain(verified))
		}
	}

	// DBS checks: never the certificate number or the decision notes.
	r.heading("DBS checks")
	if len(a.DBS) == 0 {
		r.paragraph("No DBS check recorded.", 9, false)
	} else {
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Issued", dw}, pdfColumn{"Level", 22}, pdfColumn{"Workforce", 28}, pdfColumn{"Barred lists", r.width - 108 - dw}, pdfColumn{"Update Service", 22}, pdfColumn{"Decision", 36})
		for _, c := range a.DBS {
			lists := "None checked"
			if len(c.BarredLists) > 0 {
				lists = BarredListsText(c.BarredLists)
				lists = strings.ToUpper(lists[:1]) + lists[1:]
			}
			decision := []string{"Awaiting a decision"}
			if c.Decision != "" {
				decision = []string{Label(c.Decision)}
				if c.DecisionAt != nil {
					decision = append(decision, dateText(c.DecisionAt))
				}
			}
			update := []string{yesNo(c.UpdateService)}
			if e := c.LastEntry(); e != nil {
				update = append(update, "Last status check "+dateText(&e.Date)+": "+e.Words())
			}
			t.row(plain(dateText(&c.IssueDate)), plain(Label(c.Level)), plain(Label(c.Workforce)), plain(lists), plain(update...), plain(decision...))
		}
	}

	// References: never the referee's contact details or the notes.
	r.heading("References")
	if len(a.References) == 0 {
		r.paragraph("No references recorded.", 9, false)
	} else {
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Referee", 44}, pdfColumn{"Relationship", r.width - 104 - 2*dw}, pdfColumn{"Received", dw}, pdfColumn{"Outcome", 30}, pdfColumn{"Verified", 30 + dw})
		for _, f := range a.References {
			rel := f.Relationship
			if f.Organisation != "" {
				rel += ", " + f.Organisation
			}
			received := "Not yet"
			if f.ReceivedAt != nil {
				received = dateText(f.ReceivedAt)
			} else if f.RequestedAt != nil {
				received = "Requested " + dateText(f.RequestedAt)
			}
			verified := "Not verified"
			if f.VerifiedAt != nil {
				verified = f.VerifiedBy + ", " + dateText(f.VerifiedAt)
			}
			outcome := Label(f.Outcome)
			if outcome == "" {
				outcome = "Not recorded"
			}
			t.row(plain(f.Referee), plain(rel), plain(received), plain(outcome), plain(verified))
		}
	}

	// Supervision: never the notes.
	r.heading("Supervision")
	if len(a.Supervisions) == 0 {
		r.paragraph("No supervision recorded.", 9, false)
	} else {
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Date", dw}, pdfColumn{"Supervisor", r.width - 40 - dw}, pdfColumn{"Kind", 40})
		for _, v := range a.Supervisions {
			t.row(plain(dateText(&v.Date)), plain(v.Supervisor), plain(Label(v.Kind)))
		}
	}

	// Training completed.
	if len(a.Training) > 0 {
		r.heading("Training completed")
		slugs := make([]string, 0, len(a.Training))
		for slug := range a.Training {
			slugs = append(slugs, slug)
		}
		sort.Strings(slugs)
		dw := r.dateWidth(8.5)
		t := r.table(8.5, pdfColumn{"Course", r.width - dw}, pdfColumn{"Completed", dw})
		for _, slug := range slugs {
			title, done := slug, a.Training[slug]
			if s.Catalogue != nil {
				title = s.CourseTitle(slug)
			}
			t.row(plain(title), plain(dateText(&done)))
		}
	}
	return r.output()
}
