package certificates

// This is the only file that uses gofpdf (github.com/jung-kurt/gofpdf,
// archived upstream): switching to its maintained fork codeberg.org/go-pdf/fpdf
// is an import change here.
//
// Fonts. gofpdf's UTF-8 path parses and subsets the TrueType font for every
// document (about 16 ms for DejaVu Sans). Instead, the renderer has gofpdf
// cut DejaVu down, once, to the characters of six Windows code pages
// (Western, Central European, Baltic, Cyrillic, Greek, Turkish) and of
// extra pages holding every other Latin, Greek, Cyrillic, Hebrew and Arabic letter and
// combining accent DejaVu has, and wraps each cut in a single-byte font
// definition whose glyph names (uniXXXX) let viewers and text extraction map
// codes back to Unicode. A document embeds only the pages its text uses and
// writes each run of text in the first page that has all its characters, so
// names like "Zoë Łukasiewicz-Ørsted" or "Oluwaseun Adébáyọ̀" mix pages within
// a line; Hebrew and Arabic names are first put into visual order, Arabic
// letters joined (bidi.go). Text in another script (Armenian, Georgian...)
// falls back to gofpdf's UTF-8 path for the whole document: slower, still
// correct.

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/text/encoding/charmap"
)

// Document is what one certificate PDF shows.
type Document struct {
	Code          string
	Name          string // exactly as on the account, any Unicode
	OrgName       string
	CourseTitle   string
	CourseVersion string
	Live          bool // a live session attended, not a course passed
	Completed     time.Time
	CPDHours      float64
	Expires       time.Time // zero: no expiry
	VerifyURL     string
	Issued        time.Time // PDF creation date; fixed so rendering is repeatable
	// QR is the QR code of VerifyURL, made once per certificate and kept
	// with it; when nil or for another URL, Render makes it.
	QR *QRCode
}

// codePage is one single-byte font: up to 224 characters of DejaVu, one
// code each. The first six are Windows code pages; the rest are made up of
// the characters in extraRanges that none of those six has (Vietnamese and
// Yoruba letters, combining accents, IPA, more Greek and Cyrillic), 128 to a
// page beside ASCII in its usual place, so a run rarely changes font. A
// page's fonts are cut the first time a document uses it.
type codePage struct {
	id     string // family name in documents, e.g. "cp1250", "x1"
	decode [256]rune
	encode map[rune]byte // the characters the font has in both styles

	once    sync.Once
	err     error
	defJSON map[string][]byte // by style: "" or "B"
	cutZ    map[string][]byte // by style: the font cut to this page, zlib-compressed
}

func newPage(id string) *codePage {
	p := &codePage{id: id, encode: map[rune]byte{}}
	for b := range p.decode {
		p.decode[b] = '\ufffd'
	}
	return p
}

// Renderer renders certificates with DejaVu Sans (regular and bold).
type Renderer struct {
	fonts   map[string][]byte         // by style: the full TrueType font, for the last-resort UTF-8 path
	metrics map[string]gofpdf.TtfType // by style
	pages   []*codePage
}

// NewRenderer parses the fonts and lays out the code pages once; each
// page's fonts are cut when a document first needs them.
func NewRenderer(regular, bold []byte) (*Renderer, error) {
	r := &Renderer{fonts: map[string][]byte{"": regular, "B": bold}, metrics: map[string]gofpdf.TtfType{}}
	for style, ttf := range r.fonts {
		m, err := parseMetrics(ttf)
		if err != nil {
			return nil, err
		}
		r.metrics[style] = m
	}
	inFont := func(ru rune) bool {
		for _, m := range r.metrics {
			if _, ok := m.Chars[uint16(ru)]; !ok || ru > 0xffff {
				return false
			}
		}
		return true
	}
	covered := map[rune]bool{}
	for _, cp := range []struct {
		id string
		cm *charmap.Charmap
	}{
		{"cp1252", charmap.Windows1252}, {"cp1250", charmap.Windows1250}, {"cp1257", charmap.Windows1257},
		{"cp1251", charmap.Windows1251}, {"cp1253", charmap.Windows1253}, {"cp1254", charmap.Windows1254},
	} {
		p := newPage(cp.id)
		for b := 32; b < 256; b++ {
			ru := cp.cm.DecodeByte(byte(b))
			p.decode[b] = ru
			if ru != '\ufffd' && inFont(ru) {
				p.encode[ru], covered[ru] = byte(b), true
			}
		}
		r.pages = append(r.pages, p)
	}
	var extra []rune
	for _, rg := range extraRanges {
		for ru := rg[0]; ru <= rg[1]; ru++ {
			if !covered[ru] && inFont(ru) {
				extra = append(extra, ru)
			}
		}
	}
	for i := 1; len(extra) > 0; i++ {
		p := newPage("x" + strconv.Itoa(i))
		for b := 32; b < 127; b++ {
			p.decode[b], p.encode[rune(b)] = rune(b), byte(b)
		}
		n := min(len(extra), 128)
		for j, ru := range extra[:n] {
			p.decode[128+j], p.encode[ru] = ru, byte(128+j)
		}
		extra = extra[n:]
		r.pages = append(r.pages, p)
	}
	return r, nil
}

