package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/testenv"
)

// world is a running server (in-process) on real stores, with one account
// per persona.
type world struct {
	t       *testing.T
	env     *testenv.Env
	srv     *server.Server
	svc     *app.Services
	key     []byte
	mu      sync.Mutex
	now     time.Time
	users   map[string]*auth.User
	orgA    *auth.Organisation
	orgB    *auth.Organisation
	persona []string
	courses string               // course catalogue directory; "" = the embedded catalogue
	config  func(*config.Config) // changes to the configuration of new instances
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func newWorld(t *testing.T, coursesDir ...string) *world {
	t.Helper()
	w := &world{t: t, env: testenv.New(t), now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), users: map[string]*auth.User{}}
	if len(coursesDir) > 0 {
		w.courses = coursesDir[0]
	}
	w.key = make([]byte, 32)
	_, _ = rand.Read(w.key)
	w.srv, w.svc = w.newInstance()
	ctx := context.Background()
	var err error
	if w.orgA, err = w.svc.Auth.CreateOrg(ctx, "Org A", auth.OrgService); err != nil {
		t.Fatal(err)
	}
	if w.orgB, err = w.svc.Auth.CreateOrg(ctx, "Org B", auth.OrgPartner); err != nil {
		t.Fatal(err)
	}
	hash := auth.HashPassword("correct horse battery staple")
	for _, p := range []struct {
		name  string
		org   *auth.Organisation
		roles []auth.Role
	}{
		{"learner", w.orgA, []auth.Role{auth.RoleLearner}},
		{"learner2", w.orgA, []auth.Role{auth.RoleLearner}},
		{"advocate", w.orgA, []auth.Role{auth.RoleLearner, auth.RoleAdvocate}},
		{"manager", w.orgA, []auth.Role{auth.RoleLearner, auth.RoleManager}},
		{"other-manager", w.orgB, []auth.Role{auth.RoleLearner, auth.RoleManager}},
		{"admin", w.orgA, []auth.Role{auth.RoleLearner, auth.RoleAdmin}},
	} {
		u, err := w.svc.Auth.CreateUser(ctx, p.name+"@example.org", strings.ToUpper(p.name[:1])+p.name[1:]+" Person", hash, p.org.ID, auth.JobOther, p.roles)
		if err != nil {
			t.Fatal(err)
		}
		if u.NeedsTwoFactor() { // managers and admins have 2FA set up
			if err := w.env.DB.UpdateUser(ctx, u.ID, auth.UserUpdate{TOTPEnabled: new(true)}); err != nil {
				t.Fatal(err)
			}
		}
		w.users[p.name] = u
	}
	return w
}

