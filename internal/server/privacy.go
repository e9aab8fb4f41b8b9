package server

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/privacy"
)

// handleExport handles GET /account/export: a ZIP of everything held about
// the viewer, streamed as it is built.
func (s *Server) handleExport(c *fiber.Ctx) error {
	v := viewerOf(c)
	u, err := s.auth.User(c.UserContext(), v.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="my-data-`+s.now().Format(time.DateOnly)+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	rights, log, base := s.rights, s.log, s.cfg.BaseURL
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if err := rights.Export(ctx, u, base, w); err != nil {
			log.Error("personal data export failed part-way", "user", u.ID, "err", err)
		}
		_ = w.Flush()
	})
	return nil
}

type erasePage struct {
	basePage
	Account *auth.User
	Plan    *privacy.Plan
	Policy  string
	Form    *formState
}

// handleErasePlan handles GET /admin/users/:id/erase: what erasure would
// do (a dry run), and the form to confirm it.
func (s *Server) handleErasePlan(c *fiber.Ctx) error {
	return s.renderErase(c, fiber.StatusOK, emptyForm(nil))
}

func (s *Server) renderErase(c *fiber.Ctx, status int, f *formState) error {
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	plan, err := s.rights.Erase(ctx, viewerOf(c).user, u.ID, true)
	if err != nil {
		return err
	}
	return s.render(c, status, "admin_erase", &erasePage{basePage: basePage{Title: "Erase " + u.Name}, Account: u, Plan: plan, Policy: s.cfg.ErasureCertificates, Form: f})
}

// handleErase handles POST /admin/users/:id/erase. The admin types the
// person's email address to confirm.
func (s *Server) handleErase(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	f := newForm(c, "confirm_email")
	if !strings.EqualFold(strings.TrimSpace(f.Get("confirm_email")), u.Email) {
		f.absorb(errs.FieldErrors{"confirm_email": "Type the person's email address exactly as shown, to confirm"}.Err())
		return s.renderErase(c, fiber.StatusUnprocessableEntity, f)
	}
	plan, err := s.rights.Erase(ctx, viewerOf(c).user, u.ID, false)
	if err != nil {
		return err
	}
	s.sessions.dropUser(u.ID)
	if !plan.Done {
		return errs.E(errs.EINTERNAL, "The erasure did not finish; run it again.")
	}
	return s.redirectWith(c, "/admin/users/"+u.ID, flash{Kind: "success", Text: "The account has been erased and anonymised."})
}

type retentionPage struct {
	basePage
	Due                  []privacy.Due
	EndedMonths, OutDays int
}

// handleRetention handles GET /admin/retention: what the retention jobs
// would delete now (a dry run).
func (s *Server) handleRetention(c *fiber.Ctx) error {
	due, err := s.rights.Retention(c.UserContext(), true)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "admin_retention", &retentionPage{basePage: basePage{Title: "Retention"}, Due: due,
		EndedMonths: s.cfg.RetainEndedAdvocateMths, OutDays: s.cfg.RetainOutboxDays})
}

// handleRetentionRun handles POST /admin/retention: run the jobs now.
func (s *Server) handleRetentionRun(c *fiber.Ctx) error {
	due, err := s.rights.Retention(c.UserContext(), false)
	if err != nil {
		return err
	}
	text := "Nothing was due for deletion."
	if len(due) > 0 {
		text = fmt.Sprintf("Deleted what was due (%d items).", len(due))
	}
	return s.redirectWith(c, "/admin/retention", flash{Kind: "success", Text: text})
}