// load cuts the page's fonts, once.
func (p *codePage) load(r *Renderer) error {
	p.once.Do(func() { p.err = p.cut(r) })
	return p.err
}

func (p *codePage) cut(r *Renderer) error {
	charset := make([]rune, 0, len(p.encode))
	for ru := range p.encode {
		charset = append(charset, ru)
	}
	slices.Sort(charset)
	p.defJSON, p.cutZ = map[string][]byte{}, map[string][]byte{}
	for style, ttf := range r.fonts {
		cut, err := cutFont(ttf, charset)
		if err != nil {
			return err
		}
		// The name table (copyright and licence strings, 15 KB) is not
		// needed to show the glyphs; the licence ships with the app.
		if cut, err = dropTables(cut, "name"); err != nil {
			return err
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(cut)
		zw.Close()
		p.cutZ[style] = z.Bytes()
		if p.defJSON[style], err = p.fontDef(r.metrics[style], style, len(cut)); err != nil {
			return err
		}
	}
	return nil
}

// parseMetrics reads the font's metrics with gofpdf's TrueType parser.
func parseMetrics(ttf []byte) (gofpdf.TtfType, error) {
	f, err := os.CreateTemp("", "lms-font-*.ttf")
	if err != nil {
		return gofpdf.TtfType{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(ttf); err != nil {
		f.Close()
		return gofpdf.TtfType{}, err
	}
	f.Close()
	m, err := gofpdf.TtfParse(f.Name())
	if err != nil {
		return m, fmt.Errorf("certificates: parse font: %w", err)
	}
	return m, nil
}

var (
	fontFileRE = regexp.MustCompile(`<</Length (\d+)\n/Filter /FlateDecode\n/Length1 (\d+)\n>>\nstream\n`)
)

// cutFont has gofpdf subset ttf to the given characters (its UTF-8 path
// keeps a cmap from character to the new glyphs) and returns the subset font.
func cutFont(ttf []byte, charset []rune) ([]byte, error) {
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("cut", "", ttf)
	pdf.AddPage()
	pdf.SetFont("cut", "", 10)
	// One cell per character: Write would treat spaces as line breaks and
	// leave them out of the cut font.
	for _, ru := range charset {
		pdf.CellFormat(5, 5, string(ru), "", 0, "L", false, 0, "")
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("certificates: cut font: %w", err)
	}
	b := out.Bytes()
	m := fontFileRE.FindSubmatchIndex(b)
	if m == nil {
		return nil, errors.New("certificates: cut font: no font stream in gofpdf's output")
	}
	n, _ := strconv.Atoi(string(b[m[2]:m[3]]))
	size, _ := strconv.Atoi(string(b[m[4]:m[5]]))
	zr, err := zlib.NewReader(bytes.NewReader(b[m[1] : m[1]+n]))
	if err != nil {
		return nil, fmt.Errorf("certificates: cut font: %w", err)
	}
	cut, err := io.ReadAll(zr)
	if err != nil || len(cut) != size {
		return nil, fmt.Errorf("certificates: cut font: %d of %d bytes: %v", len(cut), size, err)
	}
	return cut, nil
}

// fontDef returns gofpdf's JSON font definition for this code page: widths
// from the full font, glyph names uniXXXX for the upper half so viewers and
// text extraction map each code to its Unicode character.
func (p *codePage) fontDef(m gofpdf.TtfType, style string, cutSize int) ([]byte, error) {
	scale := func(v int) int { return int(float64(v) * 1000 / float64(m.UnitsPerEm)) }
	width := func(ru rune) int {
		if g, ok := m.Chars[uint16(ru)]; ok && int(g) < len(m.Widths) {
			return scale(int(m.Widths[g]))
		}
		return scale(int(m.Widths[0]))
	}
	cw := make([]int, 256)
	var diff strings.Builder
	for b := 0; b < 256; b++ {
		ru := p.decode[b]
		if b < 32 || ru == '\ufffd' {
			cw[b] = width(' ')
			continue
		}
		cw[b] = width(ru)
		if b >= 128 && p.id != "cp1252" {
			fmt.Fprintf(&diff, "%d /uni%04X ", b, ru)
		}
	}
	stemV := 70
	if style == "B" {
		stemV = 120
	}
	name := strings.ReplaceAll(m.PostScriptName, " ", "")
	def := map[string]any{
		"Tp": "TrueType", "Name": subsetTag(p.id+style) + "+" + name,
		"Desc": map[string]any{
			"Ascent": scale(int(m.TypoAscender)), "Descent": scale(int(m.TypoDescender)), "CapHeight": scale(int(m.CapHeight)),
			"Flags": 32, "ItalicAngle": int(m.ItalicAngle), "StemV": stemV, "MissingWidth": width(' '),
			"FontBBox": map[string]int{"Xmin": scale(int(m.Xmin)), "Ymin": scale(int(m.Ymin)), "Xmax": scale(int(m.Xmax)), "Ymax": scale(int(m.Ymax))},
		},
		"Up": scale(int(m.UnderlinePosition)), "Ut": scale(int(m.UnderlineThickness)),
		"Cw": cw, "Enc": p.id, "Diff": strings.TrimSpace(diff.String()),
		"File": "dejavu-" + p.id + strings.ToLower(style) + ".z", "OriginalSize": cutSize,
	}
	return json.Marshal(def)
}

// writer draws text in the document's fonts: code-page runs, or the full
// UTF-8 font when some text needs it.
type writer struct {
	r     *Renderer
	pdf   *gofpdf.Fpdf
	utf8  bool
	added map[string]bool
}

func (w *writer) setFont(p *codePage, style string, size float64) {
	if w.utf8 {
		w.pdf.SetFont("utf8", style, size)
		return
	}
	if key := p.id + style; !w.added[key] {
		w.pdf.AddFontFromBytes(p.id, style, p.defJSON[style], p.cutZ[style])
		w.added[key] = true
	}
	w.pdf.SetFont(p.id, style, size)
}

// width returns the width of s in mm at the given style and size.
func (w *writer) width(s, style string, size float64) float64 {
	if w.utf8 {
		w.setFont(nil, style, size)
		return w.pdf.GetStringWidth(s)
	}
	rs, _ := w.r.runs(s)
	total := 0.0
	for _, rn := range rs {
		w.setFont(rn.page, style, size)
		total += w.pdf.GetStringWidth(rn.text)
	}
	return total
}

// text writes s with its left edge at x on the baseline box at y.
func (w *writer) text(x, y float64, s, style string, size float64, link string) {
	if w.utf8 {
		w.setFont(nil, style, size)
		w.pdf.SetXY(x, y)
		w.pdf.CellFormat(w.pdf.GetStringWidth(s), size*0.5, s, "", 0, "L", false, 0, link)
		return
	}
	rs, _ := w.r.runs(s)
	w.pdf.SetXY(x, y)
	for _, rn := range rs {
		w.setFont(rn.page, style, size)
		w.pdf.CellFormat(w.pdf.GetStringWidth(rn.text), size*0.5, rn.text, "", 0, "L", false, 0, link)
	}
}

// centered writes s centred across the page, shrinking it to fit maxWidth
// and wrapping it onto a second line when even that is too small.
func (w *writer) centered(pageWidth, y float64, s, style string, size, maxWidth float64) float64 {
	for size > 9 && w.width(s, style, size) > maxWidth {
		size -= 0.5
	}
	lines := []string{s}
	if w.width(s, style, size) > maxWidth {
		lines = splitInTwo(s)
	}
	for _, l := range lines {
		w.text((pageWidth-w.width(l, style, size))/2, y, l, style, size, "")
		y += size * 0.5
	}
	return y
}

// Render returns the certificate as an A4 landscape PDF. The same document
// always renders to the same bytes.
func (r *Renderer) Render(d Document) ([]byte, error) {
	pdf := gofpdf.New("L", "mm", "A4", "")
	pdf.SetCreationDate(d.Issued)
	pdf.SetModificationDate(d.Issued)
	pdf.SetCatalogSort(true)
	// The font file is compressed already; the page itself is a few KB, and
	// compressing it would cost a quarter of the rendering time.
	pdf.SetCompression(false)
	pdf.SetTitle("Certificate "+d.Code+": "+d.CourseTitle, true)
	pdf.SetAuthor(d.OrgName, true)
	pdf.SetSubject(fmt.Sprintf("%s completed %s (version %s)", d.Name, d.CourseTitle, d.CourseVersion), true)
	pdf.SetCreator("Family Advocacy Learning", true)
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)

	details := fmt.Sprintf("Course version %s  ·  Completed on %s  ·  %s CPD hours", d.CourseVersion, londonDate(d.Completed), strconv.FormatFloat(d.CPDHours, 'f', -1, 64))
	heading, achievement := "Certificate of completion", "has successfully completed the course"
	if d.Live {
		heading = "Certificate of attendance"
		details = fmt.Sprintf("Attended on %s  ·  %s CPD hours", londonDate(d.Completed), strconv.FormatFloat(d.CPDHours, 'f', -1, 64))
		achievement = "attended the live training"
	}
	verifyLine := "Check it is genuine: " + d.VerifyURL
	w := &writer{r: r, pdf: pdf, added: map[string]bool{}}
	// Drawn in visual order (right-to-left names reversed and joined); the
	// metadata above keeps the logical order, for search and extraction.
	name, org, title := visual(d.Name), visual(d.OrgName), visual(d.CourseTitle)
	for _, s := range []string{name, org, title, details, verifyLine, d.Code} {
		rs, ok := r.runs(s)
		if !ok {
			w.utf8 = true
			break
		}
		for _, rn := range rs {
			if err := rn.page.load(r); err != nil {
				return nil, err
			}
		}
	}
	if w.utf8 {
		pdf.AddUTF8FontFromBytes("utf8", "", r.fonts[""])
		pdf.AddUTF8FontFromBytes("utf8", "B", r.fonts["B"])
	}
	pdf.AddPage()
	const pw, ph = 297.0, 210.0

	// Frame.
	pdf.SetDrawColor(29, 79, 145)
	pdf.SetLineWidth(2.5)
	pdf.Rect(10, 10, pw-20, ph-20, "D")
	pdf.SetLineWidth(0.4)
	pdf.Rect(14, 14, pw-28, ph-28, "D")

	color := func(c [3]int) { pdf.SetTextColor(c[0], c[1], c[2]) }
	ink, brand, muted := [3]int{27, 31, 36}, [3]int{29, 79, 145}, [3]int{74, 83, 94}
	const wide = pw - 50
	color(brand)
	w.centered(pw, 24, org, "B", 14, wide)
	color(ink)
	w.centered(pw, 38, heading, "B", 30, wide)
	color(muted)
	w.centered(pw, 60, "This is to certify that", "", 13, wide)
	color(ink)
	w.centered(pw, 72, name, "B", 28, wide)
	color(muted)
	w.centered(pw, 93, achievement, "", 13, wide)
	color(brand)
	y := w.centered(pw, 104, title, "B", 19, wide)
	color(ink)
	y = w.centered(pw, y+5, details, "", 12, wide)
	if !d.Expires.IsZero() {
		w.centered(pw, y+1, "Valid until "+londonDate(d.Expires), "", 12, wide)
	}

	// QR code of the verification address, drawn as vector squares.
	q := d.QR
	if q == nil || q.URL != d.VerifyURL {
		var err error
		if q, err = EncodeQR(d.VerifyURL); err != nil {
			return nil, err
		}
	}
	drawQR(pdf, q, pw-64, ph-68, 42)
	color(muted)
	w.text(24, ph-52, "Certificate code", "", 10, "")
	color(ink)
	w.text(24, ph-46, d.Code, "B", 16, "")
	color(muted)
	w.text(24, ph-36, verifyLine, "", 10, d.VerifyURL)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("certificates: render %s: %w", d.Code, err)
	}
	return buf.Bytes(), nil
}

// drawQR draws a QR code at (x, y), size mm square, with a white quiet zone
// of four modules inside that square.
func drawQR(pdf *gofpdf.Fpdf, code *QRCode, x, y, size float64) {
	n := code.Size
	module := size / float64(n+8)
	pdf.SetFillColor(255, 255, 255)
	pdf.Rect(x, y, size, size, "F")
	pdf.SetFillColor(0, 0, 0)
	// Each horizontal run of dark modules becomes one rectangle, extended
	// down over the rows where the same run repeats.
	done := make([]bool, n*n)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !code.Dark(col, row) || done[row*n+col] {
				col++
				continue
			}
			start := col
			for col < n && code.Dark(col, row) && !done[row*n+col] {
				col++
			}
			same := func(r int) bool {
				for c := start; c < col; c++ {
					if !code.Dark(c, r) || done[r*n+c] {
						return false
					}
				}
				return (start == 0 || !code.Dark(start-1, r)) && (col == n || !code.Dark(col, r))
			}
			rows := 1
			for row+rows < n && same(row+rows) {
				for c := start; c < col; c++ {
					done[(row+rows)*n+c] = true
				}
				rows++
			}
			pdf.Rect(x+float64(start+4)*module, y+float64(row+4)*module, float64(col-start)*module, float64(rows)*module, "F")
		}
	}
}
