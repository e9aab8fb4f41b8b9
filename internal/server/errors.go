package server

import (
	"context"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
)

// errorPage is the page shown for any error.
type errorPage struct {
	basePage
	Status  int
	Heading string
	Message string
	Next    string
}

var statusOf = map[errs.Code]int{
	errs.EINVALID:      fiber.StatusUnprocessableEntity,
	errs.ENOTFOUND:     fiber.StatusNotFound,
	errs.EUNAUTHORIZED: fiber.StatusUnauthorized,
	errs.EFORBIDDEN:    fiber.StatusForbidden,
	errs.ECONFLICT:     fiber.StatusConflict,
	errs.ETOOMANY:      fiber.StatusTooManyRequests,
	errs.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	errs.EINTERNAL:     fiber.StatusInternalServerError,
}

var headingOf = map[int]string{
	400: "Bad request",
	401: "Please sign in",
	403: "You do not have access to this page",
	404: "Page not found",
	405: "Not allowed",
	409: "That cannot be done now",
	413: "That file is too large",
	422: "There is a problem with what was sent",
	429: "Too many attempts",
	500: "Sorry, there is a problem with the service",
	503: "Sorry, the service is unavailable",
}

// handleError is the one error handler: it maps an error to a status and an
// error page, and logs only what is our fault.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	msg := errs.MessageOf(err)
	var ferr *fiber.Error
	switch {
	case errors.As(err, &ferr):
		status = ferr.Code
		msg = ferr.Message
		if status == fiber.StatusNotFound {
			msg = "We could not find the page you asked for."
		}
	case errs.CodeOf(err) == errs.EINTERNAL && errors.Is(err, context.DeadlineExceeded):
		// The request's deadline passed waiting on a store: busy or
		// down for a moment, not broken.
		status, msg = fiber.StatusServiceUnavailable, "The service is busy at the moment and could not finish in time. Please try again in a moment."
	default:
		status = statusOf[errs.CodeOf(err)]
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "5")
		s.log.Warn("a store is unavailable", "err", err, "method", c.Method(), "path", c.Path(), "request_id", requestID(c))
	} else if status >= 500 {
		s.log.Error("internal error", "err", err, "method", c.Method(), "path", c.Path(), "request_id", requestID(c))
	}
	if status == fiber.StatusTooManyRequests {
		c.Set(fiber.HeaderRetryAfter, "60")
	}
	p := &errorPage{Status: status, Heading: headingOf[status], Message: msg, Next: url.QueryEscape(string(c.Request().URI().RequestURI()))}
	if p.Heading == "" {
		p.Heading = "Something went wrong"
	}
	p.Title = p.Heading
	if rerr := s.render(c, status, "error", p); rerr != nil {
		s.log.Error("render error page", "err", rerr, "request_id", requestID(c))
		return c.Status(status).SendString(p.Heading)
	}
	return nil
}
