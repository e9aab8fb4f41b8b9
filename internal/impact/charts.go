package impact

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/jung-kurt/gofpdf"
)

// The charts are grouped horizontal bars: a row of two bars per outcome or
// month, so every label and "fewer than 5 responses" has room at any
// number of rows. The two series differ in colour and in pattern (the
// first hatched, the second solid), so a greyscale print tells them apart;
// both colours have more than 3:1 contrast against white. The same chart
// is drawn as SVG for the page and with rectangles in the PDF.

// series is one of a chart's two bars.
type series struct {
	Name  string
	RGB   [3]int // 4.3:1 and 8.1:1 against white
	Hatch bool
}

// colour is the series' colour as "#rrggbb".
func (s series) colour() string { return fmt.Sprintf("#%02x%02x%02x", s.RGB[0], s.RGB[1], s.RGB[2]) }

var chartSeries = [2]series{{RGB: [3]int{0xc0, 0x5f, 0x00}, Hatch: true}, {RGB: [3]int{0x1d, 0x4f, 0x91}}}

// chartRow is one group of bars: a short label on the chart, a long one
// for the description.
type chartRow struct {
	Label, Long string
	Values      [2]Figure
}

// chart is what both renderings draw.
type chart struct {
	Title  string
	Series [2]series
	Rows   []chartRow
	Max    float64
	Ticks  []float64
	Tick   func(float64) string
	Value  func(Figure) string
	Unit   string // after a value in the description: " out of 5"
}

func confidenceData(r *Report) chart {
	c := chart{Title: "Mean confidence before and after the course, by outcome (1 to 5)", Series: chartSeries, Max: 5,
		Ticks: []float64{0, 1, 2, 3, 4, 5}, Tick: func(v float64) string { return strconv.Itoa(int(v)) }, Value: Mean, Unit: " out of 5"}
	c.Series[0].Name, c.Series[1].Name = "Before the course", "After passing"
	for i, o := range r.Outcomes {
		label := fmt.Sprintf("Outcome %d", i+1)
		c.Rows = append(c.Rows, chartRow{Label: label, Long: label + " (" + o.Text + ")", Values: [2]Figure{o.Before, o.After}})
	}
	return c
}

func trendData(r *Report) chart {
	c := chart{Title: "Found it helpful and changed practice at follow-up, by month of enrolment (%)", Series: chartSeries, Max: 100,
		Ticks: []float64{0, 25, 50, 75, 100}, Tick: func(v float64) string { return strconv.Itoa(int(v)) + "%" }, Value: Percent}
	c.Series[0].Name, c.Series[1].Name = "Found it helpful", "Changed practice at follow-up"
	for _, m := range r.Months {
		label := monthLabel(m.Month, "Jan 2006")
		c.Rows = append(c.Rows, chartRow{Label: label, Long: label, Values: [2]Figure{m.Helpful, m.Changed}})
	}
	return c
}

// desc is every value of the chart in words.
func (c chart) desc() string {
	var out []string
	for _, row := range c.Rows {
		var vs []string
		for i, s := range c.Series {
			v := c.Value(row.Values[i])
			if row.Values[i].Shown() {
				v += c.Unit
			}
			vs = append(vs, s.Name+" "+v)
		}
		out = append(out, row.Long+": "+strings.Join(vs, ", "))
	}
	if len(out) == 0 {
		return "No data."
	}
	return strings.Join(out, "; ") + "."
}

// ConfidenceChart draws the mean confidence before and after the course
// against each outcome (0–5), labelled "Outcome 1", "Outcome 2"… (the
// page's table has their text; the description has both).
func ConfidenceChart(r *Report) template.HTML {
	return confidenceData(r).svg("impact-hatch-confidence")
}

// TrendChart draws, per month of enrolment, the share who found the course
// helpful and the share who changed their practice by the follow-up.
func TrendChart(r *Report) template.HTML { return trendData(r).svg("impact-hatch-trend") }

