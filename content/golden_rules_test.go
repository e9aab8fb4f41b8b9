package content_test

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/content"
)

// The seven golden rules of the government's information sharing advice
// (April 2024, corrected 1 May 2024) are taught in two courses. The
// domestic abuse course's lesson 7 is the one source of truth: the child
// welfare law course must list the same seven rules, word for word.
const (
	goldenRulesSource = "courses/domestic-abuse-mental-health-child-protection/07-consent-and-information-sharing.md"
	goldenRulesCopy   = "courses/child-welfare-law-essentials/07-information-sharing.md"
)

var numberedLine = regexp.MustCompile(`^(\d+)\.\s+(.*\S)\s*$`)

// goldenRules returns the numbered list that follows the first mention of
// the "golden rules" in a lesson: consecutive lines "1. ...", "2. ...", ...
func goldenRules(t *testing.T, name string) []string {
	t.Helper()
	b, err := fs.ReadFile(content.Courses, name)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	body := string(b)
	i := strings.Index(strings.ToLower(body), "golden rules")
	if i < 0 {
		t.Fatalf("%s: no mention of the golden rules", name)
	}
	var rules []string
	for _, line := range strings.Split(body[i:], "\n") {
		m := numberedLine.FindStringSubmatch(line)
		if m == nil {
			if len(rules) > 0 {
				break // the list has ended
			}
			continue // text before the list
		}
		n, _ := strconv.Atoi(m[1])
		if n != len(rules)+1 {
			t.Fatalf("%s: golden rule numbered %d where %d was expected", name, n, len(rules)+1)
		}
		rules = append(rules, m[2])
	}
	if len(rules) != 7 {
		t.Fatalf("%s: found %d golden rules, want 7: %q", name, len(rules), rules)
	}
	return rules
}

func TestGoldenRulesMatchTheSourceOfTruth(t *testing.T) {
	want := goldenRules(t, goldenRulesSource)
	got := goldenRules(t, goldenRulesCopy)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("golden rule %d differs:\n  %s has: %q\n  %s has: %q\nchange %s to match %s",
				i+1, goldenRulesCopy, got[i], goldenRulesSource, want[i], goldenRulesCopy, goldenRulesSource)
		}
	}
}