// newInstance builds another server on the same stores, like a second
// instance behind a load balancer.
func (w *world) newInstance() (*server.Server, *app.Services) {
	cfg := config.Default()
	cfg.BaseURL = "http://lms.test"
	if w.courses != "" {
		cfg.CoursesDir = w.courses
		cfg.CompliancePolicy = "../compliance/testdata/sample-policy.yaml"
	}
	if w.config != nil {
		w.config(&cfg)
	}
	cat, err := app.LoadCatalogue(w.courses)
	if err != nil {
		w.t.Fatal(err)
	}
	srv, svc, err := app.Wire(cfg, cat, w.env.DB, w.env.Blob, w.key, w.clock, testenv.Logger(w.t), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return srv, svc
}

// session signs a persona in (a fresh session) and returns its cookie value.
func (w *world) session(persona string) string {
	w.t.Helper()
	u := w.users[persona]
	token, id := auth.NewToken()
	now := w.clock()
	if err := w.env.DB.InsertSession(context.Background(), &auth.Session{ID: id, UserID: u.ID, Created: now, LastSeen: now, Expires: now.Add(auth.SessionAbsolute)}); err != nil {
		w.t.Fatal(err)
	}
	return token
}

// client is one browser: a cookie jar against an in-process server.
type client struct {
	w       *world
	srv     *server.Server
	cookies map[string]string
}

func (w *world) client(srv *server.Server, token string) *client {
	c := &client{w: w, srv: srv, cookies: map[string]string{}}
	if token != "" {
		c.cookies["lms_session"] = token
	}
	return c
}

func (c *client) do(method, target string, form url.Values) (*http.Response, string) {
	c.w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.srv.Handler().Test(req, -1)
	if err != nil {
		c.w.t.Fatalf("%s %s: %v", method, target, err)
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf fetches a page and returns the CSRF token its forms carry.
func (c *client) csrf() string {
	c.w.t.Helper()
	_, body := c.do("GET", "/login", nil)
	if v := c.cookies["lms_session"]; v != "" {
		_, body = c.do("GET", "/account", nil)
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.w.t.Fatalf("no CSRF token on the page")
	}
	return m[1]
}

// post sends a form with the client's CSRF token.
func (c *client) post(target string, form url.Values) (*http.Response, string) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.csrf())
	return c.do("POST", target, form)
}

var personas = []string{"anonymous", "learner", "advocate", "manager", "other-manager", "admin"}

// expectation says what the route table promises a persona.
func expectation(who, persona string) string {
	if persona == "anonymous" {
		if who == "anyone" {
			return "allowed"
		}
		return "login"
	}
	roles := map[string][]string{
		"learner": {"learner"}, "advocate": {"learner", "advocate"}, "manager": {"learner", "manager"},
		"other-manager": {"learner", "manager"}, "admin": {"learner", "admin"},
	}[persona]
	has := func(r string) bool {
		for _, x := range roles {
			if x == r {
				return true
			}
		}
		return false
	}
	switch who {
	case "anyone", "signed-in":
		return "allowed"
	case "advocate":
		if has("advocate") {
			return "allowed"
		}
	case "manager":
		if has("manager") || has("admin") {
			return "allowed"
		}
	case "admin":
		if has("admin") {
			return "allowed"
		}
	case "trainer":
		if has("trainer") || has("admin") {
			return "allowed"
		}
	}
	return "forbidden"
}

// fill replaces route parameters with values that exist where it matters.
func (w *world) fill(path string) string {
	slug := "about"
	if strings.HasPrefix(path, "/courses/") {
		slug = "child-protection-process"
	}
	r := strings.NewReplacer(":id", w.users["learner2"].ID, ":slug", slug, ":lesson", "01-referral", ":no", "1", ":hash", "0", "*", "css/site.css")
	return r.Replace(path)
}

func TestRouteTableByRole(t *testing.T) {
	w := newWorld(t)
	routes := w.srv.Routes()
	if len(routes) < 20 {
		t.Fatalf("route table has %d routes; expected the whole application", len(routes))
	}
	for _, rt := range routes {
		for _, persona := range personas {
			want := expectation(rt.Who, persona)
			name := rt.Method + " " + rt.Path + " as " + persona
			token := ""
			if persona != "anonymous" {
				token = w.session(persona)
			}
			c := w.client(w.srv, token)
			var resp *http.Response
			target := w.fill(rt.Path)
			if rt.Method == "GET" {
				resp, _ = c.do("GET", target, nil)
			} else {
				resp, _ = c.post(target, url.Values{})
			}
			loc := resp.Header.Get("Location")
			toLogin := resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/login?next=")
			switch want {
			case "allowed":
				if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized || toLogin {
					t.Errorf("%s: got %d %s, want allowed", name, resp.StatusCode, loc)
				}
			case "login":
				if !toLogin {
					t.Errorf("%s: got %d %q, want a redirect to sign in", name, resp.StatusCode, loc)
				}
			case "forbidden":
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: got %d, want 403", name, resp.StatusCode)
				}
			}
		}
	}
}

func TestPostWithoutCSRFTokenIs403(t *testing.T) {
	w := newWorld(t)
	c := w.client(w.srv, w.session("learner"))
	for _, form := range []url.Values{{"name": {"New Name"}, "email": {"learner@example.org"}}, {"name": {"New Name"}, "email": {"learner@example.org"}, "_csrf": {"forged"}}} {
		resp, body := c.do("POST", "/account/profile", form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "did not come from this site") {
			t.Fatalf("got %d, want the 403 page", resp.StatusCode)
		}
	}
	// Anonymous forms are protected too.
	anon := w.client(w.srv, "")
	if resp, _ := anon.do("POST", "/login", url.Values{"email": {"learner@example.org"}, "password": {"correct horse battery staple"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token: got %d, want 403", resp.StatusCode)
	}
	// A token from one session does not work for another.
	other := w.client(w.srv, w.session("learner2"))
	form := url.Values{"name": {"Hijack"}, "email": {"learner@example.org"}, "_csrf": {other.csrf()}}
	if resp, _ := c.do("POST", "/account/profile", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's token: got %d, want 403", resp.StatusCode)
	}
	u, _ := w.env.DB.User(context.Background(), w.users["learner"].ID)
	if u.Name != w.users["learner"].Name {
		t.Fatalf("name changed to %q by a forged request", u.Name)
	}
}

func TestOneLearnerCannotActOnAnothersRecords(t *testing.T) {
	w := newWorld(t)
	victimToken := w.session("learner2")
	victim := w.client(w.srv, victimToken)
	if resp, _ := victim.do("GET", "/account", nil); resp.StatusCode != 200 {
		t.Fatal("victim's session does not work")
	}
	attacker := w.client(w.srv, w.session("learner"))
	victimSessionID := auth.TokenID(victimToken)
	resp, _ := attacker.post("/account/sessions/"+victimSessionID+"/revoke", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking another person's session: got %d, want 404", resp.StatusCode)
	}
	if resp, _ := victim.do("GET", "/account", nil); resp.StatusCode != 200 {
		t.Fatalf("victim signed out by another learner: %d", resp.StatusCode)
	}
	if resp, _ := attacker.do("GET", "/admin/users/"+w.users["learner2"].ID, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("learner reading another's account page: got %d, want 403", resp.StatusCode)
	}
}

func TestLogoutAndDisableReachEveryInstance(t *testing.T) {
	w := newWorld(t)
	other, _ := w.newInstance()
	token := w.session("learner")
	a, b := w.client(w.srv, token), w.client(other, token)
	for _, c := range []*client{a, b} {
		if resp, _ := c.do("GET", "/account", nil); resp.StatusCode != 200 {
			t.Fatalf("before logout: %d", resp.StatusCode)
		}
	}
	if resp, _ := a.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	a.cookies["lms_session"] = token // a stolen copy of the cookie
	if resp, _ := a.do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same instance right after logout: got %d, want redirect to sign in", resp.StatusCode)
	}
	w.advance(server.SessionCacheTTL + time.Second)
	if resp, _ := b.do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("other instance %s after logout: got %d, want redirect to sign in", server.SessionCacheTTL+time.Second, resp.StatusCode)
	}

	// Disable, by an admin on instance A, of a user active on instance B.
	token2 := w.session("learner2")
	b2 := w.client(other, token2)
	if resp, _ := b2.do("GET", "/account", nil); resp.StatusCode != 200 {
		t.Fatal("learner2 not signed in")
	}
	admin := w.client(w.srv, w.session("admin"))
	if resp, _ := admin.post("/admin/users/"+w.users["learner2"].ID+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	w.advance(server.SessionCacheTTL + time.Second)
	if resp, _ := b2.do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled account on the other instance: got %d, want signed out", resp.StatusCode)
	}
}

