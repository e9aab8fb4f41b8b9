package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

// lessonOnlyWord returns a word of the catalogue that is in one course's
// lessons and in no title or summary, with that course: a search for it
// can only be answered from lesson text.
func lessonOnlyWord(t *testing.T, cs []*courses.Course) (string, *courses.Course) {
	t.Helper()
	cat := learning.NewCatalogue(cs)
	for _, c := range cs {
		for _, l := range c.Lessons {
			for _, w := range strings.Fields(l.Title) {
				w = strings.Trim(w, ",.:;()'’\"")
				if len(w) < 5 || strings.ContainsAny(w, "-'’") {
					continue
				}
				hits := cat.Search(w)
				if len(hits) == 1 && hits[0].Course == c && len(hits[0].Lessons) > 0 {
					return w, c
				}
			}
		}
	}
	t.Fatal("no word of the catalogue is in one course's lessons only")
	return "", nil
}

// both runs check at desktop width and then on a phone, taking a
// screenshot at each, and returns to desktop width.
func both(b *testenv.Browser, name string, check func()) {
	for _, w := range []int64{1280, 390} {
		b.Viewport(w, map[int64]int64{1280: 900, 390: 844}[w])
		check()
		b.CheckAccessibility()
		if n := testenv.Eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); n > 0 {
			b.Screenshot(fmt.Sprintf("%s-%d-overflow", name, w))
		}
		b.Screenshot(fmt.Sprintf("%s-%d", name, w))
	}
	b.Viewport(1280, 900)
}

