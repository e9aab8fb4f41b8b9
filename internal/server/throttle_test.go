package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/testenv"
)

// behindProxy returns an instance that believes X-Forwarded-For from the
// in-process test connection (address 0.0.0.0), as one behind a load
// balancer does, so each request can come from an address of its own.
func (w *world) behindProxy() (*server.Server, *app.Services) {
	w.config = func(c *config.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")} }
	return w.newInstance()
}

// answer is a response, read whole.
type answer struct {
	status   int
	location string
	body     string
	cookies  []*http.Cookie
}

// sendFrom posts a form with the client's cookies and CSRF token as if
// from addr. It changes nothing in the client, so several goroutines may
// use one client at once; errors are returned, not fatal.
func (c *client) sendFrom(addr, token, target string, form url.Values) (answer, error) {
	form.Set("_csrf", token)
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.srv.Handler().Test(req, -1)
	if err != nil {
		return answer{}, fmt.Errorf("POST %s from %s: %w", target, addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b), cookies: resp.Cookies()}, err
}

const lockedText = "Too many failed sign-in attempts"

// TestConcurrentGuessesCheckNoMoreThanTheLimit guesses one account's
// password 40 times at once over HTTP, each guess from an address of its
// own, the right password among them, and counts the passwords the server
// checks: never more than the account's limit, and once the limit is
// reached the right password is refused until the lock runs out.
//
// The checks are held until every guess has been either held or answered,
// so that all 40 are in flight together however the machine schedules
// them. The right guess is sent once the limit's worth of guesses are
// being checked (while they still are), so that what it gets does not
// depend on which guesses won the race to be checked.
func TestConcurrentGuessesCheckNoMoreThanTheLimit(t *testing.T) {
	w := newWorld(t)
	srv, svc := w.behindProxy()
	const guesses = 40
	var checked, answered atomic.Int64
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	svc.Auth.BeforePasswordCheck = func() { checked.Add(1); <-release }

	clients, tokens := make([]*client, guesses), make([]string, guesses)
	for i := range clients {
		clients[i] = w.client(srv, "")
		tokens[i] = clients[i].csrf()
	}
	email, right := w.users["learner"].Email, "correct horse battery staple"
	last := guesses - 1
	answers, errc := make([]answer, guesses), make(chan error, guesses)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			password := fmt.Sprintf("wrong guess number %d", i)
			if i == last {
				password = right
				waitFor(func() bool { return checked.Load() >= auth.AccountFailureLimit })
			}
			a, err := clients[i].sendFrom(fmt.Sprintf("198.51.100.%d", i+1), tokens[i], "/login", url.Values{"email": {email}, "password": {password}})
			if err != nil {
				errc <- err
			}
			answers[i] = a
			answered.Add(1)
		}()
	}
	close(start)
	if !waitFor(func() bool { return checked.Load()+answered.Load() >= guesses }) {
		t.Errorf("after 60 s, %d checks under way and %d answers", checked.Load(), answered.Load())
	}
	open()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	if n := checked.Load(); n > auth.AccountFailureLimit || n == 0 {
		t.Fatalf("%d of %d concurrent guesses had their password checked, want at most %d (and some)", n, guesses, auth.AccountFailureLimit)
	}
	for i, a := range answers {
		if a.status == http.StatusSeeOther {
			t.Errorf("guess %d signed in (to %s)", i, a.location)
		}
	}
	if a := answers[last]; a.status != http.StatusTooManyRequests || !strings.Contains(a.body, lockedText) {
		t.Fatalf("the right password once the limit was reached: %d, want 429 and the lock message", a.status)
	}

	// Still locked afterwards, from anywhere; no password is checked.
	c := w.client(srv, "")
	before := checked.Load()
	if a, err := c.sendFrom("203.0.113.7", c.csrf(), "/login", url.Values{"email": {email}, "password": {right}}); err != nil ||
		a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "try again in 1 minute") {
		t.Fatalf("the right password after the burst: %d %v, want 429 with a 1-minute lock", a.status, err)
	}
	if checked.Load() != before {
		t.Fatal("a password was checked while the account was locked")
	}
	// Once the lock has run out, the right password signs in.
	w.advance(auth.FirstLock + time.Second)
	if a, err := c.sendFrom("203.0.113.7", c.csrf(), "/login", url.Values{"email": {email}, "password": {right}}); err != nil || a.status != http.StatusSeeOther {
		t.Fatalf("the right password after the lock: %d %v, want 303 (signed in)", a.status, err)
	}
}

