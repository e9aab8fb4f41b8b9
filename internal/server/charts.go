package server

import (
	"fmt"
	"html/template"
	"strings"
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
