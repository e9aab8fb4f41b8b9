package live

import (
	"bytes"
	"fmt"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/pdftext"
	"time"

	"github.com/jung-kurt/gofpdf"

	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

// signInNote ends every page of a sign-in sheet.
const signInNote = "Keep this sheet securely; it is destroyed with the session's records."

// walkIns is how many blank rows a sign-in sheet ends with, for people
// who come without a booking.
const walkIns = 5

// signInHead is the table's header row, repeated on each page.
var signInHead = []string{"Name", "Signature", "Arrived", "Left"}

// sheet is a sign-in sheet being written, with its page furniture.
type sheet struct {
	pdf         *gofpdf.Fpdf
	left, width float64 // the printable column, mm
	bottom      float64 // where a page's rows must end, mm
	cm          float64 // cell margin, mm
	widths      []float64
	running     string // the header of the pages after the first
	produced    string // "3 July 2027"
}

// SignInSheet is an in-person session's A4 sign-in sheet for the room: a
// row to sign for each person with a place, by name, then blank rows for
// walk-ins, produced at produced for orgName ("" for none) in the TrueType
// fonts regular and bold. An online session has none.
func SignInSheet(s *Session, orgName string, produced time.Time, regular, bold []byte) ([]byte, error) {
	if s.Mode == Online {
		return nil, errs.E(errs.ECONFLICT, "Online sessions have no sign-in sheet.")
	}
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.AliasNbPages("") // before the fonts, so the subset keeps the digits
	pdf.SetCreationDate(produced)
	pdf.SetModificationDate(produced)
	pdf.SetCatalogSort(true) // the fonts in a fixed order: the same sheet, the same bytes
	title := "Sign-in sheet: " + s.Title
	pdf.SetTitle(title, true)
	pdf.SetAuthor("Family Advocacy Learning", true)
	pdf.AddUTF8FontFromBytes("body", "", regular)
	pdf.AddUTF8FontFromBytes("body", "B", bold)
	pdf.SetMargins(15, 12, 15)
	pdf.SetAutoPageBreak(false, 0) // rows break pages themselves (see row)
	pw, ph := pdf.GetPageSize()
	width := pw - 30
	sh := &sheet{pdf: pdf, left: 15, width: width, bottom: ph - 22, cm: pdf.GetCellMargin(),
		widths:  []float64{width * 0.4, width * 0.3, width * 0.15, width * 0.15},
		running: title + " · " + When(s), produced: produced.In(civil.London).Format("2 January 2006")}
	pdf.SetHeaderFunc(sh.header)
	pdf.SetFooterFunc(sh.footer)
	pdf.AddPage()

	// The heading: what, when, where and for whom.
	sh.paragraph(title, 16, true)
	sh.paragraph(When(s), 10, false)
	sh.paragraph(Where(s), 10, false)
	if orgName != "" {
		sh.paragraph(orgName, 10, false)
	}
	booked := s.With(Booked)
	sh.paragraph(fmt.Sprintf("%d booked. Please sign when you arrive and note the times you arrive and leave. If you have not booked, add your name in a blank row at the end.", len(booked)), 9, false)
	pdf.SetY(pdf.GetY() + 2)

	// The table: the booked by name, then the blank rows.
	sh.row(signInHead, true)
	for _, b := range booked {
		sh.row([]string{certificates.Visual(b.Name), "", "", ""}, false) // right-to-left names shaped and in visual order
	}
	for range walkIns {
		sh.row([]string{"", "", "", ""}, false)
	}

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("live: sign-in sheet %s: %w", s.ID, err)
	}
	return buf.Bytes(), nil
}

// header prints the running title on the pages after the first.
func (sh *sheet) header() {
	if sh.pdf.PageNo() == 1 {
		return
	}
	sh.font(8, true)
	y := sh.lines(sh.left, 8, sh.width, sh.wrap(sh.running, sh.width), "L")
	sh.pdf.SetDrawColor(120, 120, 120)
	sh.pdf.SetLineWidth(0.2)
	sh.pdf.Line(sh.left, y+1, sh.left+sh.width, y+1)
	sh.pdf.SetY(y + 4)
}