// svg renders the chart; hatch is the id of its pattern, unique on a page.
func (c chart) svg(hatch string) template.HTML {
	// Narrow and with large text, so that on a phone (where it shrinks to
	// about 360 px) its words stay readable; a legend item per line.
	const w, x0, x1, barH, gap, rowH, legendH = 420.0, 92.0, 372.0, 18.0, 3.0, 50.0, 22.0
	y0 := 8 + legendH*float64(len(c.Series)) + 24
	h := y0 + rowH*float64(len(c.Rows)) + 6
	esc := template.HTMLEscapeString
	halo := ` stroke="#ffffff" stroke-width="3" paint-order="stroke"` // a value stays legible over the gridlines
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title><desc>%s</desc>`,
		w, h, esc(c.Title), esc(c.Title), esc(c.desc()))
	fill := func(s series) string {
		if s.Hatch {
			return fmt.Sprintf(`fill="url(#%s)" stroke="%s" stroke-width="1.5"`, hatch, s.colour())
		}
		return fmt.Sprintf(`fill="%s"`, s.colour())
	}
	fmt.Fprintf(&b, `<defs><pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="%s"/></pattern></defs>`, hatch, c.Series[0].colour())
	// Legend, in words.
	for k, s := range c.Series {
		ly := 8 + legendH*float64(k)
		fmt.Fprintf(&b, `<rect x="8" y="%.0f" width="20" height="14" %s/><text x="36" y="%.0f" font-size="15" fill="#1b1f24">%s</text>`, ly, fill(s), ly+12, esc(s.Name))
	}
	// Scale: a gridline and label per tick.
	scale := (x1 - x0) / c.Max
	for _, t := range c.Ticks {
		x := x0 + t*scale
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#d0d4d9"/>`, x, y0-4, x, h-6)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="14" text-anchor="middle" fill="#1b1f24">%s</text>`, x, y0-10, esc(c.Tick(t)))
	}
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#4a535e"/>`, x0, y0-4, x0, h-6)
	for i, row := range c.Rows {
		top := y0 + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="15" text-anchor="end" fill="#1b1f24">%s</text>`, x0-8, top+barH+gap/2+5, esc(row.Label))
		for j, f := range row.Values {
			y := top + float64(j)*(barH+gap)
			if !f.Shown() {
				fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="14" fill="#1b1f24"%s>%s</text>`, x0+6, y+barH-4, halo, esc(c.Value(f)))
				continue
			}
			bw := max(0, min(f.Value, c.Max)) * scale
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" %s/>`, x0, y, bw, barH, fill(c.Series[j]))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="14" fill="#1b1f24"%s>%s</text>`, x0+bw+4, y+barH-4, halo, esc(c.Value(f)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

// pdf draws the chart in the summary: its title, legend, scale and bars.
func (c chart) pdf(s *summary) {
	const labelW, valueW, barH, gap, rowH, size = 24.0, 16.0, 4.2, 0.8, 12.2, 8.0
	p := s.pdf
	s.heading(c.Title)
	x0, x1 := s.left+labelW, s.left+s.width-valueW
	scale := (x1 - x0) / c.Max
	// Legend, in words.
	x, y := x0, p.GetY()
	for _, sr := range c.Series {
		bar(p, sr, x, y+0.4, 7, 3.4)
		s.font(size, false, 0)
		p.SetXY(x+8, y)
		p.CellFormat(p.GetStringWidth(sr.Name)+2*s.cm, lineHeight(size), sr.Name, "", 0, "L", false, 0, "")
		x += 8 + p.GetStringWidth(sr.Name) + 10
	}
	ticks := func() {
		s.font(size, false, 0)
		y := p.GetY() + lineHeight(size) + 1
		for _, t := range c.Ticks {
			p.SetXY(x0+t*scale-10, y)
			p.CellFormat(20, lineHeight(size), c.Tick(t), "", 0, "C", false, 0, "")
		}
		p.SetY(y + lineHeight(size) + 1)
	}
	ticks()
	for _, row := range c.Rows {
		if s.need(rowH) {
			ticks()
		}
		top := p.GetY()
		p.SetDrawColor(208, 212, 217)
		p.SetLineWidth(0.2)
		for _, t := range c.Ticks {
			p.Line(x0+t*scale, top, x0+t*scale, top+rowH)
		}
		p.SetDrawColor(74, 83, 94)
		p.Line(x0, top, x0, top+rowH)
		s.font(size, false, 0)
		p.SetXY(s.left, top+barH+gap/2-lineHeight(size)/2)
		p.CellFormat(labelW-1, lineHeight(size), row.Label, "", 0, "R", false, 0, "")
		for j, f := range row.Values {
			y := top + float64(j)*(barH+gap)
			tx := x0 + 1
			if f.Shown() {
				bw := max(0, min(f.Value, c.Max)) * scale
				bar(p, c.Series[j], x0, y, bw, barH)
				tx = x0 + bw + 0.5
			}
			s.font(size, false, 0)
			p.SetFillColor(255, 255, 255) // over the gridlines
			p.SetXY(tx, y+barH/2-lineHeight(size)/2)
			p.CellFormat(p.GetStringWidth(c.Value(f))+2*s.cm, lineHeight(size), c.Value(f), "", 0, "L", true, 0, "")
		}
		p.SetY(top + rowH)
	}
}

// bar draws one bar in a series' style: solid, or hatched in its colour
// with an outline.
func bar(p *gofpdf.Fpdf, sr series, x, y, w, h float64) {
	p.SetDrawColor(sr.RGB[0], sr.RGB[1], sr.RGB[2])
	p.SetFillColor(sr.RGB[0], sr.RGB[1], sr.RGB[2])
	if !sr.Hatch {
		p.Rect(x, y, w, h, "F")
		return
	}
	p.ClipRect(x, y, w, h, false)
	p.SetLineWidth(0.5)
	for d := 0.0; d < w+h; d += 1.3 {
		p.Line(x+d-h, y+h, x+d, y)
	}
	p.ClipEnd()
	p.SetLineWidth(0.35)
	p.Rect(x, y, w, h, "D")
}
