package privacy

import (
	"context"
	"fmt"
	"slices"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/store"
)

// Step is one thing an erasure or a retention job does (or, in a dry run,
// would do).
type Step struct {
	What  string
	Count int
}

// Plan is what an erasure does, step by step.
type Plan struct {
	UserID string
	Name   string // empty once erased
	Steps  []Step
	Done   bool // carried out (false for a dry run)
}

func (p *Plan) add(what string, n int) {
	if n > 0 {
		p.Steps = append(p.Steps, Step{What: what, Count: n})
	}
}

// ErasedName is what an erased person is called from then on.
const ErasedName = "Erased user"

// erasedMention replaces the person's name and email wherever other
// records mention them.
const erasedMention = "[erased]"

// Erase erases a person at an admin's request: their files are deleted,
// their records deleted or, for certificates under KeepStatus, stripped of
// the name, mentions of them in other people's records redacted, and the
// account anonymised and disabled. With dryRun it only says what it would
// do. Every step is idempotent, so an erasure that stopped half-way is
// finished by running it again.
func (s *Service) Erase(ctx context.Context, actor *auth.User, userID string, dryRun bool) (*Plan, error) {
	u, err := s.DB.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.ErasedAt != nil {
		return &Plan{UserID: u.ID, Done: true}, errs.E(errs.ECONFLICT, "This account has already been erased.")
	}
	if u.ID == actor.ID {
		return nil, errs.E(errs.EFORBIDDEN, "You cannot erase your own account; ask another administrator.")
	}
	if u.HasRole(auth.RoleAdmin) {
		if n, err := s.DB.CountAdmins(ctx); err != nil || n <= 1 {
			return nil, errs.E(errs.ECONFLICT, "This is the last administrator; make someone else an administrator first.")
		}
	}
	er := u.Erasure
	if er == nil {
		er = &auth.Erasure{Started: s.Now().UTC(), By: actor.ID, Name: u.Name, Email: u.Email}
	}
	plan := &Plan{UserID: u.ID, Name: er.Name}
	p, err := s.person(ctx, u)
	if err != nil {
		return nil, err
	}
	p.Email = er.Email
	if !dryRun {
		// First, remember what to look for and stop the account being used.
		if err := s.DB.UpdateUser(ctx, u.ID, auth.UserUpdate{Erasure: er, Disabled: new(true)}); err != nil {
			return nil, err
		}
	}
	// Certificates are marked erased before their files go: a reissue
	// running meanwhile then finds the mark and deletes what it made.
	if !dryRun {
		if err := s.Certs.EraseHolderName(ctx, p.CertificateCodes); err != nil {
			return nil, err
		}
	}
	// Files.
	files, err := s.files(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if !dryRun {
			if err := s.Blobs.Delete(ctx, f[0]); err != nil {
				return nil, err
			}
		}
	}
	plan.add("files deleted from storage (certificates, CPD evidence, DBS scans)", len(files))

	// Records: deleted, except certificates under KeepStatus, which lose the name.
	keep := []string{"users"}
	if s.ErasureCertificates == KeepStatus {
		keep = append(keep, "certificates", "certificate_revisions", "certificate_hashes", "certificate_claims")
		n, err := s.DB.CountPersonal(ctx, holding("certificates"), p)
		if err != nil {
			return nil, err
		}
		if !dryRun {
			if err := s.DB.ClearRevisionNames(ctx, p.CertificateCodes); err != nil {
				return nil, err
			}
		}
		plan.add("certificates kept for verification without the name", n)
	}
	if a, err := s.DB.Advocate(ctx, u.ID); err == nil {
		if !dryRun {
			if err := s.DB.DeleteRollupRow(ctx, a.OrgID, a.ID); err != nil {
				return nil, err
			}
		}
		plan.add("row removed from the compliance dashboard", 1)
	} else if !errs.Is(err, errs.ENOTFOUND) {
		return nil, err
	}
	for _, h := range store.Holdings {
		if h.Filter == nil || slices.Contains(keep, h.Collection) || h.Collection == "compliance_rollups" {
			continue
		}
		n, err := s.DB.CountPersonal(ctx, h, p)
		if err != nil {
			return nil, err
		}
		if h.Collection == "audit_events" {
			// The audit trail stays; the mentions of the person go (below).
			plan.add("audit entries about them kept with their name and email redacted", n)
			continue
		}
		if !dryRun && n > 0 {
			if n, err = s.DB.DeletePersonal(ctx, h, p); err != nil {
				return nil, err
			}
		}
		plan.add(fmt.Sprintf("records deleted from %s", h.Collection), n)
	}
	// Mentions of them in other records: messages to and notifications for
	// other people, the audit trail, records they made on others' files.
	if !dryRun {
		n, err := s.DB.RedactMentions(ctx, []string{"outbox", "notifications", "audit_events", "advocates"}, []string{er.Name, er.Email}, erasedMention)
		if err != nil {
			return nil, err
		}
		plan.add("other records where their name or email was replaced by "+erasedMention, n)
		// Last, the account itself.
		if err := s.DB.UpdateUser(ctx, u.ID, auth.UserUpdate{Name: new(ErasedName), Email: new("erased-" + u.ID + "@erased.invalid"), PasswordHash: new(""),
			TOTPSecret: new(""), TOTPPending: new(""), TOTPEnabled: new(false), RecoveryHashes: &[]string{}, Disabled: new(true), NotifyOptional: new(false),
			ErasedAt: new(s.Now().UTC()), ClearErasure: true}); err != nil {
			return nil, err
		}
		plan.Done = true
		if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, Action: "user.erase", Target: "user:" + u.ID,
			Note: "certificates: " + s.ErasureCertificates}); err != nil {
			return nil, err
		}
		if err := s.DB.Compact(ctx); err != nil && s.Log != nil {
			s.Log.Warn("compacting the database after an erasure failed; deleted data may stay in its files until the next checkpoint", "err", err)
		}
	}
	plan.add("account anonymised and disabled", 1)
	return plan, nil
}

func holding(collection string) store.Holding {
	h, _ := store.HoldingOf(collection)
	return h
}