// footer prints the note on keeping the sheet, the date produced and
// "Page n of m".
func (sh *sheet) footer() {
	_, ph := sh.pdf.GetPageSize()
	y := ph - 18
	sh.pdf.SetDrawColor(120, 120, 120)
	sh.pdf.SetLineWidth(0.2)
	sh.pdf.Line(sh.left, y, sh.left+sh.width, y)
	sh.font(8, false)
	y = sh.lines(sh.left, y+1, sh.width, sh.wrap(signInNote, sh.width), "L")
	sh.lines(sh.left, y, sh.width, []string{"Produced " + sh.produced}, "L")
	sh.lines(sh.left, y, sh.width, []string{fmt.Sprintf("Page %d of {nb}", sh.pdf.PageNo())}, "R")
}

// lineHeightMM is the height of a line of text size points high.
func lineHeightMM(size float64) float64 { return pdftext.LineHeight(size) }

// font sets the body font, black.
func (sh *sheet) font(size float64, bold bool) {
	sh.pdf.SetFont("body", map[bool]string{true: "B"}[bold], size)
	sh.pdf.SetTextColor(0, 0, 0)
}

// lines prints lines from (x, y) in the current font and returns the y
// below them.
func (sh *sheet) lines(x, y, w float64, lines []string, align string) float64 {
	size, _ := sh.pdf.GetFontSize()
	for _, l := range lines {
		sh.pdf.SetXY(x, y)
		sh.pdf.CellFormat(w, lineHeightMM(size), l, "", 0, align, false, 0, "")
		y += lineHeightMM(size)
	}
	return y
}

// wrap breaks text into lines that fit a cell w wide in the current font,
// at spaces, and inside a word only when it is longer than a line.
func (sh *sheet) wrap(text string, w float64) []string {
	limit := w - 2*sh.cm
	return pdftext.Wrap(text, func(t string) bool { return sh.pdf.GetStringWidth(t) <= limit })
}

// paragraph prints wrapped text.
func (sh *sheet) paragraph(text string, size float64, bold bool) {
	sh.font(size, bold)
	sh.pdf.SetY(sh.lines(sh.left, sh.pdf.GetY(), sh.width, sh.wrap(text, sh.width), "L") + 1)
}

// row prints one ruled row of the table, tall enough to write in; a row
// that does not fit starts a new page under the header row again.
func (sh *sheet) row(cells []string, head bool) {
	const size, pad, writeIn = 9.0, 1.2, 9.0
	sh.font(size, head)
	wrapped := make([][]string, len(cells))
	most := 1
	for i, c := range cells {
		wrapped[i] = sh.wrap(c, sh.widths[i])
		most = max(most, len(wrapped[i]))
	}
	h := float64(most)*lineHeightMM(size) + 2*pad
	if !head {
		h = max(h, writeIn)
	}
	// A header row keeps at least one row below it.
	if sh.pdf.GetY()+h+map[bool]float64{true: writeIn}[head] > sh.bottom {
		sh.pdf.AddPage()
		if !head {
			sh.row(signInHead, true)
			sh.font(size, false)
		}
	}
	x, y := sh.left, sh.pdf.GetY()
	sh.pdf.SetDrawColor(120, 120, 120)
	sh.pdf.SetFillColor(225, 225, 225)
	sh.pdf.SetLineWidth(0.3)
	for i, lines := range wrapped {
		sh.pdf.Rect(x, y, sh.widths[i], h, map[bool]string{true: "FD", false: "D"}[head])
		sh.lines(x, y+pad, sh.widths[i], lines, "L")
		x += sh.widths[i]
	}
	sh.pdf.SetY(y + h)
}
