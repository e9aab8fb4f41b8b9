package server

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/family-advocacy/lms/internal/compliance"
)

// barChart renders a small accessible SVG bar chart; the same numbers are
// always in the page's text or tables too.
func barChart(title string, labels []string, values []float64, colours []string, unit string) template.HTML {
	const w, h, pad, bottom = 560.0, 200.0, 30.0, 36.0
	maxV := 0.0
	for _, v := range values {
		maxV = max(maxV, v)
	}
	if maxV == 0 {
		maxV = 1
	}
	var b strings.Builder
	var desc []string
	for i, l := range labels {
		desc = append(desc, fmt.Sprintf("%s: %s%s", l, trimNum(values[i]), unit))
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title><desc>%s</desc>`,
		w, h, template.HTMLEscapeString(title), template.HTMLEscapeString(title), template.HTMLEscapeString(strings.Join(desc, "; ")))
	n := float64(len(values))
	slot := (w - 2*pad) / n
	bar := slot * 0.7
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#4a535e"/>`, pad, h-bottom, w-pad, h-bottom)
	for i, v := range values {
		bh := (h - bottom - 20) * v / maxV
		x := pad + float64(i)*slot + (slot-bar)/2
		colour := "#1d4f91"
		if i < len(colours) && colours[i] != "" {
			colour = colours[i]
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, h-bottom-bh, bar, bh, colour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="#1b1f24">%s</text>`, x+bar/2, h-bottom-bh-4, trimNum(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="#1b1f24">%s</text>`, x+bar/2, h-bottom+16, template.HTMLEscapeString(labels[i]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

func trimNum(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

// trendChart renders the last 12 months' cleared-for-allocation count and
// overdue requirements as two lines (solid and dashed, so they differ
// without colour); a month with nothing recorded is a gap. The numbers
// are in a table beside it too.
func trendChart(points []compliance.MonthPoint) template.HTML {
	const w, h, pad, bottom, top = 560.0, 220.0, 34.0, 36.0, 24.0
	maxV := 1
	var desc []string
	for _, p := range points {
		if p.Recorded {
			maxV = max(maxV, p.Cleared, p.Overdue)
			desc = append(desc, fmt.Sprintf("%s: %d cleared, %d overdue", p.Label, p.Cleared, p.Overdue))
		} else {
			desc = append(desc, p.Label+": not recorded")
		}
	}
	title := "Advocates cleared for allocation and requirements overdue, last 12 months"
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title><desc>%s</desc>`,
		w, h, template.HTMLEscapeString(title), template.HTMLEscapeString(title), template.HTMLEscapeString(strings.Join(desc, "; ")))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#4a535e"/>`, pad, h-bottom, w-pad, h-bottom)
	slot := (w - 2*pad) / float64(max(len(points), 1))
	x := func(i int) float64 { return pad + slot*(float64(i)+0.5) }
	y := func(v int) float64 { return h - bottom - (h-bottom-top)*float64(v)/float64(maxV) }
	series := []struct {
		name, colour, dash string
		val                func(compliance.MonthPoint) int
	}{
		{"Cleared", "#00703c", "", func(p compliance.MonthPoint) int { return p.Cleared }},
		{"Overdue", "#b3261e", ` stroke-dasharray="6 4"`, func(p compliance.MonthPoint) int { return p.Overdue }},
	}
	for _, sr := range series {
		var path strings.Builder
		pen := "M"
		for i, p := range points {
			if !p.Recorded {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, x(i), y(sr.val(p)))
			pen = "L"
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(i), y(sr.val(p)), sr.colour)
		}
		if path.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`, strings.TrimSpace(path.String()), sr.colour, sr.dash)
		}
	}
	for i, p := range points {
		label, _, _ := strings.Cut(p.Label, " ")
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="#1b1f24">%s</text>`, x(i), h-bottom+16, template.HTMLEscapeString(label))
	}
	// Legend, in words.
	fmt.Fprintf(&b, `<line x1="%.0f" y1="12" x2="%.0f" y2="12" stroke="#00703c" stroke-width="2.5"/><text x="%.0f" y="16" font-size="12" fill="#1b1f24">Cleared for allocation</text>`, pad, pad+24, pad+30)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="12" x2="%.0f" y2="12" stroke="#b3261e" stroke-width="2.5" stroke-dasharray="6 4"/><text x="%.0f" y="16" font-size="12" fill="#1b1f24">Requirements overdue</text>`, pad+200, pad+224, pad+230)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}
