package auth_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type fixture struct {
	svc *auth.Service
	db  *store.DB
	org *auth.Organisation
	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := testenv.New(t)
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: e.DB, now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	mail := notify.NewMailer(e.DB, nil, f.clock, nil)
	mail.Box = box // reset links are sealed in the outbox
	// Open registration: these tests count the emails about passwords.
	f.svc = auth.NewService(e.DB, auth.Deps{Box: box, Mail: mail, Now: f.clock, BaseURL: "https://lms.example", Registration: auth.RegistrationOpen})
	f.org, err = f.svc.CreateOrg(context.Background(), "Test Agency", auth.OrgPartner)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) register(t *testing.T, email string) *auth.User {
	t.Helper()
	u, err := f.svc.Register(context.Background(), auth.Registration{Name: "Sam Jones", Email: email, Password: "correct horse battery staple", OrgID: f.org.ID, JobRole: auth.JobAdvocate})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return u
}

func TestRegistration(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "  Sam.Jones@Example.ORG ")
	if u.Email != "sam.jones@example.org" || !u.HasRole(auth.RoleLearner) {
		t.Fatalf("got email %q roles %v", u.Email, u.Roles)
	}
	t.Run("DuplicateEmailIsAFieldError", func(t *testing.T) {
		_, err := f.svc.Register(ctx, auth.Registration{Name: "Other", Email: "SAM.JONES@example.org", Password: "another fine long password", OrgID: f.org.ID, JobRole: auth.JobOther})
		if fe := errs.Fields(err); fe == nil || !strings.Contains(fe["email"], "already exists") {
			t.Fatalf("got %v, want an email field error", err)
		}
	})
	t.Run("EveryBadFieldIsReported", func(t *testing.T) {
		_, err := f.svc.Register(ctx, auth.Registration{Email: "nope", Password: "short"})
		fe := errs.Fields(err)
		for _, k := range []string{"name", "email", "password", "org", "job_role"} {
			if fe[k] == "" {
				t.Errorf("no message for %s (got %v)", k, fe)
			}
		}
	})
	t.Run("DanglingEmailClaimIsTakenOver", func(t *testing.T) {
		// A crash between claiming the email and inserting the user leaves a claim with no user.
		if err := f.db.ClaimEmail(ctx, "ghost@example.org", "no-such-user", f.clock()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Register(ctx, auth.Registration{Name: "Ghost", Email: "ghost@example.org", Password: "correct horse battery staple", OrgID: f.org.ID, JobRole: auth.JobOther}); errs.Fields(err)["email"] == "" {
			t.Fatalf("fresh dangling claim: got %v, want it still treated as taken", err)
		}
		f.advance(2 * time.Minute)
		u, err := f.svc.Register(ctx, auth.Registration{Name: "Ghost", Email: "ghost@example.org", Password: "correct horse battery staple", OrgID: f.org.ID, JobRole: auth.JobOther})
		if err != nil {
			t.Fatalf("old dangling claim: %v", err)
		}
		if got, err := f.svc.UserByEmail(ctx, "ghost@example.org"); err != nil || got.ID != u.ID {
			t.Fatalf("lookup after takeover: %v, %v", got, err)
		}
	})
}

func TestLoginThrottlesAfterFiveFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "sam@example.org")
	for i := 1; i <= 4; i++ {
		_, err := f.svc.Login(ctx, "sam@example.org", "wrong password "+string(rune('a'+i)), "10.0.0.1", "test")
		if !errs.Is(err, errs.EINVALID) {
			t.Fatalf("failure %d: got %v, want the incorrect-password error", i, err)
		}
	}
	_, err := f.svc.Login(ctx, "sam@example.org", "wrong again", "10.0.0.2", "test")
	if !errs.Is(err, errs.ETOOMANY) || !strings.Contains(errs.MessageOf(err), "try again in 1 minute") {
		t.Fatalf("5th failure: got %v, want a 1-minute lock", err)
	}
	if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.3", "test"); !errs.Is(err, errs.ETOOMANY) {
		t.Fatalf("right password while locked: got %v, want still locked", err)
	}
	f.advance(61 * time.Second)
	if _, err := f.svc.Login(ctx, "sam@example.org", "wrong once more", "10.0.0.3", "test"); !errs.Is(err, errs.ETOOMANY) || !strings.Contains(errs.MessageOf(err), "2 minutes") {
		t.Fatalf("6th failure: got %v, want a 2-minute lock", err)
	}
	f.advance(121 * time.Second)
	res, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.3", "test")
	if err != nil || res.Token == "" {
		t.Fatalf("after the lock: %v", err)
	}
	t.Run("OneAddressGuessingManyAccounts", func(t *testing.T) {
		// 20 failures from one address across different accounts (none
		// reaching its own limit) lock that address, not the others.
		var last error
		for i := 0; i < auth.AddressFailureLimit; i++ {
			_, last = f.svc.Login(ctx, fmt.Sprintf("guess%d@example.org", i), "whatever password", "192.0.2.50", "test")
		}
		if !errs.Is(last, errs.ETOOMANY) {
			t.Fatalf("failure %d from one address: got %v, want the address locked", auth.AddressFailureLimit, last)
		}
		if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "192.0.2.50", "test"); !errs.Is(err, errs.ETOOMANY) {
			t.Fatalf("the right password from the locked address: got %v, want still locked", err)
		}
		if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "192.0.2.51", "test"); err != nil {
			t.Fatalf("from another address: %v", err)
		}
	})
	t.Run("UnknownAccountsAreThrottledAlike", func(t *testing.T) {
		var last error
		for i := 0; i < 5; i++ {
			_, last = f.svc.Login(ctx, "nobody@example.org", "whatever password", "10.0.0.9", "test")
		}
		if !errs.Is(last, errs.ETOOMANY) {
			t.Fatalf("got %v, want the same lock as a real account", last)
		}
	})
}

func TestPasswordResetIsSingleUseAndExpires(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "sam@example.org")
	srv := f.deliverBySMTP(t) // the outbox keeps reset links sealed: read them as delivered
	if err := f.svc.RequestPasswordReset(ctx, "nobody@example.org"); err != nil {
		t.Fatalf("unknown address: %v, want nil (no enumeration)", err)
	}
	if err := f.svc.RequestPasswordReset(ctx, "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	msgs, _, err := f.db.Messages(ctx, "sam@example.org", 0, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox: %d messages, %v", len(msgs), err)
	}
	if all, _, _ := f.db.Messages(ctx, "", 0, 10); len(all) != 1 {
		t.Fatalf("outbox holds %d messages, want only the one for the real account", len(all))
	}
	token := f.deliveredToken(t, srv, "sam@example.org")
	// A live session ends when the password is reset.
	res, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetPassword(ctx, token, "short"); errs.Fields(err)["password"] == "" {
		t.Fatalf("weak new password: got %v", err)
	}
	if _, err := f.svc.ResetPassword(ctx, token, "a brand new long password"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if _, err := f.svc.ResetPassword(ctx, token, "yet another long password"); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("second use: got %v, want ENOTFOUND", err)
	}
	if _, _, err := f.svc.SessionUser(ctx, res.Token); err == nil {
		t.Fatal("old session still valid after reset")
	}
	if _, err := f.svc.Login(ctx, u.Email, "a brand new long password", "10.0.0.1", "test"); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
	// Expiry.
	if err := f.svc.RequestPasswordReset(ctx, "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	token2 := f.deliveredToken(t, srv, "sam@example.org")
	f.advance(auth.ResetTokenLifetime + time.Minute)
	if _, err := f.svc.ResetPassword(ctx, token2, "a later long password"); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("expired token: got %v, want ENOTFOUND", err)
	}
}

