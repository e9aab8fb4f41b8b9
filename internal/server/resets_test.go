package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/testenv"
)

// newMailWorld is a world whose email goes through a real SMTP server.
func newMailWorld(t *testing.T) (*world, *testenv.SMTPServer) {
	t.Helper()
	w := newWorld(t)
	smtp := testenv.StartSMTP(t)
	w.config = func(c *config.Config) { c.SMTPURL = smtp.URL }
	w.srv, w.svc = w.newInstance()
	return w, smtp
}

var resetLinkRE = regexp.MustCompile(`http://lms\.test/password/reset\?token=([A-Za-z0-9_-]+)`)

// deliveredToken returns the token of the newest reset link delivered to
// email.
func (w *world) deliveredToken(smtp *testenv.SMTPServer, email string) string {
	w.t.Helper()
	w.svc.Mail.Wait()
	mails := smtp.To(email)
	if len(mails) == 0 {
		w.t.Fatalf("no email delivered to %s", email)
	}
	m := resetLinkRE.FindStringSubmatch(mails[len(mails)-1].Text)
	if m == nil {
		w.t.Fatalf("the email to %s holds no reset link: %s", email, mails[len(mails)-1].Text)
	}
	return m[1]
}

// requestReset asks for a reset link as a visitor would and returns the
// token the delivered email carries.
func (w *world) requestReset(smtp *testenv.SMTPServer, email string) string {
	w.t.Helper()
	resp, body := w.client(w.srv, "").post("/password/forgot", url.Values{"email": {email}})
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("forgot password: got %d, want 303: %.500s", resp.StatusCode, body)
	}
	return w.deliveredToken(smtp, email)
}

// resetWorks reports whether the reset page accepts the token.
func (w *world) resetWorks(token string) bool {
	w.t.Helper()
	resp, _ := w.client(w.srv, "").do("GET", "/password/reset?token="+token, nil)
	return resp.StatusCode == http.StatusOK
}

