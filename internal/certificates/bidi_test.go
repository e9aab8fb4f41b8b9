package certificates

import "testing"

func TestShapeArabic(t *testing.T) {
	for in, want := range map[string][]rune{
		"محمد": {0xFEE3, 0xFEA4, 0xFEE4, 0xFEAA}, // meem initial, hah medial, meem medial, dal final
		"علي":  {0xFECB, 0xFEE0, 0xFEF2},         // ain initial, lam medial, yeh final
		"سلام": {0xFEB3, 0xFEFC, 0xFEE1},         // seen initial, lam-alef final, meem isolated (alef does not join on)
		"دار":  {0xFEA9, 0xFE8D, 0xFEAD},         // three letters that join only backwards: all isolated
	} {
		if got := []rune(shapeArabic(in)); string(got) != string(want) {
			t.Errorf("shapeArabic(%q) = %U, want %U", in, got, want)
		}
	}
}

func TestVisualOrder(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë Łukasiewicz-Ørsted": "Zoë Łukasiewicz-Ørsted", // left to right: unchanged
		"משה":                    "השמ",
		"משה Cohen":              "Cohen השמ",                                                // a right-to-left paragraph
		"Sarah כהן":              "Sarah ןהכ",                                                // a left-to-right paragraph
		"محمد":                   string([]rune{0xFEAA, 0xFEE4, 0xFEA4, 0xFEE3}),             // joined, then reversed
		"שִׁירָה":                string([]rune{'ה', 'ר', 0x05B8, 'י', 'ש', 0x05B4, 0x05C1}), // marks stay after their letters
	} {
		if got := visual(in); got != want {
			t.Errorf("visual(%q) = %U, want %U", in, []rune(got), []rune(want))
		}
	}
}
