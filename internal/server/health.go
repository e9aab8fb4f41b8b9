package server

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
)

// handleHealthz handles GET /healthz: the process is alive.
func (s *Server) handleHealthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok\n")
}

// handleReadyz handles GET /readyz: the database answers and the bucket is
// reachable; otherwise 503 naming what failed.
func (s *Server) handleReadyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	var failed []string
	for _, ch := range s.checks {
		if err := ch.Ping(ctx); err != nil {
			s.log.Warn("readiness check failed", "check", ch.Name, "err", err, "request_id", requestID(c))
			reason := "unreachable"
			if errs.Is(err, errs.EUNAVAILABLE) {
				reason = errs.MessageOf(err)
			}
			failed = append(failed, ch.Name+": "+reason)
		}
	}
	if len(failed) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).SendString("not ready: " + strings.Join(failed, "; ") + "\n")
	}
	return c.SendString("ready\n")
}
