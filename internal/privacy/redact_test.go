package privacy

import (
	"testing"

	"github.com/family-advocacy/lms/internal/store"
)

// TestRedactorReplacesWholeWordsInAnyCase: names and addresses are
// replaced wherever they stand as words, whatever their case and however
// HTML escapes them, and not inside other words.
func TestRedactorReplacesWholeWordsInAnyCase(t *testing.T) {
	redact := redactor("Zoë O'Brien", "zoe.obrien@example.org")
	for _, c := range []struct{ in, want string }{
		{"Overdue: Zoë O'Brien's DBS check", "Overdue: [erased]'s DBS check"},
		{"zoë o'brien, ZOË O'BRIEN", "[erased], [erased]"},
		{"<p>Zoë O&#39;Brien is overdue.</p>", "<p>[erased] is overdue.</p>"},
		{"Mail zoe.obrien@example.org or ZOE.OBRIEN@EXAMPLE.ORG.", "Mail [erased] or [erased]."},
		{"Zoë O'Briens and xZoë O'Brien stay", "Zoë O'Briens and xZoë O'Brien stay"},
		{"nothing here", "nothing here"},
		{"", ""},
	} {
		if got := redact(c.in); got != c.want {
			t.Errorf("redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := redactor("", " ")("Anyone"); got != "Anyone" {
		t.Errorf("with nothing to find: %q", got)
	}
}

// TestEveryCollectionOfPersonalDataHasWords: the erasure plan says what
// each kind of record is ("their 3 assessment attempts"), so a collection
// of personal data added without words is caught here, not shown to an
// admin as "other records".
func TestEveryCollectionOfPersonalDataHasWords(t *testing.T) {
	for _, h := range store.Holdings {
		if h.Found == "" {
			continue
		}
		switch h.Collection {
		case "users", "audit_events", "compliance_rollups", "rights_requests": // steps of their own
			continue
		}
		if _, ok := recordWords[h.Collection]; !ok {
			t.Errorf("collection %s holds personal data and has no words in recordWords", h.Collection)
		}
	}
}
