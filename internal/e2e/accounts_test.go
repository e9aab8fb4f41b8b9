package e2e

import (
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/testenv"
)

func signIn(b *testenv.Browser, email, password string) {
	b.Open("/login")
	b.Fill("#f-email", email)
	b.Fill("#f-password", password)
	b.Follow(`form[action="/login"] button[type=submit]`)
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
	b.MustContain(".notice", "Welcome, Zoë Łukasiewicz-Ørsted")

	// Sign out, sign in.
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
	if got := testenv.Eval[string](b, `document.querySelector("#f-email").value`); got != "zoe@example.org" {
		t.Fatalf("account email: got %q", got)
	}

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