// TestSessionCookieLifetimeIsRelative: the session cookie carries Max-Age,
// not an Expires date from the server's clock. With Expires, a browser whose
// clock runs ahead of the server's (here: twelve years) dropped the cookie at
// once and every sign-in appeared to do nothing.
func TestSessionCookieLifetimeIsRelative(t *testing.T) {
	w := newWorld(t)
	w.mu.Lock()
	w.now = time.Date(2014, 1, 6, 9, 0, 0, 0, time.UTC)
	w.mu.Unlock()
	c := w.client(w.srv, "")
	form := url.Values{"email": {"learner@example.org"}, "password": {"correct horse battery staple"}}
	resp, _ := c.post("/login", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	var found bool
	for _, h := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(h, "lms_session=") {
			continue
		}
		found = true
		lower := strings.ToLower(h)
		if !strings.Contains(lower, "max-age=43200") || strings.Contains(lower, "expires=") {
			t.Fatalf("session cookie %q: want max-age=43200 and no expires", h)
		}
		if !strings.Contains(lower, "httponly") || !strings.Contains(lower, "samesite=lax") || strings.Contains(lower, "secure") {
			t.Fatalf("session cookie %q: want HttpOnly, SameSite=Lax, and not Secure on plain http", h)
		}
	}
	if !found {
		t.Fatal("no session cookie on sign-in")
	}
	// Signing in again makes a new session (no fixation): another cookie value.
	first := c.cookies["lms_session"]
	if resp, _ := c.post("/login", form); resp.StatusCode != http.StatusSeeOther || c.cookies["lms_session"] == first || c.cookies["lms_session"] == "" {
		t.Fatalf("second sign-in: %d, cookie changed %v", resp.StatusCode, c.cookies["lms_session"] != first)
	}
	if resp, body := c.do("GET", "/account", nil); resp.StatusCode != 200 || !strings.Contains(body, "Your account") {
		t.Fatalf("after sign-in: %d", resp.StatusCode)
	}
}

func TestRawDatabaseFilesHoldNoPasswordOrTOTPSecret(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	u, err := w.svc.Auth.Register(ctx, auth.Registration{Name: "Grep Target", Email: "grep@example.org", Password: "plaintext-needle-7731 horse", OrgID: w.orgA.ID, JobRole: auth.JobOther})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := w.svc.Auth.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u, _ = w.env.DB.User(ctx, u.ID)
	if _, err := w.svc.Auth.ConfirmTOTP(ctx, u, auth.CurrentCode(setup.Secret, w.clock())); err != nil {
		t.Fatal(err)
	}
	found := testenv.GrepDataDir(t, []string{"plaintext-needle-7731", setup.Secret, base64.StdEncoding.EncodeToString([]byte(setup.Secret))})
	if len(found) > 0 {
		t.Fatalf("plain text found in the raw database files: %v", found)
	}
	// The check can fail: the email, which is not secret, is in the files.
	if found := testenv.GrepDataDir(t, []string{"grep@example.org"}); len(found) == 0 {
		t.Fatal("the email is not in the raw files either: is the grep looking at the right files?")
	}
}
