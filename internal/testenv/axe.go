package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// axe-core (MPL-2.0, testdata/axe/LICENSE) is vendored so the accessibility
// checks need no network on a fresh machine.
var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// WCAGTags are the rule sets the accessibility check runs: WCAG 2.0, 2.1
// and 2.2 at levels A and AA.
var WCAGTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// Violation is one axe-core rule broken on a page.
type Violation struct {
	Rule    string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.Rule, v.Impact, v.Help, strings.Join(v.Targets, ", "))
}

// CheckAccessibility runs axe-core's WCAG 2.2 A/AA rules on the current page
// and fails the test, listing every violation, if any is found.
func (b *Browser) CheckAccessibility() {
	b.tb.Helper()
	if v := b.Accessibility(); len(v) > 0 {
		var lines []string
		for _, x := range v {
			lines = append(lines, "  "+x.String())
		}
		b.tb.Errorf("accessibility of %s: %d problem(s):\n%s", b.Path(), len(v), strings.Join(lines, "\n"))
	}
}

// Accessibility returns the axe-core WCAG 2.2 A/AA violations on the current page.
func (b *Browser) Accessibility() []Violation {
	b.tb.Helper()
	axeOnce.Do(func() {
		var src []byte
		src, axeErr = os.ReadFile(filepath.Join(RepoRoot(), "internal", "testenv", "testdata", "axe", "axe.min.js"))
		axeSource = string(src)
	})
	if axeErr != nil {
		b.tb.Fatalf("axe-core: %v", axeErr)
	}
	tags, _ := json.Marshal(WCAGTags)
	run := `(typeof axe === "undefined" ? (0, eval)(` + jsString(axeSource) + `) : 0, axe.run(document, {runOnly: {type: "tag", values: ` +
		string(tags) + `}, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, ` +
		`targets: v.nodes.map(n => n.target.join(" "))})))))`
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		b.tb.Fatalf("axe-core on %s: %v", b.Path(), err)
	}
	var v []Violation
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		b.tb.Fatalf("axe-core result: %v", err)
	}
	return v
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
