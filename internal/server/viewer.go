package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Cookie names.
const (
	sessionCookie = "lms_session"
	anonCookie    = "lms_anon" // pre-sign-in CSRF binding
)

// viewer is the signed-in person making a request.
type viewer struct {
	ID        string
	Name      string
	Email     string
	OrgID     string
	Roles     []string
	SessionID string
	// MustSetup2FA: the account's roles require two-factor and it is not set up.
	MustSetup2FA bool
	// MustConfirmEmail: the account's address waits for the link sent to
	// it (every page says so; enrolling waits for it).
	MustConfirmEmail bool
	user             *auth.User
	// unread is the session's count of unread notifications for the
	// navigation (see unreadFor), kept with the cached session.
	unread *unreadCount
}

// HasRole reports whether the viewer holds role.
func (v *viewer) HasRole(role string) bool { return v != nil && slices.Contains(v.Roles, role) }

func newViewer(u *auth.User, sessionID string) *viewer {
	v := &viewer{ID: u.ID, Name: u.Name, Email: u.Email, OrgID: u.OrgID, SessionID: sessionID, user: u,
		MustSetup2FA: u.NeedsTwoFactor() && !u.TOTPEnabled, MustConfirmEmail: !u.EmailConfirmed()}
	for _, r := range u.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	return v
}

const (
	localViewer  = "viewer"
	localPending = "pending_session" // session waiting for a second factor
	localCSRFKey = "csrf_binding"
)

// viewerOf returns the signed-in viewer, or nil.
func viewerOf(c *fiber.Ctx) *viewer {
	v, _ := c.Locals(localViewer).(*viewer)
	return v
}

// sessionCache keeps recently read sessions for a short time so most
// requests need no database read. An entry is dropped at once on logout or
// disable on this instance; other instances see the change within
// sessionCacheTTL.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	sess    *auth.Session
	user    *auth.User
	fetched time.Time
	unread  *unreadCount
}

// sessionCacheTTL bounds how long another instance may serve a logged-out
// or disabled session.
const sessionCacheTTL = 15 * time.Second

func (sc *sessionCache) get(id string, now time.Time) (cachedSession, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.m[id]
	if !ok || now.Sub(e.fetched) > sessionCacheTTL || now.Sub(e.fetched) < 0 {
		return cachedSession{}, false
	}
	return e, true
}

func (sc *sessionCache) put(id string, e cachedSession) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.m) > 50000 { // bound memory: start again
		sc.m = map[string]cachedSession{}
	}
	sc.m[id] = e
}

func (sc *sessionCache) drop(id string) {
	sc.mu.Lock()
	delete(sc.m, id)
	sc.mu.Unlock()
}

// dropUser removes every cached session of a user.
func (sc *sessionCache) dropUser(userID string) {
	sc.mu.Lock()
	for id, e := range sc.m {
		if e.user.ID == userID {
			delete(sc.m, id)
		}
	}
	sc.mu.Unlock()
}

// loadViewer reads the session cookie and sets the viewer (or the pending
// session) for the request. It never fails the request: a bad cookie just
// means an anonymous visitor.
func (s *Server) loadViewer(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return c.Next()
	}
	id := auth.TokenID(token)
	now := s.now()
	e, ok := s.sessions.get(id, now)
	if ok && !e.sess.Alive(now) {
		s.sessions.drop(id)
		ok = false
	}
	if !ok {
		sess, u, err := s.auth.SessionUser(c.UserContext(), token)
		if err != nil {
			if !errs.Is(err, errs.ENOTFOUND) {
				return err
			}
			s.clearSessionCookie(c)
			return c.Next()
		}
		e = cachedSession{sess: sess, user: u, fetched: now, unread: newUnreadCount()}
		s.sessions.put(id, e)
	} else if now.Sub(e.sess.LastSeen) > time.Minute {
		// Keep the idle timer running for cached sessions too.
		if err := s.auth.TouchSession(c.UserContext(), id, now); err == nil {
			sess := *e.sess
			sess.LastSeen = now
			e.sess = &sess
			s.sessions.put(id, e)
		}
	}
	if e.sess.MFAPending {
		c.Locals(localPending, e)
		c.Locals(localCSRFKey, "pending:"+id)
		return c.Next()
	}
	v := newViewer(e.user, id)
	v.unread = e.unread
	c.Locals(localViewer, v)
	c.Locals(localCSRFKey, "session:"+id)
	return c.Next()
}

// setSessionCookie sets the session cookie. Its lifetime is sent as Max-Age,
// counted on the browser's own clock: an Expires date from the server's clock
// would end the session at once on a browser whose clock runs ahead.
func (s *Server) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.SecureCookies(), MaxAge: int(auth.SessionAbsolute / time.Second),
	})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.SecureCookies(), Expires: time.Unix(0, 0), MaxAge: -1})
}

// csrfBinding returns what the request's CSRF token is bound to: the session,
// or, before sign-in, a random cookie set here.
func (s *Server) csrfBinding(c *fiber.Ctx) string {
	if b, ok := c.Locals(localCSRFKey).(string); ok {
		return b
	}
	anon := c.Cookies(anonCookie)
	if len(anon) < 20 {
		raw := make([]byte, 18)
		_, _ = rand.Read(raw)
		anon = base64.RawURLEncoding.EncodeToString(raw)
		c.Cookie(&fiber.Cookie{Name: anonCookie, Value: anon, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies()})
	}
	b := "anon:" + anon
	c.Locals(localCSRFKey, b)
	return b
}

// csrfToken returns the token forms must send back in the _csrf field.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(s.csrfBinding(c)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF rejects state-changing requests without the right token (403).
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	sent := c.FormValue("_csrf")
	if sent == "" {
		sent = c.Get("X-CSRF-Token")
	}
	want := s.csrfToken(c)
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		return errs.E(errs.EFORBIDDEN, "This form has expired or did not come from this site. Go back, reload the page and try again.")
	}
	return c.Next()
}

// guard enforces a route's access rule: anonymous visitors are sent to sign
// in; signed-in people without the role get 403; managers and admins who
// have not set up two-factor are sent to set it up.
func (s *Server) guard(who access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if who == anyone {
			return c.Next()
		}
		v := viewerOf(c)
		if v == nil {
			return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
		}
		if v.MustSetup2FA && !allowedBefore2FA(c.Path()) {
			s.setFlash(c, flash{Kind: "warning", Text: "Your role needs two-factor authentication. Set it up to continue."})
			return c.Redirect("/account/2fa", fiber.StatusSeeOther)
		}
		if !allowed(who, v) {
			return errs.E(errs.EFORBIDDEN, "Your account does not have access to this page.")
		}
		return c.Next()
	}
}

// allowed reports whether a signed-in viewer satisfies an access rule.
func allowed(who access, v *viewer) bool {
	switch who {
	case anyone, signedIn:
		return true
	case advocate:
		return v.HasRole("advocate")
	case manager:
		return v.HasRole("manager") || v.HasRole("admin")
	case admin:
		return v.HasRole("admin")
	case trainer:
		return v.HasRole("trainer") || v.HasRole("admin")
	}
	return false
}

func allowedBefore2FA(path string) bool {
	return path == "/account/2fa" || path == "/logout" || strings.HasPrefix(path, "/account/2fa/")
}
