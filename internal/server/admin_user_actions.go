package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// What an administrator does from a person's page when they call for
// help. Each action is audited by the service that does it; one that
// cannot be done now (an invitation already accepted, no two-factor to
// reset) comes back to the page with the reason.

// backToUser redirects to the person's page with a message.
func (s *Server) backToUser(c *fiber.Ctx, id, kind, text string) error {
	return s.redirectWith(c, "/admin/users/"+id, flash{Kind: kind, Text: text})
}

// refused shows why an action cannot be done, on the person's page; other
// errors go to the error page.
func (s *Server) refused(c *fiber.Ctx, id string, err error) error {
	switch errs.CodeOf(err) {
	case errs.ECONFLICT, errs.EFORBIDDEN, errs.EINVALID:
		return s.backToUser(c, id, "error", errs.MessageOf(err))
	}
	return err
}

// handleInvitationResend handles POST /admin/users/:id/invitation/resend:
// a new link (the old one stops working), emailed.
func (s *Server) handleInvitationResend(c *fiber.Ctx) error {
	id := c.Params("id")
	u, err := s.auth.ResendInvitation(c.UserContext(), viewerOf(c).user, id)
	if err != nil {
		return s.refused(c, id, err)
	}
	return s.backToUser(c, id, "success", "A new invitation has been emailed to "+u.Email+". The link sent before no longer works; the new one works for 7 days.")
}

// handleInvitationRevoke handles POST /admin/users/:id/invitation/revoke:
// the link stops working and the account is disabled.
func (s *Server) handleInvitationRevoke(c *fiber.Ctx) error {
	id := c.Params("id")
	if _, err := s.auth.RevokeInvitation(c.UserContext(), viewerOf(c).user, id); err != nil {
		return s.refused(c, id, err)
	}
	s.sessions.dropUser(id)
	return s.backToUser(c, id, "success", "The invitation has been revoked: its link no longer works and the account is disabled. Send a new invitation to let them in after all.")
}

// handleSendPasswordReset handles POST /admin/users/:id/password-reset.
func (s *Server) handleSendPasswordReset(c *fiber.Ctx) error {
	id := c.Params("id")
	u, err := s.auth.User(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := s.auth.SendPasswordReset(c.UserContext(), viewerOf(c).user, id); err != nil {
		return s.refused(c, id, err)
	}
	return s.backToUser(c, id, "success", "A password reset link has been emailed to "+u.Email+". It works once, for one hour.")
}

// handleResetTwoFactor handles POST /admin/users/:id/two-factor/reset,
// with the reason, which is required.
func (s *Server) handleResetTwoFactor(c *fiber.Ctx) error {
	id := c.Params("id")
	f := newForm(c, "reason")
	if err := s.auth.ResetTwoFactor(c.UserContext(), viewerOf(c).user, id, f.Get("reason")); err != nil {
		if errs.Fields(err) != nil && f.absorb(err) {
			return s.renderAdminUser(c, fiber.StatusUnprocessableEntity, nil, f)
		}
		return s.refused(c, id, err)
	}
	s.sessions.dropUser(id)
	return s.backToUser(c, id, "success", "Two-factor authentication has been reset and they have been signed out everywhere. They set it up again when they next sign in (managers and administrators must).")
}

// handleSignOutEverywhere handles POST /admin/users/:id/sign-out: every
// session of the account ends (on the viewer's own, every other one).
func (s *Server) handleSignOutEverywhere(c *fiber.Ctx) error {
	id := c.Params("id")
	v := viewerOf(c)
	n, err := s.auth.SignOutEverywhere(c.UserContext(), v.user, id, v.SessionID)
	if err != nil {
		return s.refused(c, id, err)
	}
	s.sessions.dropUser(id) // this instance's cache; the session asking, if kept, is read again
	msg := "They had no sessions to end."
	switch {
	case n == 1:
		msg = "Their one session has been ended: they must sign in again."
	case n > 1:
		msg = "Their " + strconv.Itoa(n) + " sessions have been ended: they must sign in again everywhere."
	}
	if id == v.ID {
		msg = "Your other sessions have been ended; this one goes on."
	}
	return s.backToUser(c, id, "success", msg)
}

// handleStartCompliance handles POST /admin/users/:id/compliance: starts
// the compliance record of an advocate who has none (one added before the
// record could be made, or given the role later).
func (s *Server) handleStartCompliance(c *fiber.Ctx) error {
	id := c.Params("id")
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case s.comply == nil:
		return errs.E(errs.EUNAVAILABLE, "Compliance records are not available.")
	case !u.HasRole(auth.RoleAdvocate):
		return s.backToUser(c, id, "error", "Give them the Advocate role first (under Roles and organisation).")
	case u.OrgID == "":
		return s.backToUser(c, id, "error", "Put them in an organisation first: its managers keep the record.")
	}
	if _, err := s.comply.CreateForUser(ctx, viewerOf(c).user, u, compliance.Advocate{Status: compliance.StatusOnboarding}); err != nil {
		if errs.Fields(err) != nil {
			return s.backToUser(c, id, "info", "They already have a compliance record.")
		}
		return err
	}
	return s.backToUser(c, id, "success", "Their compliance record has been started, with the status Onboarding, for their organisation's managers to complete.")
}
