package certificates

import (
	"strings"
	"testing"
)

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c := NewCode()
		if len(c) != 17 || strings.ContainsAny(c, "01OI") {
			t.Fatalf("code %q: want 14 characters in groups, without 0, 1, O or I", c)
		}
		if seen[c] {
			t.Fatalf("duplicate code %s", c)
		}
		seen[c] = true
		got, err := ParseCode(strings.ToLower(strings.ReplaceAll(c, "-", " ")))
		if err != nil || got != c {
			t.Fatalf("ParseCode(%q) = %q, %v", c, got, err)
		}
		raw := strings.ReplaceAll(c, "-", "")
		// Every single-character change is caught.
		for pos := 0; pos < len(raw); pos++ {
			for _, r := range codeAlphabet {
				if byte(r) == raw[pos] {
					continue
				}
				typo := raw[:pos] + string(r) + raw[pos+1:]
				if _, err := ParseCode(typo); err != ErrCodeTypo {
					t.Fatalf("typo %s of %s: got %v, want ErrCodeTypo", typo, raw, err)
				}
			}
		}
		// Every swap of two different neighbours is caught.
		for pos := 0; pos+1 < len(raw); pos++ {
			if raw[pos] == raw[pos+1] {
				continue
			}
			swapped := raw[:pos] + string(raw[pos+1]) + string(raw[pos]) + raw[pos+2:]
			if _, err := ParseCode(swapped); err != ErrCodeTypo {
				t.Fatalf("swap %s of %s: got %v, want ErrCodeTypo", swapped, raw, err)
			}
		}
	}
	for _, bad := range []string{"", "ABC", "K7QX-M2PA-HW9D-R3X", "K7QX-M2PA-HW9D-R#"} {
		if _, err := ParseCode(bad); err != ErrCodeFormat {
			t.Errorf("ParseCode(%q): got %v, want ErrCodeFormat", bad, err)
		}
	}
	if _, err := ParseCode("K7QX-M2PA-HW9D-RO"); err != ErrCodeTypo {
		t.Errorf("a code with O: got %v, want ErrCodeTypo", err)
	}
}