// deliverBySMTP makes the fixture's mail go through a real SMTP server.
func (f *fixture) deliverBySMTP(t *testing.T) *testenv.SMTPServer {
	t.Helper()
	srv := testenv.StartSMTP(t)
	sender, err := notify.ParseSMTPURL(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Mail.Sender = sender
	return srv
}

// deliveredToken returns the token of the newest reset link delivered to addr.
func (f *fixture) deliveredToken(t *testing.T, srv *testenv.SMTPServer, addr string) string {
	t.Helper()
	f.svc.Mail.Wait()
	mails := srv.To(addr)
	if len(mails) == 0 {
		t.Fatalf("no email delivered to %s", addr)
	}
	text := mails[len(mails)-1].Text
	i := strings.Index(text, "token=")
	if i < 0 {
		t.Fatalf("no reset link in the email: %s", text)
	}
	return strings.Fields(text[i+len("token="):])[0]
}

func TestTwoFactor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "sam@example.org")
	setup, err := f.svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.URL, "otpauth://totp/") || !strings.HasPrefix(setup.QRPNG, "data:image/png;base64,") {
		t.Fatalf("setup: %+v", setup)
	}
	u, _ = f.db.User(ctx, u.ID)
	if _, err := f.svc.ConfirmTOTP(ctx, u, "000000"); errs.Fields(err)["code"] == "" {
		t.Fatalf("wrong code: got %v", err)
	}
	codes, err := f.svc.ConfirmTOTP(ctx, u, auth.CurrentCode(setup.Secret, f.clock()))
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	f.advance(time.Minute)
	res, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	if err != nil || !res.NeedsCode || !res.Session.MFAPending {
		t.Fatalf("login: %+v %v, want a session waiting for a code", res, err)
	}
	u, _ = f.db.User(ctx, u.ID)
	code := auth.CurrentCode(setup.Secret, f.clock())
	if err := f.svc.VerifySecondFactor(ctx, res.Session.ID, u, code); err != nil {
		t.Fatalf("code: %v", err)
	}
	if sess, _, _ := f.svc.SessionUser(ctx, res.Token); sess.MFAPending {
		t.Fatal("session still waiting after a right code")
	}
	t.Run("ACodeWorksOnce", func(t *testing.T) {
		res2, _ := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
		if err := f.svc.VerifySecondFactor(ctx, res2.Session.ID, u, code); err == nil {
			t.Fatal("replayed code accepted")
		}
	})
	t.Run("ARecoveryCodeWorksOnce", func(t *testing.T) {
		res3, _ := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
		u, _ := f.db.User(ctx, u.ID)
		if err := f.svc.VerifySecondFactor(ctx, res3.Session.ID, u, strings.ToUpper(codes[3])); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		u, _ = f.db.User(ctx, u.ID)
		if len(u.RecoveryHashes) != 9 {
			t.Fatalf("recovery codes left: %d, want 9", len(u.RecoveryHashes))
		}
		res4, _ := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
		if err := f.svc.VerifySecondFactor(ctx, res4.Session.ID, u, codes[3]); err == nil {
			t.Fatal("used recovery code accepted again")
		}
	})
	t.Run("TwoRequestsWithOneRecoveryCodeAtOnce", func(t *testing.T) {
		// Both requests read the account before either used the code.
		u, _ := f.db.User(ctx, u.ID)
		var sessions []string
		for i := 0; i < 2; i++ {
			res, _ := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
			sessions = append(sessions, res.Session.ID)
		}
		errc := make(chan error, 2)
		for _, id := range sessions {
			go func() { errc <- f.svc.VerifySecondFactor(ctx, id, u, codes[5]) }()
		}
		accepted := 0
		for range sessions {
			if <-errc == nil {
				accepted++
			}
		}
		if accepted != 1 {
			t.Fatalf("one recovery code was accepted %d times at once, want once", accepted)
		}
	})
}

func TestDisablingEndsSessionsAndBlocksLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "sam@example.org")
	res, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SessionUser(ctx, res.Token); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("session after disable: %v, want ENOTFOUND", err)
	}
	if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test"); !errs.Is(err, errs.EFORBIDDEN) {
		t.Fatalf("login while disabled: %v", err)
	}
}

func TestSessionIdleAndAbsoluteLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "sam@example.org")
	res, _ := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	f.advance(auth.SessionIdle - time.Minute)
	if _, _, err := f.svc.SessionUser(ctx, res.Token); err != nil {
		t.Fatalf("active session: %v", err)
	}
	f.advance(auth.SessionIdle + time.Second)
	if _, _, err := f.svc.SessionUser(ctx, res.Token); err == nil {
		t.Fatal("idle session still valid")
	}
	res, _ = f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	for elapsed := time.Duration(0); elapsed < auth.SessionAbsolute; elapsed += 30 * time.Minute {
		f.advance(30 * time.Minute)
		_, _, err := f.svc.SessionUser(ctx, res.Token)
		if elapsed+30*time.Minute < auth.SessionAbsolute && err != nil {
			t.Fatalf("at %v: %v", elapsed, err)
		}
		if elapsed+30*time.Minute >= auth.SessionAbsolute && err == nil {
			t.Fatal("session outlived its absolute lifetime")
		}
	}
}
