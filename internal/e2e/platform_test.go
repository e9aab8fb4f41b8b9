package e2e

import (
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJourneyHomeToPolicyPage: a visitor opens the home page, follows a
// footer link and reads the policy page.
func TestJourneyHomeToPolicyPage(t *testing.T) {
	s := startSite(t, nil)
	b := testenv.NewBrowser(t, s.URL)

	b.Open("/")
	b.MustContain("h1", "Learning and standards")
	if got := b.Text(".skip-link"); !strings.Contains(got, "Skip to main content") {
		t.Errorf("skip link: got %q", got)
	}

	if status := b.Follow(`footer a[href="/pages/confidentiality"]`); status != 200 {
		t.Fatalf("confidentiality page: status %d, want 200", status)
	}
	if got := b.Path(); got != "/pages/confidentiality" {
		t.Fatalf("path: got %q, want /pages/confidentiality", got)
	}
	b.MustContain("main h1", "Confidentiality")
	b.MustContain("main", "safeguarding")

	if status := b.Follow(`footer a[href="/pages/standards"]`); status != 200 {
		t.Fatalf("standards page: status %d", status)
	}
	b.MustContain("main", "Independence")
}
