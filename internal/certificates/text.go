package certificates

import (
	"github.com/family-advocacy/lms/internal/civil"
	"strings"
	"time"
)

// extraRanges are the Unicode blocks whose characters, where the six
// Windows code pages lack them, make up the extra code pages.
var extraRanges = [][2]rune{
	{0x0020, 0x024F}, {0x0250, 0x02FF}, {0x0300, 0x036F}, {0x0370, 0x03FF}, {0x0400, 0x052F},
	{0x1E00, 0x1EFF}, {0x2000, 0x206F}, {0x20A0, 0x20CF},
	{0x0590, 0x05FF}, {0x0600, 0x06FF}, {0xFB1D, 0xFB4F}, {0xFB50, 0xFDFF}, {0xFE70, 0xFEFF}, // Hebrew, Arabic and their presentation forms
}

// run is a piece of text in one code page, already encoded.
type run struct {
	page *codePage
	text string
}

// runs splits s into runs, keeping each run in its code page as long as it
// can; ok is false when a character is in none of them.
func (r *Renderer) runs(s string) ([]run, bool) {
	var out []run
	var cur *codePage
	var buf []byte
	for _, ru := range s {
		if cur != nil {
			if b, ok := cur.encode[ru]; ok {
				buf = append(buf, b)
				continue
			}
		}
		var next *codePage
		for _, p := range r.pages {
			if _, ok := p.encode[ru]; ok {
				next = p
				break
			}
		}
		if next == nil {
			return nil, false
		}
		if cur != nil {
			out = append(out, run{cur, string(buf)})
		}
		cur, buf = next, []byte{next.encode[ru]}
	}
	if cur != nil {
		out = append(out, run{cur, string(buf)})
	}
	return out, true
}

func splitInTwo(s string) []string {
	words := strings.Fields(s)
	half := len(words) / 2
	if half == 0 {
		return []string{s}
	}
	return []string{strings.Join(words[:half], " "), strings.Join(words[half:], " ")}
}

var london = civil.London

func londonDate(t time.Time) string { return t.In(london).Format("2 January 2006") }
