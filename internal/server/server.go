// Package server is the HTTP layer: the only package that imports Fiber.
// routes.go lists every route with who may use it; each resource has its own
// file of handlers that parse input, call a domain service and render a typed
// page struct.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/handover"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/lifecycle"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/privacy"
	"github.com/family-advocacy/lms/internal/reminders"
)

// Check is a named readiness check (database, object storage).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Deps is everything the server needs; main builds it.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Clock  func() time.Time
	Checks []Check

	Auth   *auth.Service
	Learn  *learning.Service
	Certs  *certificates.Service
	Audit  *audit.Log
	Comply *compliance.Service
	// HandOver turns a completion into its certificate and CPD entry.
	HandOver *handover.Service
	Outbox   notify.OutboxReader
	Inbox    InboxStore
	Rights   *privacy.Service
	// Remind sends a manager's "remind now" (nil: the action is refused).
	Remind *reminders.Service
	// Impact keeps course evaluations (nil: none are asked).
	Impact *impact.Service
	// Live runs live training sessions (nil: none are offered).
	Live *live.Service
	Key  []byte // secret key, for CSRF tokens
	// Background owns work that outlives a request (a streamed ZIP); nil
	// in tests.
	Background *lifecycle.Group
}

// InboxStore keeps each user's in-app notifications.
type InboxStore interface {
	Inbox(ctx context.Context, userID string) (*notify.Inbox, error)
	MarkNotificationsRead(ctx context.Context, userID string, at time.Time) error
}

// Server serves the LMS over HTTP.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	now    func() time.Time
	checks []Check
	ctx    context.Context // lives as long as the process; for background work

	app    *fiber.App
	tmpl   *templates
	assets *assets
	pages  *pageSet

	auth       *auth.Service
	learn      *learning.Service
	certs      *certificates.Service
	audit      *audit.Log
	comply     *compliance.Service
	handover   *handover.Service
	lessonHTML map[string]*lessonStatic
	outbox     notify.OutboxReader
	inbox      InboxStore
	rights     *privacy.Service
	remind     *reminders.Service
	impact     *impact.Service
	live       *live.Service
	sessions   *sessionCache
	csrfKey    []byte
	hasGET     map[string]bool // registered GET paths, to hide links to pages not built yet
}

// New builds the server and its routes. It parses every template and page,
// so a broken one fails here, at start-up.
func New(d Deps) (*Server, error) {
	s := &Server{ctx: d.Background.Context(), cfg: d.Config, log: d.Logger, now: d.Clock, checks: d.Checks,
		auth: d.Auth, learn: d.Learn, certs: d.Certs, audit: d.Audit, comply: d.Comply, handover: d.HandOver, outbox: d.Outbox, inbox: d.Inbox, rights: d.Rights, remind: d.Remind, impact: d.Impact, live: d.Live, sessions: &sessionCache{m: map[string]cachedSession{}}, hasGET: map[string]bool{}}
	m := hmac.New(sha256.New, d.Key)
	m.Write([]byte("lms csrf v1"))
	s.csrfKey = m.Sum(nil)
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.tmpl, err = parseTemplates(templateFuncs(s.assets)); err != nil {
		return nil, err
	}
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	if s.lessonHTML, err = s.renderLessons(d.Learn.Catalogue); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "lms",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
		BodyLimit:             12 << 20,
		ReadBufferSize:        16 << 10,
		// Values from the request (params, form values) are copies, so
		// they are safe to keep beyond the handler, e.g. in caches.
		Immutable: true,
	})
	s.app.Use(withRequestID, s.withDeadline, s.logRequests, s.recoverPanics, s.securityHeaders, s.loadViewer, s.checkCSRF)
	s.routes()
	return s, nil
}

// Serve accepts connections on ln until ctx ends, then stops accepting and
// waits for in-flight requests for at most the configured shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 8 * time.Second
	}
	if err := s.app.ShutdownWithTimeout(timeout); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Handler exposes the Fiber app for in-process tests (app.Test).
func (s *Server) Handler() *fiber.App { return s.app }
