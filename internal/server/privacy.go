package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/privacy"
	"github.com/family-advocacy/lms/internal/store"
)

type exportPage struct {
	basePage
	Building *exportRow  // the download being prepared, if any
	Done     []exportRow // downloads ready (or that failed), newest first
	Auto     bool        // the page refreshes itself while one is prepared (asked for)
	Days     int
}

// exportRow is one data download as the page shows it.
type exportRow struct {
	privacy.Export
	Percent  int
	SizeText string
}

func exportRowOf(e privacy.Export) exportRow {
	r := exportRow{Export: e}
	if e.Total > 0 {
		r.Percent = min(100, e.Done*100/e.Total)
	}
	switch {
	case e.Size >= 1<<20:
		r.SizeText = fmt.Sprintf("(%.1f MB)", float64(e.Size)/(1<<20))
	case e.Size > 0:
		r.SizeText = fmt.Sprintf("(%d KB)", max(1, e.Size>>10))
	}
	return r
}

// handleExportPage handles GET /account/export: the viewer's data
// downloads, with the progress of one being prepared. The progress updates
// itself with JavaScript; without it, the person checks again, or asks the
// page to refresh itself (?auto=on: not by default, as a page that reloads
// by itself is hard to use with a screen reader).
func (s *Server) handleExportPage(c *fiber.Ctx) error {
	exps, err := s.rights.Exports(c.UserContext(), viewerOf(c).ID)
	if err != nil {
		return err
	}
	p := &exportPage{basePage: basePage{Title: "Download your data"}, Auto: c.Query("auto") == "on", Days: int(privacy.ExportLifetime / (24 * time.Hour))}
	for _, e := range exps {
		row := exportRowOf(e)
		if e.Status == privacy.ExportBuilding {
			if p.Building == nil {
				p.Building = &row
			}
			continue
		}
		p.Done = append(p.Done, row)
	}
	return s.render(c, fiber.StatusOK, "account_export", p)
}

// handleExportStart handles POST /account/export: asks for a download of
// the viewer's data, built in the background.
func (s *Server) handleExportStart(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, viewerOf(c).ID)
	if err != nil {
		return err
	}
	if _, err := s.rights.StartExport(ctx, u); err != nil {
		return err
	}
	return s.redirectWith(c, "/account/export", flash{Kind: "success", Text: "We are preparing the download of your data. We will email you when it is ready."})
}

// handleExportDownload handles GET /account/export/:id/download: the
// file, streamed from storage, for its owner only (audited).
func (s *Server) handleExportDownload(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, viewerOf(c).ID)
	if err != nil {
		return err
	}
	sctx, done := s.streamContext(c)
	e, r, size, err := s.rights.OpenExport(sctx, u, c.Params("id"))
	if err != nil {
		done()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="my-data-`+e.Finished.Format(time.DateOnly)+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Response().SetBodyStream(closeThen{r, done}, int(size)) // fasthttp closes r when done
	return nil
}

type erasePage struct {
	basePage
	Account *auth.User
	Plan    *privacy.Plan
	Policy  string
	Form    *formState
	Request *store.RightsRequest // the erasure request this answers, when it came from one
}

// erasureRequest returns the erasure request named by ?request= (or the
// form's request field), when it is about this account and still open.
func (s *Server) erasureRequest(c *fiber.Ctx, userID string) *store.RightsRequest {
	id := c.Query("request")
	if id == "" {
		id = c.FormValue("request")
	}
	if id == "" {
		return nil
	}
	r, err := s.rights.RightsRequest(c.UserContext(), id)
	if err != nil || r.UserID != userID || r.Kind != privacy.RightsErasure || !r.Open() {
		return nil
	}
	return r
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
	return s.render(c, status, "admin_erase", &erasePage{basePage: basePage{Title: "Erase " + u.Name}, Account: u, Plan: plan, Policy: s.cfg.ErasureCertificates, Form: f,
		Request: s.erasureRequest(c, u.ID)})
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
	req := s.erasureRequest(c, u.ID)
	plan, err := s.rights.Erase(ctx, viewerOf(c).user, u.ID, false)
	if err != nil {
		return err
	}
	s.sessions.dropUser(u.ID)
	if !plan.Done {
		return errs.E(errs.EINTERNAL, "The erasure did not finish; run it again.")
	}
	if req != nil {
		return s.redirectWith(c, "/admin/rights/"+req.ID, flash{Kind: "success", Text: "The account has been erased and anonymised. Tell them it is done, then mark the request done."})
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
