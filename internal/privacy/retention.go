package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
)

// Due is one thing a retention job deletes (or, in a dry run, would).
type Due struct {
	Job    string // which rule
	What   string // what, in words
	Reason string // why now
}

// Retention applies the retention rules: DBS certificate scans six months
// after the decision, compliance records of advocates
// whose contract ended more than RetainEndedAdvocate months ago (with their
// evidence and scans), and copies of emails older than RetainOutbox days.
// With dryRun it lists what it would delete and deletes nothing. It is
// idempotent; the app runs it daily.
func (s *Service) Retention(ctx context.Context, dryRun bool) ([]Due, error) {
	now := s.Now()
	var out []Due
	// DBS certificate scans, six months after the decision (the hourly job
	// does the same; listing them here gives it a dry run).
	scans, err := s.DB.DueScans(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, sc := range scans {
		name := "an advocate whose record was deleted"
		if a, err := s.DB.Advocate(ctx, sc.AdvocateID); err == nil {
			name = a.Name
		}
		out = append(out, Due{Job: "dbs-scans", What: "DBS certificate scan of " + name,
			Reason: "kept no longer than six months after the decision: due on " + sc.DeleteAfter.In(compliance.London).Format("2 January 2006")})
	}
	if !dryRun && len(scans) > 0 {
		if _, err := s.Comply.PurgeScans(ctx); err != nil {
			return out, err
		}
	}
	cutoff := now.AddDate(0, -s.RetainEndedAdvocate, 0)
	ended, err := s.DB.EndedAdvocates(ctx, cutoff)
	if err != nil {
		return nil, err
	}
	for _, a := range ended {
		files := 0
		for _, e := range a.CPD {
			files += len(e.Evidence)
		}
		for _, d := range a.DBS {
			if d.ScanKey != "" {
				files++
			}
		}
		out = append(out, Due{Job: "ended-advocates", What: fmt.Sprintf("Compliance record of %s (%d CPD entries, %d files)", a.Name, len(a.CPD), files),
			Reason: fmt.Sprintf("contract ended on %s, more than %d months ago", a.EndedAt.In(compliance.London).Format("2 January 2006"), s.RetainEndedAdvocate)})
		if !dryRun {
			if err := s.deleteComplianceRecord(ctx, &a); err != nil {
				return out, err
			}
		}
	}
	// Copies of emails, a day of the outbox's list at a time.
	before := now.AddDate(0, 0, -s.RetainOutbox)
	n, err := s.DB.OldMessageCount(ctx, before)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		out = append(out, Due{Job: "outbox", What: fmt.Sprintf("%d copies of emails", n), Reason: fmt.Sprintf("sent more than %d days ago", s.RetainOutbox)})
		if !dryRun {
			if _, err := s.DB.DeleteMessagesBefore(ctx, before); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// deleteComplianceRecord deletes an advocate's compliance record (files
// first, then the record; see compliance.Service.DeleteAdvocateRecord) and
// audits it.
func (s *Service) deleteComplianceRecord(ctx context.Context, a *compliance.Advocate) error {
	if err := s.Comply.DeleteAdvocateRecord(ctx, a); err != nil {
		return err
	}
	return s.Audit.Record(ctx, audit.Event{ActorID: "system", Actor: "Retention job", OrgID: a.OrgID, Action: "advocate.retention_delete", Target: "advocate:" + a.ID,
		Note: "contract ended " + a.EndedAt.Format(time.DateOnly)})
}
