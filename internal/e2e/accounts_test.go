package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

func signIn(b *testenv.Browser, email, password string) {
	b.Open("/login")
	b.Fill("#f-email", email)
	b.Fill("#f-password", password)
	b.Follow(`form[action="/login"] button[type=submit]`)
}

// signInSettingUp2FA signs a manager or admin in for the first time: the
// app asks them to set up two-factor authentication, which they do with
// the key it shows. It returns the key.
func signInSettingUp2FA(b *testenv.Browser, s *site, email string) string {
	signIn(b, email, app.DemoPassword)
	secret := b.Text("#totp-secret")
	b.Fill("#f-code", auth.CurrentCode(secret, s.Clock.Now()))
	b.Follow(`form[action="/account/2fa"] button`)
	return secret
}

// TestJourneyAccount: register → sign out → sign in → account page →
// change password → sign in with the new one; five wrong passwords → the
// throttle message; a manager is asked to set up 2FA at first sign-in.
func TestJourneyAccount(t *testing.T) {
	s := startSite(t, map[string]string{"LMS_DEMO": "true"})
	b := testenv.NewBrowser(t, s.URL)

	// Register.
	b.Open("/register")
	b.Fill("#f-name", "Zoë Łukasiewicz-Ørsted")
	b.Fill("#f-email", "zoe@example.org")
	b.Fill("#f-password", "short")
	b.Follow(`form[action="/register"] button[type=submit]`)
	b.MustContain(".error-summary", "at least 12 characters")
	if got := testenv.Eval[string](b, `document.querySelector("#f-name").value`); got != "Zoë Łukasiewicz-Ørsted" {
		t.Fatalf("name after a failed submit: got %q, want what was typed", got)
	}
	b.Fill("#f-password", "river kettle lantern meadow")
	testenv.Eval[bool](b, `(function(){var s=document.querySelector("#f-org"); s.selectedIndex=1; return true})()`)
	b.Click("#jr-domestic-abuse-worker")
	b.Follow(`form[action="/register"] button[type=submit]`)
	// Not signed in until they choose to (the same answer whether or not
	// the address had an account): the confirmation link is on its way.
	b.MustContain(".notice", "We have sent an email to zoe@example.org")
	if p := b.Path(); p != "/login" {
		t.Fatalf("after registering: at %s, want /login", p)
	}

	// Sign in, sign out, sign in.
	signIn(b, "zoe@example.org", "river kettle lantern meadow")
	b.MustContain("#confirm-email", "zoe@example.org")
	b.Follow(`.signout button`)
	b.MustContain(".notice", "signed out")
	signIn(b, "ZOE@example.org", "river kettle lantern meadow")
	b.Open("/account")
	b.MustContain("main h1", "Your account")
	// The sessions list names the browser in words, not by its User-Agent header.
	if got := b.Text(`[aria-label="Sessions"] tbody td`); !strings.HasPrefix(got, "Chrome ") || strings.Contains(got, "Mozilla/") {
		t.Fatalf("sessions list shows the browser as %q, want e.g. \"Chrome 131 on Linux\"", got)
	}
	b.MustContain(`[aria-label="Sessions"]`, "This browser")
	if got := b.Text("#current-email"); got != "zoe@example.org" {
		t.Fatalf("account email: got %q", got)
	}

	// Download my data: asked for on the account page, prepared in the
	// background (the page shows how far it has gone), then downloaded.
	b.Follow(`a[href="/account/export"]`)
	b.MustContain("main h1", "Download your data")
	b.Follow(`form[action="/account/export"] button`)
	b.MustContain(".notice", "We are preparing the download of your data")
	link := waitForDownload(t, b)
	files := unzipBytes(t, b.Fetch(link))
	if !strings.Contains(string(files["data/users.json"]), "zoe@example.org") || !strings.Contains(string(files["README.txt"]), "every record") {
		t.Fatalf("the download lacks the account: %v", keysOf(files))
	}
	b.Open("/notifications")
	b.MustContain("main", "Your data download is ready")
	// A download asked for elsewhere (another instance) is picked up by the
	// worker within seconds; the open page shows its progress and, with
	// no reload by the person, its link once it is ready.
	uid, _, err := s.Env.DB.EmailClaim(context.Background(), "zoe@example.org")
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	if err := s.Env.DB.InsertDataExport(context.Background(), &store.DataExport{ID: "e2e0000000000000000000001", UserID: uid, Status: store.ExportBuilding,
		Created: now, Expires: now.Add(7 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	b.Open("/account/export")
	b.MustContain("#export-building", "Preparing your download")
	deadline := time.Now().Add(30 * time.Second)
	for testenv.Eval[int](b, `document.querySelectorAll('#exports a[href$="/download"]').length`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not update itself to show the second download: %s", b.Text("main"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Open("/account")

	// Change the password, then sign in with the new one.
	b.Fill("#f-current_password", "river kettle lantern meadow")
	b.Fill("#f-new_password", "harbour violet compass tundra")
	b.Follow(`form[action="/account/password"] button[type=submit]`)
	b.MustContain(".notice", "password has been changed")
	b.Follow(`.signout button`)
	signIn(b, "zoe@example.org", "river kettle lantern meadow")
	b.MustContain(".error-summary", "incorrect")
	signIn(b, "zoe@example.org", "harbour violet compass tundra")
	if p := b.Path(); p != "/" {
		t.Fatalf("after sign-in: at %s, want /", p)
	}
	b.MustContain(".whoami", "Zoë")
	b.Follow(`.signout button`)

	// Five wrong passwords: the throttle message on the fifth.
	for i := 1; i <= 5; i++ {
		signIn(b, "zoe@example.org", "not my password at all")
		got := b.Text(".error-summary")
		if i < 5 && !strings.Contains(got, "incorrect") {
			t.Fatalf("failure %d: got %q, want the incorrect-password message", i, got)
		}
		if i == 5 && (!strings.Contains(got, "Too many failed sign-in attempts") || !strings.Contains(got, "try again in")) {
			t.Fatalf("failure 5: got %q, want the throttle message", got)
		}
	}

	// A manager's first sign-in leads to two-factor set-up.
	signIn(b, "manager@demo.example", app.DemoPassword)
	if p := b.Path(); p != "/account/2fa" {
		t.Fatalf("manager after sign-in: at %s, want /account/2fa", p)
	}
	b.MustContain("main", "Your role gives you access to other people's records")
	b.Open("/admin")
	if p := b.Path(); p != "/account/2fa" {
		t.Fatalf("manager going elsewhere before 2FA: at %s, want /account/2fa", p)
	}
	if n := testenv.Eval[int](b, `document.querySelectorAll("img[alt^='QR code']").length`); n != 1 {
		t.Fatalf("QR code images: %d, want 1", n)
	}
}

// waitForDownload waits until the data download asked for is ready and
// returns its link. It does not reload the page: while the download is
// prepared the page updates itself (site.js) and shows the link once it
// is ready.
func waitForDownload(t *testing.T, b *testenv.Browser) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		link := testenv.Eval[string](b, `(function(){const a=document.querySelector('#exports a[href$="/download"]'); return a ? a.getAttribute("href") : ""})()`)
		if link != "" {
			return link
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not show the data download ready after 30 s: %s", b.Text("main"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func unzipBytes(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	return out
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
