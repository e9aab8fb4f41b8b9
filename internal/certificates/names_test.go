package certificates_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestNamesInEveryScriptReadBackFromThePDF renders names from many
// languages and reads them back with pdftotext. Names the Windows code
// pages and the extra pages cover must not take gofpdf's UTF-8 path (a
// Type0 font, ten times slower); a script beyond them (Armenian, Georgian)
// takes it and still comes out right. Arabic and Hebrew names are drawn
// right to left, Arabic letters joined.
func TestNamesInEveryScriptReadBackFromThePDF(t *testing.T) {
	r := testRenderer(t)
	testenv.NeedCommand(t, "pdftotext", "poppler-utils")
	for _, tc := range []struct {
		name     string
		fullFont bool
		read     string // what pdftotext gives back, if not the name: runs of a mixed-direction line in visual order
	}{
		{"Zoë Łukasiewicz-Ørsted", false, ""},
		{"Oluwaseun Adébáyọ̀", false, ""},
		{"Nguyễn Thị Ánh Tuyết", false, ""},
		{"Ǆemal Đurić", false, ""},
		{"Ƙwame Ŋgũgĩ", false, ""},
		{"Eleni Παπαδοπούλου-Ӂурова", false, ""},
		{"محمد علي", false, ""},
		{"فاطمة Rahman", false, "Rahman فاطمة"},
		{"משה Cohen", false, "Cohen משה"},
		{"Արամ Ghazaryan", true, ""},
		{"ნინო Beridze", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := r.Render(certificates.Document{Code: "ABCD-EFGH-JKLM-NP", Name: tc.name, OrgName: "Family Advocacy Service",
				CourseTitle: "Child welfare law essentials", CourseVersion: "2026-11-22", Completed: time.Now(), CPDHours: 3,
				VerifyURL: "https://lms.example/verify/ABCD-EFGH-JKLM-NP", Issued: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(pdf, []byte("/Subtype /Type0")); got != tc.fullFont {
				t.Errorf("UTF-8 font path taken: %v, want %v", got, tc.fullFont)
			}
			path := filepath.Join(t.TempDir(), "c.pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			text, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			// Arabic comes back in its joined presentation forms (NFKC maps
			// them to the letters) and right-to-left runs between direction
			// marks, which are dropped here.
			got := norm.NFKC.String(strings.Join(strings.Fields(string(text)), " "))
			got = strings.Map(func(r rune) rune {
				if r >= 0x202A && r <= 0x202E || r == 0x200E || r == 0x200F {
					return -1
				}
				return r
			}, got)
			want := tc.name
			if tc.read != "" {
				want = tc.read
			}
			if want = norm.NFKC.String(want); !strings.Contains(got, want) {
				t.Fatalf("pdftotext does not find %q in:\n%s", want, got)
			}
		})
	}
}
