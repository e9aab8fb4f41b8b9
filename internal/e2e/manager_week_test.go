package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// overflow reports how much wider than its box an element's content is (0:
// it fits, nothing scrolls sideways), measured on the element and on its
// scrolling wrapper.
func overflow(b *testenv.Browser, sel string) int {
	return testenv.Eval[int](b, `(function(){const t=document.querySelector(`+"`"+sel+"`"+`); if (!t) return -1;
		const w=t.closest(".table-wrap")||t; return Math.max(t.scrollWidth-t.clientWidth, w.scrollWidth-w.clientWidth,
		document.documentElement.scrollWidth-document.documentElement.clientWidth)})()`)
}

// TestJourneyManagerWeek: on the demo organisation, at a laptop's and a
// phone's width, the manager enrols two-factor authentication from the QR
// code, follows the dashboard's "lapsing within 30 days" count, reads each
// requirement with its date without scrolling sideways, opens an advocate
// from the list and records a supervision in the supervision section,
// landing back there with the message.
func TestJourneyManagerWeek(t *testing.T) {
	s := startSite(t, map[string]string{"LMS_DEMO": "true"})
	b := testenv.NewBrowser(t, s.URL)
	signIn(b, "manager@demo.example", app.DemoPassword)
	secret := secretFromQR(t, b)
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)
	dated := regexp.MustCompile(`^\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) 20\d\d`)

	for i, vp := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
		t.Run(vp.name, func(t *testing.T) {
			b.Viewport(vp.width, vp.height)
			b.Open("/manage")
			if n := overflow(b, "#advocates"); n > 0 {
				b.Screenshot(vp.name + "-dashboard")
				t.Errorf("the dashboard table is %d px wider than the page at %d px", n, vp.width)
			}
			b.Screenshot(vp.name + "-dashboard")
			b.Follow("#lapsing-30-link")
			b.MustContain("main h1", "Lapsing soon")
			b.Screenshot(vp.name + "-lapsing")
			if n := overflow(b, "#lapsing"); n > 0 {
				t.Errorf("the lapsing table is %d px wider than its box at %d px", n, vp.width)
			}
			rows := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll("#lapsing tbody tr")).map(tr => {
				const due = tr.querySelector('[data-label="Due"]'), req = tr.querySelector('[data-label="Requirement"]');
				return (due ? due.innerText : "") + " | " + (req ? req.innerText : "") })`)
			if len(rows) == 0 {
				t.Fatal("the demo organisation has nothing lapsing within 30 days")
			}
			for _, r := range rows {
				due, req, _ := strings.Cut(r, " | ")
				if !dated.MatchString(strings.TrimSpace(due)) || strings.TrimSpace(req) == "" {
					t.Errorf("a lapsing row without its date or requirement: %q", r)
				}
			}
			// Each row's cells are inside the viewport: nothing to scroll to.
			if right := testenv.Eval[int](b, `Math.max(...Array.from(document.querySelectorAll("#lapsing tbody td, #lapsing tbody th")).map(c => Math.ceil(c.getBoundingClientRect().right)))`); right > int(vp.width) {
				t.Errorf("a lapsing cell ends at %d px, beyond the %d px screen", right, vp.width)
			}

			// Open the first advocate and record a supervision in its section.
			b.Follow(`#lapsing tbody tr th a`)
			name := b.Text("main h1")
			b.Open(b.Path() + "#supervision")
			if n := overflow(b, "#requirements"); n > 0 {
				b.Screenshot(vp.name + "-advocate")
				t.Errorf("the requirements table of %s is %d px wider than its box", name, n)
			}
			b.Click("#supervision details summary")
			day := s.Clock.Now().AddDate(0, 0, -i-1).Format("2006-01-02")
			b.Fill("#f-sup_date", day)
			b.Fill("#f-supervisor", "Maya Manager")
			setSelect(t, b, "#f-kind", "individual")
			b.Follow(`form[action$="/supervisions#supervision"] button`)
			if hash := testenv.Eval[string](b, `location.hash`); hash != "#supervision" {
				t.Errorf("after saving the supervision the page is at %q, want #supervision", hash)
			}
			b.MustContain("#supervision .notice", "Supervision recorded")
			// The section is on screen, not the top of the page.
			if top := testenv.Eval[int](b, `Math.round(document.querySelector("#supervision").getBoundingClientRect().top)`); top < -5 || top > int(vp.height)/2 {
				t.Errorf("the supervision section starts at %d px of a %d px screen after the save", top, vp.height)
			}
			b.Screenshot(vp.name + "-supervision-saved")
			b.MustContain("#history", "Supervision recorded")
			t.Log(fmt.Sprintf("%s: %d requirements lapsing within 30 days; recorded a supervision for %s", vp.name, len(rows), name))
		})
	}
}
