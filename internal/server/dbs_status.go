package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// Limits on "check now": per manager and per advocate, each a minute.
const (
	checkNowPerManager  = 5
	checkNowPerAdvocate = 2
)

// handleStatusConsent handles POST /manage/advocates/:id/dbs/:check/consent
// (a manager records a signed consent form) and POST
// /my/compliance/dbs/:check/consent (the advocate's own consent).
func (s *Server) handleStatusConsent(c *fiber.Ctx) error {
	f := newForm(c, "date_of_birth", "surname", "agreed")
	form := "consent-" + c.Params("check")
	return s.recordAction(c, form, f, "Consent to status checks recorded.", func(actor *auth.User, id string) error {
		form := compliance.ConsentForm{DateOfBirth: f.Get("date_of_birth"), Surname: f.Get("surname"), Agreed: f.Get("agreed") != ""}
		var err error
		if c.Params("id") == "" { // /my/compliance: their own consent
			_, err = s.comply.RecordOwnConsent(c.UserContext(), actor, c.Params("check"), form)
		} else {
			_, err = s.comply.RecordConsent(c.UserContext(), actor, id, c.Params("check"), form)
		}
		return err
	})
}

// handleWithdrawConsent handles POST …/dbs/:check/consent/withdraw, for
// a manager or the advocate.
func (s *Server) handleWithdrawConsent(c *fiber.Ctx) error {
	return s.recordAction(c, "consent-"+c.Params("check"), emptyForm(nil), "Consent withdrawn: the app no longer checks this certificate, and its copy of the date of birth and surname is deleted.",
		func(actor *auth.User, id string) error {
			var err error
			if c.Params("id") == "" {
				_, err = s.comply.WithdrawOwnConsent(c.UserContext(), actor, c.Params("check"))
			} else {
				_, err = s.comply.WithdrawConsent(c.UserContext(), actor, id, c.Params("check"))
			}
			return err
		})
}

// handleRevealDOB handles POST /manage/advocates/:id/dbs/:check/dob: the
// date of birth is shown once, on this response, and the view is audited.
func (s *Server) handleRevealDOB(c *fiber.Ctx) error {
	dob, err := s.comply.RevealDateOfBirth(c.UserContext(), viewerOf(c).user, c.Params("id"), c.Params("check"))
	if err != nil {
		return err
	}
	return s.renderAdvocate(c, fiber.StatusOK, "", nil, map[string]string{"dob-" + c.Params("check"): dob})
}

// handleCheckNow handles POST /manage/advocates/:id/dbs/:check/check-now:
// a status check at once (rate-limited), then the notices its result
// calls for.
func (s *Server) handleCheckNow(c *fiber.Ctx) error {
	form := "checknow-" + c.Params("check")
	f := emptyForm(nil)
	f.Order = []string{"check"}
	v := viewerOf(c)
	id := c.Params("id")
	a, err := s.checkNow(c, v.user, id)
	if err != nil {
		if f.absorb(err) {
			return s.renderAdvocate(c, statusFor(err), form, f, nil)
		}
		return err
	}
	words, kind := "done", "success"
	if d := a.LatestDBS(); d != nil {
		if e := d.LastEntry(); e != nil {
			words = e.Words()
			switch {
			case e.NeedsAction():
				kind = "error" // the record needs a decision: said in the notice below too
			case e.Result == compliance.CouldNotCheck:
				kind = "warning"
			}
		}
	}
	return s.redirectWith(c, "/manage/advocates/"+id+"#dbs", flash{Kind: kind, Text: "Status check: " + words + ".", Section: "dbs"})
}

func (s *Server) checkNow(c *fiber.Ctx, actor *auth.User, id string) (*compliance.Advocate, error) {
	ctx := c.UserContext()
	for _, k := range []struct {
		key string
		n   int
	}{{"dbs-check-now:" + actor.ID, checkNowPerManager}, {"dbs-check-now-advocate:" + id, checkNowPerAdvocate}} {
		if err := s.certs.Allow(ctx, k.key, k.n); err != nil {
			if errs.Is(err, errs.ETOOMANY) {
				return nil, errs.FieldErrors{"check": "Status checks were run a moment ago. Please wait a minute and try again."}.Err()
			}
			return nil, err
		}
	}
	a, err := s.comply.CheckStatusNow(ctx, actor, id, c.Params("check"))
	if err != nil {
		if code := errs.CodeOf(err); code == errs.ECONFLICT {
			return nil, errs.FieldErrors{"check": errs.MessageOf(err)}.Err()
		}
		return nil, err
	}
	if s.remind != nil {
		if err := s.remind.StatusNotices(ctx, a); err != nil {
			s.log.Warn("dbs status notices", "advocate", id, "err", err)
		}
	}
	return a, nil
}

// handleStatusReview handles POST /manage/advocates/:id/dbs/:check/review:
// the manager's decision after a status check found new information or no
// match.
func (s *Server) handleStatusReview(c *fiber.Ctx) error {
	f := newForm(c, "status_decision", "status_reason")
	return s.recordAction(c, "review-"+c.Params("check"), f, "Decision on the status check recorded.", func(actor *auth.User, id string) error {
		_, err := s.comply.ReviewStatusCheck(c.UserContext(), actor, id, c.Params("check"), compliance.StatusReviewForm{
			Decision: f.Get("status_decision"), Reason: f.Get("status_reason")})
		return err
	})
}