// waitFor polls cond for up to a minute and reports whether it came true.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

var flashRE = regexp.MustCompile(`<div class="notice notice-(\w+)" role="status">([^<]*)</div>`)

// TestForgotPasswordIsThrottledAlikeForEveryAddress posts 30 requests for
// one account's reset link, then requests for many accounts from one
// address: no more emails go than the limits allow, and the answer is the
// same for an address with an account and one without, under the limits
// and past them.
func TestForgotPasswordIsThrottledAlikeForEveryAddress(t *testing.T) {
	w := newWorld(t)
	srv, _ := w.behindProxy()
	ctx := context.Background()
	email := w.users["learner"].Email
	sent := func(to string) int {
		t.Helper()
		_, n, err := w.env.DB.Messages(ctx, to, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	seen := func(addr, email string) string {
		t.Helper()
		c := w.client(srv, "")
		a, err := c.sendFrom(addr, c.csrf(), "/password/forgot", url.Values{"email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		if a.status != http.StatusSeeOther {
			return fmt.Sprintf("%d", a.status)
		}
		// sendFrom keeps no cookies: take the flash from the redirect.
		for _, ck := range a.cookies {
			c.cookies[ck.Name] = ck.Value
		}
		_, page := c.do("GET", a.location, nil)
		m := flashRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no notice on %s after asking for a reset link", a.location)
		}
		return fmt.Sprintf("%d %s %s: %s", a.status, a.location, m[1], m[2])
	}

	// 30 at once for one account, each from an address of its own.
	var wg sync.WaitGroup
	answers := make([]string, 30)
	c := w.client(srv, "")
	token := c.csrf()
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := c.sendFrom(fmt.Sprintf("198.51.100.%d", i+1), token, "/password/forgot", url.Values{"email": {email}})
			answers[i] = fmt.Sprintf("%d %s %v", a.status, a.location, err)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a != answers[0] {
			t.Fatalf("answer %d differs: %q, the first was %q", i, a, answers[0])
		}
	}
	if n := sent(email); n == 0 || n > auth.ResetAccountLimit {
		t.Fatalf("30 requests for one account sent %d emails, want 1 to %d", n, auth.ResetAccountLimit)
	}
	// Past the account's limit, and for an unknown address, the same answer.
	known, unknown := seen("192.0.2.1", email), seen("192.0.2.2", "nobody-here@example.org")
	if known != unknown {
		t.Fatalf("past the limit: known address sees %q, unknown sees %q", known, unknown)
	}
	if !strings.Contains(known, "If an account uses that address") {
		t.Fatalf("answer %q, want the usual notice", known)
	}
	// Under the limits too (a fresh account, fresh addresses).
	if k, u := seen("192.0.2.3", w.users["learner2"].Email), seen("192.0.2.4", "nobody-else@example.org"); k != u || k != known {
		t.Fatalf("under the limit: known %q, unknown %q, want both %q", k, u, known)
	}
	if sent(w.users["learner2"].Email) != 1 {
		t.Fatal("a first request under the limits sent no email")
	}

	// One address asking for many accounts' links.
	hash := auth.HashPassword("correct horse battery staple")
	total := 0
	for i := range auth.ResetAddressLimit + 5 {
		u, err := w.svc.Auth.CreateUser(ctx, fmt.Sprintf("many%d@example.org", i), "Many Person", hash, w.orgA.ID, auth.JobOther, []auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		if got := seen("192.0.2.99", u.Email); got != known {
			t.Fatalf("request %d from one address: %q, want %q", i, got, known)
		}
		total += sent(u.Email)
	}
	if total != auth.ResetAddressLimit {
		t.Fatalf("%d requests from one address for different accounts sent %d emails, want %d", auth.ResetAddressLimit+5, total, auth.ResetAddressLimit)
	}
}

// TestRegistrationIsThrottledPerAddress registers accounts from one
// address until the limit, then once more: refused with 429 and no
// account made; another address may still register.
func TestRegistrationIsThrottledPerAddress(t *testing.T) {
	w := newWorld(t)
	srv, _ := w.behindProxy()
	ctx := context.Background()
	register := func(addr, email string) answer {
		t.Helper()
		c := w.client(srv, "")
		a, err := c.sendFrom(addr, c.csrf(), "/register", url.Values{"name": {"New Learner"}, "email": {email},
			"password": {"a long enough new password"}, "org": {w.orgB.ID}, "job_role": {string(auth.JobOther)}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for i := range auth.RegisterAddressLimit {
		if a := register("192.0.2.10", fmt.Sprintf("new%d@example.org", i)); a.status != http.StatusSeeOther {
			t.Fatalf("registration %d from one address: %d, want 303", i+1, a.status)
		}
	}
	a := register("192.0.2.10", "one-too-many@example.org")
	if a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "Too many accounts") {
		t.Fatalf("registration %d from one address: %d, want 429 and a message", auth.RegisterAddressLimit+1, a.status)
	}
	if _, err := w.svc.Auth.UserByEmail(ctx, "one-too-many@example.org"); err == nil {
		t.Fatal("the refused registration made an account")
	}
	if a := register("192.0.2.11", "elsewhere@example.org"); a.status != http.StatusSeeOther {
		t.Fatalf("registration from another address: %d, want 303", a.status)
	}
}

// TestThrottleRecordsHoldNoEmailOrAddress fails sign-ins, asks for reset
// links and checks certificates from one address, then reads every
// throttle and request counter document as stored: none holds the email
// or the address, nor an unkeyed hash of what was counted.
func TestThrottleRecordsHoldNoEmailOrAddress(t *testing.T) {
	w := newWorld(t)
	srv, _ := w.behindProxy()
	ctx := context.Background()
	email, addr := w.users["learner"].Email, "203.0.113.45"
	c := w.client(srv, "")
	token := c.csrf()
	for i := range 3 {
		if a, err := c.sendFrom(addr, token, "/login", url.Values{"email": {email}, "password": {fmt.Sprintf("wrong %d", i)}}); err != nil || a.status != http.StatusUnprocessableEntity {
			t.Fatalf("failed sign-in %d: %d %v", i, a.status, err)
		}
	}
	if a, err := c.sendFrom(addr, token, "/password/forgot", url.Values{"email": {email}}); err != nil || a.status != http.StatusSeeOther {
		t.Fatalf("reset request: %d %v", a.status, err)
	}
	req := httptest.NewRequest("GET", "/verify/ABCD-EFGH-JKLM", nil)
	req.Header.Set("X-Forwarded-For", addr)
	if _, err := srv.Handler().Test(req, -1); err != nil {
		t.Fatal(err)
	}

	unkeyed := func(key string) string { sum := sha256.Sum256([]byte(key)); return hex.EncodeToString(sum[:12]) }
	needles := []string{email, addr, unkeyed("verify:" + addr)}
	for _, coll := range []string{"throttle", "rate_limits"} {
		cur, err := w.env.DB.DB.Collection(coll).Find(ctx, bson.D{}, options.Find().SetComment(testenv.TestOnly))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			n++
			doc, _ := bson.MarshalExtJSON(cur.Current, false, false)
			for _, needle := range needles {
				if strings.Contains(string(doc), needle) {
					t.Errorf("%s holds %q: %s", coll, needle, doc)
				}
			}
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("no %s documents: is the test looking in the right place?", coll)
		}
	}
	// The account's throttle is there, under its keyed hash.
	th, err := w.env.DB.Throttle(ctx, w.svc.Auth.AccountThrottleKey(email))
	if err != nil || th.Failures != 3 {
		t.Fatalf("the account's throttle: %+v, %v; want 3 attempts", th, err)
	}
}
