// Package pdftext lays text out for the PDF documents the app makes with
// gofpdf (the impact summary, the live training sign-in sheet, the
// compliance report): line heights and line breaking.
package pdftext

import "strings"

// LineHeight is the height in millimetres of a line of text size points
// high, with the documents' leading.
func LineHeight(size float64) float64 { return size * 25.4 / 72 * 1.3 }

// Wrap breaks text into lines for which fits is true: each paragraph (at
// "\n") at spaces, and inside a word only when it is longer than a line.
func Wrap(text string, fits func(string) bool) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if try := strings.TrimSpace(line + " " + word); fits(try) {
				line = try
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			for rs := []rune(word); !fits(word) && len(rs) > 1; rs = []rune(word) {
				n := 1
				for n+1 < len(rs) && fits(string(rs[:n+1])) {
					n++
				}
				out, word = append(out, string(rs[:n])), string(rs[n:])
			}
			line = word
		}
		out = append(out, line)
	}
	return out
}
