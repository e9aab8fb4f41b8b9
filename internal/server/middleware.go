package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
)

const localRequestID = "request_id"

// requestID returns the current request's ID.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// withRequestID gives every request an ID, returned in X-Request-ID and
// attached to every log line about the request.
func withRequestID(c *fiber.Ctx) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	c.Locals(localRequestID, id)
	c.Set("X-Request-ID", id)
	return c.Next()
}

// withDeadline gives the request a context with a deadline,
// cfg.RequestTimeout (Fiber's UserContext is Background until set): it
// reaches the database, object storage and the mail server, and a request
// past it answers 503. (A file streamed after the handler returns reads on
// a context of its own; see streamContext.) It does not end when the
// process is asked to stop: in-flight requests are finished.
func (s *Server) withDeadline(c *fiber.Ctx) error {
	limit := s.cfg.RequestTimeout
	if limit <= 0 {
		limit = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// streamTimeout bounds a file streamed to a client.
const streamTimeout = 15 * time.Minute

// streamContext returns the context for reading a file that is streamed
// to the client after the handler returns (when the request's own context
// has ended), and the function to call when the stream is done.
func (s *Server) streamContext(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.UserContext()), streamTimeout)
}

// closeThen is a stream body that runs done once it is closed (fasthttp
// closes a body stream when it has been sent).
type closeThen struct {
	io.ReadCloser
	done func()
}

func (r closeThen) Close() error {
	err := r.ReadCloser.Close()
	r.done()
	return err
}

// logRequests logs one line per request after it has been handled.
func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now so the status is logged.
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("error handler failed", "err", herr, "request_id", requestID(c))
		}
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if c.Path() == "/healthz" || c.Path() == "/readyz" || len(c.Path()) > 8 && c.Path()[:8] == "/static/" {
		level = slog.LevelDebug
	}
	s.log.Log(c.UserContext(), level, "request",
		"method", c.Method(),
		"path", c.Path(), // never the query string: it may carry tokens
		"status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000,
		"request_id", requestID(c),
	)
	return nil
}

// recoverPanics turns a panic in a handler into an internal error.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "request_id", requestID(c))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.cfg.SecureCookies() {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}
