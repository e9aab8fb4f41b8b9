package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Re-authentication (issue 13, point 5): changing the email address or
// password, making new recovery codes and turning two-factor off ask for
// the current password, and a code where two-factor is on; an email change
// waits for the link sent to the new address; a session waiting for its
// second factor can sign out, and passing it gives a new session token.

const rightPassword = "correct horse battery staple" // every persona's (see newWorld)

// enableTOTP turns two-factor on for a persona with a real secret, as the
// set-up page does, and returns the secret.
func (w *world) enableTOTP(persona string) string {
	w.t.Helper()
	ctx := context.Background()
	setup, err := w.svc.Auth.BeginTOTP(ctx, w.users[persona])
	if err != nil {
		w.t.Fatal(err)
	}
	u, err := w.env.DB.User(ctx, w.users[persona].ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.svc.Auth.ConfirmTOTP(ctx, u, w.totp(setup.Secret)); err != nil {
		w.t.Fatal(err)
	}
	return setup.Secret
}

// totp moves the clock on to the next 30-second step (each code is taken
// once) and returns the code of secret then.
func (w *world) totp(secret string) string {
	w.advance(30 * time.Second)
	return auth.CurrentCode(secret, w.clock())
}

// user reads a persona's account as stored now.
func (w *world) user(persona string) *auth.User {
	w.t.Helper()
	u, err := w.env.DB.User(context.Background(), w.users[persona].ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// postFrom sends a form with the CSRF token of the page it is on.
func (c *client) postFrom(page, target string, form url.Values) (*http.Response, string) {
	c.w.t.Helper()
	_, body := c.do("GET", page, nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.w.t.Fatalf("no CSRF token on %s", page)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", m[1])
	return c.do("POST", target, form)
}

// refused checks that a form came back with a message on each field (by
// element id) and with nothing changed.
func refused(t *testing.T, what string, resp *http.Response, body string, status int, fields ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: got %d, want %d", what, resp.StatusCode, status)
	}
	for _, id := range fields {
		if !strings.Contains(body, `id="`+id+`-error"`) || !strings.Contains(body, `aria-describedby="`+id+`-error"`) {
			t.Errorf("%s: no error message linked to #%s", what, id)
		}
	}
}

func TestAccountChangesAskForThePasswordAgain(t *testing.T) {
	w, smtp := newMailWorld(t)
	secret := w.enableTOTP("learner2")
	const newPassword = "a brand new long password"

	t.Run("ChangePassword", func(t *testing.T) {
		c := w.client(w.srv, w.session("learner"))
		resp, body := c.post("/account/password", url.Values{"new_password": {newPassword}})
		refused(t, "without the current password", resp, body, http.StatusUnprocessableEntity, "f-current_password")
		resp, body = c.post("/account/password", url.Values{"current_password": {"not my password at all"}, "new_password": {newPassword}})
		refused(t, "with a wrong current password", resp, body, http.StatusUnprocessableEntity, "f-current_password")
		if !strings.Contains(body, "Your current password is incorrect") {
			t.Error("a wrong current password is not said to be wrong")
		}
		if auth.VerifyPassword(w.user("learner").PasswordHash, newPassword) {
			t.Fatal("the password changed without the current one")
		}
		if resp, _ := c.post("/account/password", url.Values{"current_password": {rightPassword}, "new_password": {newPassword}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("with the current password: got %d, want 303", resp.StatusCode)
		}
		if !auth.VerifyPassword(w.user("learner").PasswordHash, newPassword) {
			t.Fatal("the password did not change with the current one")
		}
	})

	t.Run("ChangePasswordNeedsTheCodeWhenTwoFactorIsOn", func(t *testing.T) {
		c := w.client(w.srv, w.session("learner2"))
		resp, body := c.post("/account/password", url.Values{"current_password": {rightPassword}, "new_password": {newPassword}})
		refused(t, "without a code", resp, body, http.StatusUnprocessableEntity, "f-code")
		resp, body = c.post("/account/password", url.Values{"current_password": {rightPassword}, "code": {"000000"}, "new_password": {newPassword}})
		refused(t, "with a wrong code", resp, body, http.StatusUnprocessableEntity, "f-code")
		if auth.VerifyPassword(w.user("learner2").PasswordHash, newPassword) {
			t.Fatal("the password changed without the code")
		}
	})

	t.Run("ChangeEmailNeedsThePassword", func(t *testing.T) {
		c := w.client(w.srv, w.session("advocate"))
		resp, body := c.post("/account/email", url.Values{"new_email": {"advocate.new@example.org"}})
		refused(t, "without the current password", resp, body, http.StatusUnprocessableEntity, "f-email-current_password")
		resp, body = c.post("/account/email", url.Values{"new_email": {"advocate.new@example.org"}, "current_password": {"not my password at all"}})
		refused(t, "with a wrong current password", resp, body, http.StatusUnprocessableEntity, "f-email-current_password")
		if !strings.Contains(body, `value="advocate.new@example.org"`) {
			t.Error("the new address typed was lost")
		}
		w.svc.Mail.Wait()
		if got := smtp.To("advocate.new@example.org"); len(got) != 0 {
			t.Fatalf("%d emails sent to the new address without the current password", len(got))
		}
		c2 := w.client(w.srv, w.session("learner2"))
		resp, body = c2.post("/account/email", url.Values{"new_email": {"learner2.new@example.org"}, "current_password": {rightPassword}})
		refused(t, "without a code (two-factor on)", resp, body, http.StatusUnprocessableEntity, "f-email-code")
		if w.user("learner2").EmailChange != nil {
			t.Fatal("an email change was started without the code")
		}
	})

	var recovery []string
	t.Run("NewRecoveryCodes", func(t *testing.T) {
		c := w.client(w.srv, w.session("learner2"))
		before := w.user("learner2").RecoveryHashes
		resp, body := c.post("/account/2fa/recovery-codes", nil)
		refused(t, "without password or code", resp, body, http.StatusUnprocessableEntity, "f-codes-current_password", "f-codes-code")
		resp, body = c.post("/account/2fa/recovery-codes", url.Values{"current_password": {"not my password at all"}, "code": {w.totp(secret)}})
		refused(t, "with a wrong password", resp, body, http.StatusUnprocessableEntity, "f-codes-current_password")
		resp, body = c.post("/account/2fa/recovery-codes", url.Values{"current_password": {rightPassword}})
		refused(t, "without a code", resp, body, http.StatusUnprocessableEntity, "f-codes-code")
		resp, body = c.post("/account/2fa/recovery-codes", url.Values{"current_password": {rightPassword}, "code": {"000000"}})
		refused(t, "with a wrong code", resp, body, http.StatusUnprocessableEntity, "f-codes-code")
		if !slices.Equal(w.user("learner2").RecoveryHashes, before) {
			t.Fatal("the recovery codes changed without the password and code")
		}
		resp, body = c.post("/account/2fa/recovery-codes", url.Values{"current_password": {rightPassword}, "code": {w.totp(secret)}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("with password and code: got %d, want 200", resp.StatusCode)
		}
		for _, m := range regexp.MustCompile(`<code>([a-z0-9]{4}-[a-z0-9]{4})</code>`).FindAllStringSubmatch(body, -1) {
			recovery = append(recovery, m[1])
		}
		if len(recovery) != 10 || slices.Equal(w.user("learner2").RecoveryHashes, before) {
			t.Fatalf("%d new codes shown; want 10, and the stored ones replaced", len(recovery))
		}
	})

	t.Run("TurnOffTwoFactor", func(t *testing.T) {
		c := w.client(w.srv, w.session("learner2"))
		resp, body := c.post("/account/2fa/disable", nil)
		refused(t, "without password or code", resp, body, http.StatusUnprocessableEntity, "f-disable-current_password", "f-disable-code")
		resp, body = c.post("/account/2fa/disable", url.Values{"current_password": {"not my password at all"}, "code": {w.totp(secret)}})
		refused(t, "with a wrong password", resp, body, http.StatusUnprocessableEntity, "f-disable-current_password")
		resp, body = c.post("/account/2fa/disable", url.Values{"current_password": {rightPassword}})
		refused(t, "without a code", resp, body, http.StatusUnprocessableEntity, "f-disable-code")
		if !w.user("learner2").TOTPEnabled {
			t.Fatal("two-factor was turned off without the password and code")
		}
		if len(recovery) == 0 {
			t.Fatal("no recovery code from NewRecoveryCodes (that subtest must run first)")
		}
		// A recovery code stands in for the app's code.
		resp, _ = c.post("/account/2fa/disable", url.Values{"current_password": {rightPassword}, "code": {recovery[0]}})
		if resp.StatusCode != http.StatusSeeOther || w.user("learner2").TOTPEnabled {
			t.Fatalf("with password and a recovery code: got %d, two-factor on %v; want 303 and off", resp.StatusCode, w.user("learner2").TOTPEnabled)
		}
	})
}

func TestReauthFailuresCountTowardsTheSignInLock(t *testing.T) {
	w := newWorld(t)
	c := w.client(w.srv, w.session("learner"))
	form := func(current string) url.Values {
		return url.Values{"current_password": {current}, "new_password": {"a brand new long password"}}
	}
	for i := 1; i <= auth.AccountFailureLimit; i++ {
		resp, body := c.post("/account/password", form("not my password at all"))
		want := http.StatusUnprocessableEntity
		if i == auth.AccountFailureLimit {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("wrong password %d: got %d, want %d", i, resp.StatusCode, want)
		}
		if i == auth.AccountFailureLimit && !strings.Contains(body, "Too many failed sign-in attempts") {
			t.Fatal("the lock is not explained on the form")
		}
	}
	// Signing in is locked too, and so is the right password here.
	anon := w.client(w.srv, "")
	if resp, _ := anon.post("/login", url.Values{"email": {"learner@example.org"}, "password": {rightPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sign-in after the re-authentication failures: got %d, want 429", resp.StatusCode)
	}
	if resp, _ := c.post("/account/password", form(rightPassword)); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked: got %d, want 429", resp.StatusCode)
	}
	if auth.VerifyPassword(w.user("learner").PasswordHash, "a brand new long password") {
		t.Fatal("the password changed while locked")
	}
}

var emailLinkRE = regexp.MustCompile(`http://lms\.test(/account/email/confirm\?token=[A-Za-z0-9._-]+)`)

func TestEmailChangeWaitsForTheLinkSentToTheNewAddress(t *testing.T) {
	w, smtp := newMailWorld(t)
	ctx := context.Background()
	const oldEmail, newEmail = "advocate@example.org", "advocate.new@example.org"
	id := w.users["advocate"].ID

	// ask starts a change as the advocate and returns the emailed link.
	ask := func(t *testing.T, to string) string {
		t.Helper()
		c := w.client(w.srv, w.session("advocate"))
		resp, body := c.post("/account/email", url.Values{"new_email": {to}, "current_password": {rightPassword}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("asking for the change: got %d, want 303: %.300s", resp.StatusCode, body)
		}
		w.svc.Mail.Wait()
		mails := smtp.To(to)
		if len(mails) == 0 {
			t.Fatalf("no email to %s", to)
		}
		m := emailLinkRE.FindStringSubmatch(mails[len(mails)-1].Text)
		if m == nil {
			t.Fatalf("no confirmation link in the email to %s: %s", to, mails[len(mails)-1].Text)
		}
		return m[1]
	}
	linkWorks := func(link string) bool {
		resp, _ := w.client(w.srv, "").do("GET", link, nil)
		return resp.StatusCode == http.StatusOK
	}

	link := ask(t, newEmail)
	t.Run("NothingChangesBeforeTheLink", func(t *testing.T) {
		if got := w.user("advocate").Email; got != oldEmail {
			t.Fatalf("email is %q before the link was followed, want %q", got, oldEmail)
		}
		if _, err := w.svc.Auth.UserByEmail(ctx, newEmail); !errs.Is(err, errs.ENOTFOUND) {
			t.Fatalf("the new address finds an account before the link was followed: %v", err)
		}
		// Opening the link (a mail scanner does) only asks.
		if !linkWorks(link) || w.user("advocate").Email != oldEmail {
			t.Fatal("opening the link changed the address, or did not show the page")
		}
	})
	t.Run("TheOldAddressIsTold", func(t *testing.T) {
		mails := smtp.To(oldEmail)
		if len(mails) == 0 {
			t.Fatal("no email to the old address")
		}
		text := mails[len(mails)-1].Text
		if !strings.Contains(text, newEmail) || !strings.Contains(text, "/password/forgot") || emailLinkRE.MatchString(text) {
			t.Fatalf("the old address's email should name the new address and how to stop the change, without the link: %s", text)
		}
	})
	t.Run("TheLinkIsNotKeptReadable", func(t *testing.T) {
		token := link[strings.Index(link, "token=")+len("token="):]
		msgs, _, err := w.env.DB.Messages(ctx, newEmail, 0, 10)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("outbox: %d messages, %v", len(msgs), err)
		}
		_, secret, _ := strings.Cut(token, ".")
		if strings.Contains(msgs[0].Text+msgs[0].HTML, secret) {
			t.Fatal("the outbox holds the confirmation link in plain text")
		}
		if strings.Contains(w.user("advocate").EmailChange.TokenHash, secret) {
			t.Fatal("the account holds the token itself")
		}
	})
	t.Run("FollowingTheLinkChangesIt", func(t *testing.T) {
		c := w.client(w.srv, "")
		resp, _ := c.postFrom(link, "/account/email/confirm", url.Values{"token": {link[strings.Index(link, "token=")+len("token="):]}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirming: got %d, want 303", resp.StatusCode)
		}
		if got := w.user("advocate"); got.Email != newEmail || got.EmailChange != nil {
			t.Fatalf("after the link: email %q, pending %v; want %q and none pending", got.Email, got.EmailChange, newEmail)
		}
		if u, err := w.svc.Auth.UserByEmail(ctx, newEmail); err != nil || u.ID != id {
			t.Fatalf("the new address does not find the account: %v", err)
		}
		if _, err := w.svc.Auth.UserByEmail(ctx, oldEmail); !errs.Is(err, errs.ENOTFOUND) {
			t.Fatalf("the old address still finds an account: %v", err)
		}
		if linkWorks(link) {
			t.Fatal("the link works a second time")
		}
	})
	t.Run("TheLinkExpiresAfterAnHour", func(t *testing.T) {
		link := ask(t, "advocate.third@example.org")
		w.advance(auth.EmailChangeLifetime + time.Minute)
		if linkWorks(link) {
			t.Fatal("the link works after an hour")
		}
	})
	t.Run("APasswordChangeCancelsIt", func(t *testing.T) {
		link := ask(t, "advocate.fourth@example.org")
		c := w.client(w.srv, w.session("advocate"))
		if resp, _ := c.post("/account/password", url.Values{"current_password": {rightPassword}, "new_password": {"a brand new long password"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("password change: got %d", resp.StatusCode)
		}
		if linkWorks(link) {
			t.Fatal("the link works after the password changed")
		}
	})
}

// signInWaitingForCode signs a persona with two-factor on in with their
// password, as a browser does, and returns the browser at the code page.
func (w *world) signInWaitingForCode(persona string) *client {
	w.t.Helper()
	c := w.client(w.srv, "")
	resp, _ := c.post("/login", url.Values{"email": {persona + "@example.org"}, "password": {rightPassword}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login/2fa") {
		w.t.Fatalf("sign-in: got %d to %q, want the code page", resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

func TestSessionWaitingForItsSecondFactor(t *testing.T) {
	w := newWorld(t)
	secret := w.enableTOTP("learner2")
	ctx := context.Background()

	t.Run("CanSignOut", func(t *testing.T) {
		c := w.signInWaitingForCode("learner2")
		token := c.cookies["lms_session"]
		resp, _ := c.postFrom("/login/2fa", "/logout", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("sign-out: got %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, err := w.svc.Auth.Session(ctx, auth.TokenID(token)); !errs.Is(err, errs.ENOTFOUND) {
			t.Fatalf("the waiting session outlived sign-out: %v", err)
		}
		stolen := w.client(w.srv, token)
		if resp, _ := stolen.do("GET", "/login/2fa", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("the signed-out token at the code page: got %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("PassingItGivesANewToken", func(t *testing.T) {
		c := w.signInWaitingForCode("learner2")
		before := c.cookies["lms_session"]
		resp, _ := c.postFrom("/login/2fa", "/login/2fa", url.Values{"code": {"000000"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || c.cookies["lms_session"] != before {
			t.Fatalf("a wrong code: got %d (token kept %v), want 422 and the same waiting session", resp.StatusCode, c.cookies["lms_session"] == before)
		}
		resp, _ = c.postFrom("/login/2fa", "/login/2fa", url.Values{"code": {w.totp(secret)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the right code: got %d, want 303", resp.StatusCode)
		}
		after := c.cookies["lms_session"]
		if after == "" || after == before {
			t.Fatal("passing the second factor kept the session token")
		}
		if resp, _ := c.do("GET", "/account", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("the new token: got %d, want 200", resp.StatusCode)
		}
		for _, srv := range []string{"this instance", "another instance"} {
			inst := w.srv
			if srv == "another instance" {
				inst, _ = w.newInstance()
			}
			if resp, _ := w.client(inst, before).do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther ||
				!strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Fatalf("the token from before the code, on %s: got %d to %q, want a redirect to sign in", srv, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		sessions, err := w.svc.Auth.Sessions(ctx, w.users["learner2"].ID)
		if err != nil || len(sessions) != 1 || sessions[0].ID != auth.TokenID(after) || sessions[0].MFAPending {
			t.Fatalf("sessions after the code: %+v, %v; want only the new, signed-in one", sessions, err)
		}
	})
}

// TestTwoFactorSetUpShowsItsQRCode opens the set-up page as someone without
// two-factor: the QR code is an image, not html/template's #ZgotmplZ.
func TestTwoFactorSetUpShowsItsQRCode(t *testing.T) {
	w := newWorld(t)
	resp, body := w.client(w.srv, w.session("learner")).do("GET", "/account/2fa", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `src="data:image/png;base64,`) || strings.Contains(body, "ZgotmplZ") {
		t.Fatalf("set-up page: %d, QR image missing: %.300s", resp.StatusCode, body[strings.Index(body, "<main"):])
	}
}