func TestResetAndInvitationLinksAreNotReadableByStaffOrAtRest(t *testing.T) {
	w, smtp := newMailWorld(t)
	ctx := context.Background()
	learner := w.users["learner"]
	resetToken := w.requestReset(smtp, learner.Email)
	w.createAdvocate("Nia Invited", "nia@example.org") // the invitation is a link to choose a password
	inviteToken := w.deliveredToken(smtp, "nia@example.org")
	tokens := []string{resetToken, inviteToken}

	t.Run("AdminOutboxShowsThemRedacted", func(t *testing.T) {
		admin := w.client(w.srv, w.session("admin"))
		resp, page := admin.do("GET", "/admin/outbox", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "nia@example.org") {
			t.Fatalf("outbox: got %d, want 200 listing the invitation", resp.StatusCode)
		}
		for _, tok := range tokens {
			if strings.Contains(page, tok) {
				t.Fatal("the outbox list shows a live link")
			}
		}
		for _, email := range []string{learner.Email, "nia@example.org"} {
			msgs, _, err := w.env.DB.Messages(ctx, email, 0, 10)
			if err != nil || len(msgs) == 0 {
				t.Fatalf("messages to %s: %d, %v", email, len(msgs), err)
			}
			for _, m := range msgs {
				resp, page := admin.do("GET", "/admin/outbox/"+m.ID, nil)
				if resp.StatusCode != http.StatusOK || !strings.Contains(page, m.Subject) {
					t.Fatalf("message page: got %d, want 200 with the subject %q", resp.StatusCode, m.Subject)
				}
				if strings.Contains(page, "token=") || strings.Contains(page, resetToken) || strings.Contains(page, inviteToken) {
					t.Fatalf("the message page for %s shows a live link", email)
				}
				if m.Kind == "password_reset" && !strings.Contains(page, notify.SecretNotShown) {
					t.Errorf("the message page for %s does not say why its body is not shown", email)
				}
			}
		}
	})

	t.Run("RawDatabaseFilesHoldNoLink", func(t *testing.T) {
		if found := testenv.GrepDataDir(t, tokens); len(found) > 0 {
			t.Fatalf("%d live links found in plain text in the raw database files (or their WAL)", len(found))
		}
		// The check can fail: the recipient, which is not secret, is there.
		if found := testenv.GrepDataDir(t, []string{"nia@example.org"}); len(found) == 0 {
			t.Fatal("the recipient is not in the raw files either: is the grep looking at the right files?")
		}
	})

	t.Run("DataDownloadHoldsNoLink", func(t *testing.T) {
		c := w.client(w.srv, w.session("learner"))
		if resp, _ := c.post("/account/export", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("asking for a download: got %d, want 303", resp.StatusCode)
		}
		if n, err := w.svc.Rights.RunExports(ctx); err != nil || n != 1 {
			t.Fatalf("building: %d, %v", n, err)
		}
		files := w.fetchDownload(c)
		for name, b := range files {
			if strings.Contains(string(b), resetToken) {
				t.Fatalf("%s in the download holds the live reset link", name)
			}
		}
		outbox := string(files["data/outbox.json"])
		if !strings.Contains(outbox, "Reset your password") || !strings.Contains(outbox, notify.SecretNotShown) {
			t.Fatalf("the download's outbox does not list the reset email, redacted: %.1000s", outbox)
		}
	})

	t.Run("DeliveredLinksWork", func(t *testing.T) {
		c := w.client(w.srv, "")
		for _, tok := range tokens {
			if !w.resetWorks(tok) {
				t.Fatal("a delivered link is refused")
			}
		}
		resp, body := c.post("/password/reset", url.Values{"token": {inviteToken}, "password": {"orchard violin pebble lantern"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("choosing a password from the invitation: got %d, want 303: %.500s", resp.StatusCode, body)
		}
		if u, err := w.svc.Auth.UserByEmail(ctx, "nia@example.org"); err != nil || !auth.VerifyPassword(u.PasswordHash, "orchard violin pebble lantern") {
			t.Fatalf("the chosen password is not the account's: %v", err)
		}
	})
}

func TestResetLinkEnds(t *testing.T) {
	t.Run("WhenANewerOneIsSent", func(t *testing.T) {
		w, smtp := newMailWorld(t)
		email := w.users["learner"].Email
		first := w.requestReset(smtp, email)
		second := w.requestReset(smtp, email)
		if first == second {
			t.Fatal("the second email carries the first link")
		}
		if w.resetWorks(first) {
			t.Fatal("the older link still works after a newer one was sent")
		}
		if !w.resetWorks(second) {
			t.Fatal("the newest link does not work")
		}
	})

	t.Run("WhenThePasswordIsChangedOnTheAccountPage", func(t *testing.T) {
		w, smtp := newMailWorld(t)
		token := w.requestReset(smtp, w.users["learner"].Email)
		c := w.client(w.srv, w.session("learner"))
		resp, body := c.post("/account/password", url.Values{"current_password": {"correct horse battery staple"}, "new_password": {"a quite different long password"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("changing the password: got %d, want 303: %.500s", resp.StatusCode, body)
		}
		if w.resetWorks(token) {
			t.Fatal("the link still works after the password was changed on the account page")
		}
	})

	t.Run("WhenThePasswordChangesByAnyOtherRoute", func(t *testing.T) {
		// A link sent while the password was being changed (so not deleted
		// with the others) ends too: it was issued for the old password.
		w, smtp := newMailWorld(t)
		ctx := context.Background()
		token := w.requestReset(smtp, w.users["learner"].Email)
		u, err := w.env.DB.User(ctx, w.users["learner"].ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.env.DB.UpdateUser(ctx, u.ID, auth.UserUpdate{PasswordHash: new(auth.HashPassword("set by some other route"))}); err != nil {
			t.Fatal(err)
		}
		if w.resetWorks(token) {
			t.Fatal("the link still works for a password changed since it was sent")
		}
	})

	t.Run("AfterItsHour", func(t *testing.T) {
		w, smtp := newMailWorld(t)
		token := w.requestReset(smtp, w.users["learner"].Email)
		w.advance(auth.ResetTokenLifetime - time.Minute)
		if !w.resetWorks(token) {
			t.Fatal("the link is refused within its hour")
		}
		w.advance(2 * time.Minute)
		if w.resetWorks(token) {
			t.Fatal("the link still works after its hour")
		}
	})
}