// TestJourneyLearnerFindsSharesAndRegisters: search the catalogue for a
// word only a lesson has, filter by audience, register as a domestic abuse
// worker whose organisation is not listed (a problem first, then right),
// see the courses for that role first, pass a course and share the
// certificate; an admin sees the typed organisation and merges it.
func TestJourneyLearnerFindsSharesAndRegisters(t *testing.T) {
	cs, probs := courses.LoadAll(content.Courses, "courses")
	if len(courses.Errors(probs)) > 0 {
		t.Fatalf("catalogue: %v", probs)
	}
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "LMS_REGISTRATION": "open"})
	b := testenv.NewBrowser(t, s.URL)

	// Search for a word that only a lesson has.
	word, course := lessonOnlyWord(t, cs)
	b.Open("/courses")
	b.Fill("#q", strings.ToUpper(word))
	b.Follow("#find-courses")
	both(b, "search", func() {
		b.MustContain("#course-results", "1 course matches")
		b.MustContain("#course-"+course.Slug+" .lesson-hit", "Found in lesson")
		if got := strings.ToLower(b.Text("#course-" + course.Slug + " .snippet mark")); !strings.HasPrefix(got, strings.ToLower(word)) {
			t.Errorf("the passage marks %q, want %q", got, word)
		}
	})
	b.Fill("#q", word+" zebra")
	b.Follow("#find-courses")
	b.MustContain("#no-courses", "Check the spelling")
	b.CheckAccessibility()

	// The audience filter.
	aud := "mental-health-support-worker"
	var forAud []string
	for _, c := range cs {
		if c.ForAudience(aud) {
			forAud = append(forAud, c.Slug)
		}
	}
	b.Fill("#q", " ")
	setSelect(t, b, "#audience", aud)
	b.Follow("#find-courses")
	b.MustContain("#course-results", fmt.Sprintf("%d of %d courses are for mental health support workers", len(forAud), len(cs)))
	if got := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll(".course-list > li.card")).map(li => li.id.slice(7))`); !slices.Equal(sorted(got), sorted(forAud)) {
		t.Errorf("filtered: shown %v, want %v", got, forAud)
	}
	b.CheckAccessibility()

	// Register: "not listed" without a name, then with it.
	b.Open("/register")
	b.Fill("#f-name", "Dana Worker")
	b.Fill("#f-email", "dana@example.org")
	b.Fill("#f-password", "river kettle lantern meadow")
	setSelect(t, b, "#f-org", auth.UnlistedOrganisation)
	b.Click("#jr-domestic-abuse-worker")
	b.Follow(`form[action="/register"] button[type=submit]`)
	both(b, "register-problem", func() {
		b.MustContain(".error-summary", "Type the name of the organisation you work for")
		b.MustContain("#f-org_name-error", "Type the name")
	})
	if got := testenv.Eval[[]string](b, `[document.querySelector("#f-name").value, document.querySelector("#f-email").value, document.querySelector("#f-org").value, String(document.querySelector("#jr-domestic-abuse-worker").checked)]`); !slices.Equal(got, []string{"Dana Worker", "dana@example.org", auth.UnlistedOrganisation, "true"}) {
		t.Errorf("what was typed came back as %v", got)
	}
	b.Click(`.error-summary a[href="#f-org_name"]`) // the summary links to the field
	b.Fill("#f-org_name", "Leeds Women's Aid")
	b.Fill("#f-password", "river kettle lantern meadow")
	b.Follow(`form[action="/register"] button[type=submit]`)
	b.MustContain(".notice", "You told us you work for “Leeds Women's Aid”")

	// The courses written for a domestic abuse worker come first, marked.
	var forRole []string
	for _, c := range cs {
		if learning.WrittenFor(c, "domestic-abuse-worker") {
			forRole = append(forRole, c.Slug)
		}
	}
	if len(forRole) == 0 {
		t.Fatal("no course of the catalogue is written for domestic abuse workers in particular: the test needs one")
	}
	b.Open("/courses")
	both(b, "catalogue-recommended", func() {
		ids := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll(".course-list > li.card")).map(li => li.id.slice(7))`)
		marked := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll(".course-list > li.card")).filter(li => li.querySelector(".recommended-role")).map(li => li.id.slice(7))`)
		if len(ids) < len(forRole) || !slices.Equal(ids[:len(forRole)], forRole) || !slices.Equal(marked, forRole) {
			t.Errorf("order %v, marked %v; want %v first and marked", ids, marked, forRole)
		}
	})

	// Pass the shortest course; share its certificate.
	short := cs[0]
	for _, c := range cs {
		if len(c.Lessons) < len(short.Lessons) {
			short = c
		}
	}
	passCourse(t, b, short)
	code := waitForShare(t, b)
	both(b, "my-certificates", func() {
		b.MustContain("#share-"+code, "Share this certificate")
		if !testenv.Eval[bool](b, `(function(){const i=document.querySelector("#link-`+code+`"); return i.readOnly && i.value.endsWith("/verify/`+code+`")})()`) {
			t.Error("the verification link is not in a read-only box")
		}
	})
	if testenv.Eval[bool](b, `document.querySelector("#share-`+code+` .copy-link").hidden`) {
		t.Fatal("the copy button is still hidden with JavaScript on")
	}
	grantClipboard(t, b, s.URL)
	b.Click("#share-" + code + " .copy-link")
	waitFor(t, func() bool { return strings.Contains(b.Text("#copied-"+code), "copied") }, "the page to say the link was copied")
	if got, err := clipboardText(b); err != nil {
		t.Logf("reading the clipboard back: %v (the page said it copied)", err)
	} else if !strings.HasSuffix(got, "/verify/"+code) {
		t.Errorf("clipboard holds %q, want the verification link", got)
	}
	href := testenv.Eval[string](b, `document.querySelector("#share-`+code+` a.linkedin").href`)
	u, err := url.Parse(href)
	if err != nil || u.Host != "www.linkedin.com" {
		t.Fatalf("LinkedIn link %q: %v", href, err)
	}
	q := u.Query()
	if q.Get("startTask") != "CERTIFICATION_NAME" || q.Get("name") != short.Title || q.Get("certId") != code || !strings.HasSuffix(q.Get("certUrl"), "/verify/"+code) || q.Get("issueYear") != "2026" {
		t.Errorf("LinkedIn parameters: %v", q)
	}
	if (short.ValidForMonths == 0) == q.Has("expirationYear") {
		t.Errorf("valid for %d months, yet expiry given: %v", short.ValidForMonths, q.Has("expirationYear"))
	}
	// Without JavaScript the link can still be selected and copied.
	if !testenv.Eval[bool](b, `(function(){const i=document.querySelector("#link-`+code+`"); i.focus(); i.select(); return window.getSelection().toString() === i.value || (i.selectionStart === 0 && i.selectionEnd === i.value.length)})()`) {
		t.Error("the link cannot be selected in its box")
	}
	b.Follow(`.signout button`)

	// An admin sees the organisation typed and merges it into the partner.
	signInSettingUp2FA(b, s, "admin@demo.example")
	b.Open("/admin/organisations")
	b.Follow("#unlisted-orgs-link")
	both(b, "admin-unlisted", func() {
		b.MustContain("#unlisted-names", "Leeds Women's Aid")
		b.MustContain("#unlisted-names", "1 account")
	})
	b.Follow(`#unlisted-names a[href*="name=leeds"]`)
	both(b, "admin-unlisted-one", func() { b.MustContain("#unlisted-accounts", "dana@example.org") })
	b.Open("/admin/organisations/unlisted")
	b.AcceptDialogs()                           // "Ask the 1 account … to join …?"
	b.Follow(`#unlisted-0 button[type=submit]`) // no organisation chosen
	b.MustContain(".error-summary", "Choose the partner organisation")
	b.CheckAccessibility()
	b.AcceptDialogs()
	partner := testenv.Eval[string](b, `Array.from(document.querySelector("#unlisted-names select").options).find(o => o.text.includes("Women's Aid Partnership")).value`)
	setSelect(t, b, "#unlisted-names select", partner)
	b.Follow(`#unlisted-names button[type=submit]`)
	b.MustContain(".notice-success", "now asks to join Demo Women's Aid Partnership")
	b.MustContain("#unlisted-names", "No one has typed")
	b.Open("/manage/join-requests")
	b.MustContain("#join-requests", "dana@example.org")
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// passCourse enrols on a course and passes it with the bank's answers.
func passCourse(t *testing.T, b *testenv.Browser, c *courses.Course) {
	t.Helper()
	b.Open("/courses/" + c.Slug)
	b.Follow(`form[action="/courses/` + c.Slug + `/enrol"] button`)
	for range c.Lessons {
		b.Follow("#complete")
	}
	b.Follow("#start-attempt")
	ids := testenv.Eval[[]string](b, `Array.from(document.querySelectorAll("fieldset.question")).map(f => f.id.slice(2))`)
	for _, id := range ids {
		q, ok := c.Assessment.Question(id)
		if !ok {
			t.Fatalf("question %s not in the bank", id)
		}
		for i, o := range q.Options {
			if o.Correct {
				b.Click(fmt.Sprintf("#q-%s-%d", id, i))
			}
		}
	}
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
}

// waitForShare opens My certificates until the certificate is issued and
// its share controls show, and returns its code.
func waitForShare(t *testing.T, b *testenv.Browser) string {
	t.Helper()
	var code string
	waitFor(t, func() bool {
		b.Open("/my/certificates")
		code = testenv.Eval[string](b, `(function(){const d=document.querySelector(".share"); return d ? d.id.slice(6) : ""})()`)
		return code != ""
	}, "the certificate's share controls")
	return code
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// grantClipboard lets the site's pages write and read the clipboard, as a
// person's click would.
func grantClipboard(t *testing.T, b *testenv.Browser, origin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: origin})
		if err != nil {
			t.Logf("grant %s: %v", name, err)
		}
	}
}

// clipboardText reads the clipboard from the page.
func clipboardText(b *testenv.Browser) (string, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
}
