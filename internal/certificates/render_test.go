package certificates

import (
	"os"
	"testing"
	"time"
)

func testRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	reg, err := os.ReadFile("../../web/static/fonts/DejaVuSans.ttf")
	if err != nil {
		tb.Fatal(err)
	}
	bold, err := os.ReadFile("../../web/static/fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewRenderer(reg, bold)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

var sampleDoc = Document{Code: "ABCD-EFGH-JKLM-NP", Name: "Zoë Łukasiewicz-Ørsted", OrgName: "Family Advocacy Service",
	CourseTitle: "Child protection in England: from referral to review conference", CourseVersion: "2026-11-22",
	Completed: time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), CPDHours: 2.5, Expires: time.Date(2028, 11, 22, 0, 0, 0, 0, time.UTC),
	VerifyURL: "https://lms.example/verify/ABCD-EFGH-JKLM-NP", Issued: time.Date(2026, 11, 22, 23, 31, 0, 0, time.UTC)}

func BenchmarkRender(b *testing.B) {
	r := testRenderer(b)
	doc := sampleDoc
	doc.QR, _ = EncodeQR(doc.VerifyURL)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderWritesTheFile(t *testing.T) {
	r := testRenderer(t)
	b, err := r.Render(sampleDoc)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/cert-sample.pdf", b, 0o644)
	t.Logf("%d bytes", len(b))
}
