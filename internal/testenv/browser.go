package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Browser drives one headless Chromium tab for a test. On failure it writes
// a screenshot of the page to the test's artefact directory and logs its path.
type Browser struct {
	tb      testing.TB
	Ctx     context.Context
	BaseURL string
}

// NewBrowser starts headless Chromium with a new, empty profile. Without
// Chromium the test fails when CI=true and is skipped elsewhere, saying how
// to install it.
func NewBrowser(tb testing.TB, baseURL string) *Browser {
	tb.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		missing(tb, "Chromium at "+ChromiumPath, "chromium")
	}
	profile := tb.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	b := &Browser{tb: tb, Ctx: ctx, BaseURL: strings.TrimRight(baseURL, "/")}
	tb.Cleanup(func() {
		if tb.Failed() {
			b.screenshot("")
		}
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now so a start-up problem is reported here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start Chromium: %v", err)
	}
	return b
}

// Screenshot saves the whole page as test-artifacts/<test>-<name>.png (or
// under $LMS_TEST_ARTIFACTS), for a person to look at; the test's log
// says where.
func (b *Browser) Screenshot(name string) { b.screenshot("-" + name) }

func (b *Browser) screenshot(suffix string) {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		b.tb.Logf("screenshot failed: %v", err)
		return
	}
	dir := os.Getenv("LMS_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "test-artifacts")
	}
	_ = os.MkdirAll(dir, 0o755)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(b.tb.Name()+suffix) + ".png"
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.tb.Logf("write screenshot: %v", err)
		return
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	b.tb.Logf("screenshot of %s written to %s", url, path)
}

// ActionTimeout bounds each step of a journey, so a page that never comes
// fails the test in under a minute rather than at the test's deadline.
const ActionTimeout = 45 * time.Second

// step returns a context for one browser action.
func (b *Browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.Ctx, ActionTimeout)
}

// Open navigates to a path of the site and waits for the page to load.
func (b *Browser) Open(path string) {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.BaseURL+path)); err != nil {
		b.tb.Fatalf("open %s: %v", path, err)
	}
}

// Follow clicks what sel selects (a link or submit button) and waits for the
// next page to load. It returns the HTTP status of that page.
func (b *Browser) Follow(sel string) int64 {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.tb.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

// Fill replaces the value of the field sel with text.
func (b *Browser) Fill(sel, text string) {
	b.tb.Helper()
	sj, _ := json.Marshal(sel)
	tj, _ := json.Marshal(text)
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.tb.Fatalf("fill %s: %v", sel, err)
	}
	// Date inputs take keys field by field in the browser's locale: set them.
	if Eval[bool](b, `document.querySelector(`+string(sj)+`).type === "date"`) {
		Eval[bool](b, `(document.querySelector(`+string(sj)+`).value = `+string(tj)+`, true)`)
		return
	}
	clear := chromedp.Evaluate[chromedp.Void](`document.querySelector(` + string(sj) + `).value = ""`)
	if err := chromedp.Do(ctx, clear, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		b.tb.Fatalf("fill %s: %v", sel, err)
	}
}

// Click clicks sel without waiting for a navigation.
func (b *Browser) Click(sel string) {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.tb.Fatalf("click %s: %v", sel, err)
	}
}

// Text returns the visible text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.tb.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// ElementPNG returns a PNG of the first element matching sel as the page
// shows it (for images a test must read, such as a QR code).
func (b *Browser) ElementPNG(sel string) []byte {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.tb.Fatalf("screenshot of %s: %v", sel, err)
	}
	return png
}

// Path returns the path (and query) of the current page.
func (b *Browser) Path() string {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.tb.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, b.BaseURL)
}

// Eval evaluates a JavaScript expression and returns its value.
func Eval[T any](b *Browser, expr string) T {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.tb.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// MustContain fails the test unless the text of sel contains want.
func (b *Browser) MustContain(sel, want string) {
	b.tb.Helper()
	if got := b.Text(sel); !strings.Contains(got, want) {
		b.tb.Fatalf("text of %s on %s: got %q, want it to contain %q", sel, b.Path(), got, want)
	}
}

// Upload sets the file input sel to the file at path.
func (b *Browser) Upload(sel, path string) {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path})); err != nil {
		b.tb.Fatalf("upload %s: %v", path, err)
	}
}

// Fetch fetches a path with the page's cookies and returns the body.
func (b *Browser) Fetch(path string) []byte {
	b.tb.Helper()
	js := `fetch(` + strconv.Quote(path) + `).then(r => { if (!r.ok) throw new Error("status " + r.status); return r.arrayBuffer() })` +
		`.then(buf => { let s = ""; const a = new Uint8Array(buf); for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]); return btoa(s) })`
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.tb.Fatalf("fetch %s: %v", path, err)
	}
	out, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b.tb.Fatalf("fetch %s: %v", path, err)
	}
	return out
}

// AcceptDialogs makes window.confirm answer yes on the current page.
func (b *Browser) AcceptDialogs() {
	b.tb.Helper()
	Eval[bool](b, `(window.confirm = () => true, true)`)
}

// Viewport resizes the page, e.g. to a phone's 375×812.
func (b *Browser) Viewport(width, height int64) {
	b.tb.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		b.tb.Fatalf("viewport %d×%d: %v", width, height, err)
	}
}
