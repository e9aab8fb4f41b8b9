package privacy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/store"
)

// Step is one thing an erasure does (or, in a dry run, would do), said
// as a person would say it: "Their 3 assessment attempts will be deleted."
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

	said []said
}

// thing is what a step acts on, in words, for one and for several (with
// %d for how many).
type thing struct{ one, many string }

type said struct {
	what thing
	verb string
	n    int
}

func (p *Plan) add(what thing, verb string, n int) {
	if n > 0 {
		p.said = append(p.said, said{what, verb, n})
	}
}

// say writes the steps as sentences, in the future for a dry run and in
// the past once done.
func (p *Plan) say() {
	p.Steps = p.Steps[:0]
	for _, st := range p.said {
		what, verb := st.what.one, " will be "
		if st.n != 1 {
			what = fmt.Sprintf(st.what.many, st.n)
		}
		switch {
		case p.Done && st.n == 1:
			verb = " was "
		case p.Done:
			verb = " were "
		}
		text := what + verb + st.verb + "."
		p.Steps = append(p.Steps, Step{What: strings.ToUpper(text[:1]) + text[1:], Count: st.n})
	}
}

// recordWords says what each collection's records are, for the steps that
// delete them; a collection of personal data without words here is named
// as "other records" (and a test says so).
var recordWords = map[string]thing{
	"user_emails":           {"the claim on their email address", "the %d claims on their email addresses"},
	"totp_steps":            {"their last two-factor sign-in", "their %d last two-factor sign-ins"},
	"throttle":              {"the count of recent sign-in attempts on their address", "the %d counts of recent sign-in attempts on their addresses"},
	"sessions":              {"their sign-in session", "their %d sign-in sessions"},
	"password_resets":       {"their password reset link", "their %d password reset links"},
	"outbox":                {"the copy of an email sent to them", "the copies of %d emails sent to them"},
	"notifications":         {"their list of notifications", "their %d lists of notifications"},
	"enrolments":            {"their course enrolment, with its progress,", "their %d course enrolments, with their progress,"},
	"live_sessions":         {"their booking of a live training session", "their bookings of %d live training sessions"},
	"live_feeds":            {"the link of their live training calendar", "the links of %d live training calendars"},
	"attempts":              {"their assessment attempt", "their %d assessment attempts"},
	"submissions":           {"their answers to an assessment", "their answers to %d assessments"},
	"certificates":          {"their certificate", "their %d certificates"},
	"certificate_claims":    {"the record of the pass that earned a certificate", "the records of %d passes that earned certificates"},
	"certificate_revisions": {"an earlier version of their certificate", "%d earlier versions of their certificates"},
	"certificate_hashes":    {"the fingerprint of a certificate file", "the fingerprints of %d certificate files"},
	"jobs":                  {"a bulk job they started", "%d bulk jobs they started"},
	"advocates":             {"their compliance record (DBS checks, references, CPD, supervision and training)", "their %d compliance records"},
	"dbs_scans":             {"the scheduled deletion of a DBS certificate scan", "the scheduled deletions of %d DBS certificate scans"},
	"exports":               {"a download of their data", "%d downloads of their data"},
}

// wordsFor returns the words for a collection's records.
func wordsFor(collection string) thing {
	if w, ok := recordWords[collection]; ok {
		return w
	}
	return thing{"one other record", "%d other records"}
}

// Erase erases a person at an admin's request: their files are deleted,
// their records deleted or, for certificates under KeepStatus, stripped of
// the name, mentions of them in other people's records redacted, and the
// account anonymised and disabled. With dryRun it only says what it would
// do.
//
// The person's records are found by store.PersonData (point reads of what
// their lists and records name) and erased by the domain each belongs to.
// Every step is idempotent, and records are erased before the records
// they are found from (attempts before enrolments, revisions before
// certificates, files before the advocate record, the person's lists
// last), so an erasure that stopped half-way is finished by running it
// again. It ends by compacting the database, so that nothing erased stays
// in its files.
func (s *Service) Erase(ctx context.Context, actor *auth.User, userID string, dryRun bool) (*Plan, error) {
	u, err := s.Auth.User(ctx, userID)
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
		if n, err := s.Auth.CountAdmins(ctx); err != nil || n <= 1 {
			return nil, errs.E(errs.ECONFLICT, "This is the last administrator; make someone else an administrator first.")
		}
	}
	er := u.Erasure
	if er == nil {
		er = &auth.Erasure{Started: s.Now().UTC(), By: actor.ID, Name: u.Name, Email: u.Email}
	}
	// First, remember what to look for and stop the account being used.
	if !dryRun && u.Erasure == nil {
		if err := s.Auth.BeginErasure(ctx, u.ID, er); err != nil {
			return nil, err
		}
	}
	p, err := s.DB.PersonData(ctx, u.ID, s.Auth.AccountThrottleKey)
	if err != nil {
		return nil, err
	}
	if p.User == nil {
		return nil, errs.E(errs.ENOTFOUND, "account not found")
	}
	plan := &Plan{UserID: u.ID, Name: er.Name}
	redact := redactor(er.Name, er.Email)
	keep := s.ErasureCertificates == KeepStatus
	steps := eraseSteps{dry: dryRun, fault: s.FaultAfterEraseStep}

	// Certificates are marked erased before their files go: a reissue
	// running meanwhile then finds the mark and deletes what it made.
	steps.do(func() error { return s.Certs.EraseHolderName(ctx, p.CertificateCodes()) })
	plan.add(thing{"their stored file (a certificate, CPD evidence, a DBS scan or a data download)", "their %d stored files (certificates, CPD evidence, DBS scans, data downloads)"}, "deleted", len(p.Files)+len(p.Exports))

	// Data downloads: the file, then the record.
	steps.do(func() error {
		for i := range p.Exports {
			e := &p.Exports[i]
			if err := s.Blobs.Delete(ctx, ExportKey(e.UserID, e.ID)); err != nil {
				return err
			}
			if err := s.DB.DeleteDataExport(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	// Certificates (kept without the name, or deleted), then the jobs they
	// started, their learning, their compliance record, the messages and
	// notifications to them and what let them sign in.
	steps.do(func() error {
		return s.Certs.EraseHolder(ctx, certificates.HolderRecords{Certificates: p.Certificates, Revisions: p.Revisions,
			Claims: p.Docs["certificate_claims"], Hashes: p.Docs["certificate_hashes"]}, keep, redact)
	})
	if keep {
		plan.add(thing{"their certificate", "their %d certificates"}, "kept without their name, so that the code still verifies the course and dates", len(p.Certificates))
	}
	steps.do(func() error { return s.Certs.DeleteJobs(ctx, p.Docs["jobs"]) })
	// Their course evaluations are found from their enrolments, so they go
	// first.
	if s.Impact != nil {
		answers, err := s.Impact.PersonAnswers(ctx, p.Enrolments)
		if err != nil {
			return nil, err
		}
		plan.add(thing{"their answers to a course's evaluation", "their answers to %d courses' evaluations"}, "deleted", len(answers))
		steps.do(func() error { return s.Impact.ErasePerson(ctx, p.Enrolments) })
	}
	steps.do(func() error { return s.Learn.ErasePerson(ctx, p.Enrolments, p.Docs["attempts"], p.Docs["submissions"]) })
	// Their live bookings: a place they held goes to the next person waiting.
	steps.do(func() error {
		if s.Live == nil {
			return nil
		}
		return s.Live.ErasePerson(ctx, u.ID, p.Docs["live_sessions"])
	})
	steps.do(func() error {
		if p.Advocate == nil {
			return nil
		}
		return s.Comply.DeleteAdvocateRecord(ctx, p.Advocate, p.Docs["compliance_rollups"]...)
	})
	plan.add(thing{"their row on the compliance dashboard", "their %d rows on compliance dashboards"}, "removed", p.Count("compliance_rollups"))
	steps.do(func() error { return s.Mail.EraseMessages(ctx, p.Docs["outbox"], p.Emails()) })
	steps.do(func() error {
		if p.Count("notifications") == 0 {
			return nil
		}
		return s.Mail.EraseInbox(ctx, u.ID)
	})
	steps.do(func() error {
		return s.Auth.EraseSignIns(ctx, u.ID, p.Docs["user_emails"], p.Emails(), p.Docs["password_resets"])
	})
	// Data-rights requests about them stay, as the record of what was
	// asked and done, without their name and contact.
	steps.do(func() error {
		for _, id := range p.Docs["rights_requests"] {
			if _, err := s.DB.RedactRightsRequest(ctx, id, redact); err != nil {
				return err
			}
		}
		return nil
	})
	plan.add(thing{"the data-rights request about them", "the %d data-rights requests about them"}, "kept as the record of what was asked and done, with their name and contact taken out",
		p.Count("rights_requests"))
	kept := []string{"users", "audit_events", "compliance_rollups", "rights_requests"}
	if keep {
		kept = append(kept, "certificates", "certificate_revisions", "certificate_hashes", "certificate_claims")
	}
	for _, h := range store.Holdings {
		if h.Found != "" && !slices.Contains(kept, h.Collection) {
			plan.add(wordsFor(h.Collection), "deleted", p.Count(h.Collection))
		}
	}

	// Mentions of them in other people's records: messages to and
	// notifications for others, records they made on others' files.
	steps.do(func() error {
		if _, err := s.Mail.RedactMentions(ctx, p.MentionMessages, p.MentionInboxes, redact); err != nil {
			return err
		}
		_, err := s.Comply.RedactRecords(ctx, p.ActedOn, redact)
		return err
	})
	plan.add(thing{"one of other people's messages, notifications or records that mentions them", "%d of other people's messages, notifications and records that mention them"},
		"kept with their name and email replaced by “"+erasedMention+"”", len(p.MentionMessages)+len(p.MentionInboxes)+len(p.ActedOn))
	// The audit trail keeps its entries, without their name and email.
	names := p.ActorNames
	if len(names) > 0 && !slices.Contains(names, er.Name) {
		names = append(names, er.Name)
	}
	steps.do(func() error {
		_, err := s.Audit.RedactPerson(ctx, u.ID, names, erasedMention, p.Docs["audit_events"], redact)
		return err
	})
	plan.add(thing{"the audit log entry by or about them", "the %d audit log entries by or about them"}, "kept with their name and email taken out", p.Count("audit_events"))

	// Last, the account itself, and the person's lists.
	now := s.Now().UTC()
	steps.do(func() error { return s.Auth.AnonymiseAccount(ctx, p.User, er, now) })
	steps.do(func() error {
		return s.Audit.RecordOnce(ctx, audit.Event{ID: "erase-" + u.ID, ActorID: actor.ID, Actor: actor.Name, Action: "user.erase",
			Target: "user:" + u.ID, Note: "certificates: " + s.ErasureCertificates})
	})
	steps.do(func() error { return s.DB.DropUserExportList(ctx, u.ID) })
	steps.do(func() error { return s.DB.DropPersonList(ctx, u.ID) })
	steps.do(func() error { return s.Auth.FinishErasure(ctx, u.ID, now) })
	plan.add(thing{"their account", "their %d accounts"}, "anonymised and disabled, so nobody can sign in to it", 1)
	if steps.err != nil {
		return nil, steps.err
	}
	defer plan.say()
	if !dryRun {
		plan.Done = true
		if err := s.DB.Compact(ctx); err != nil && s.Log != nil {
			s.Log.Warn("compacting the database after an erasure failed; deleted data may stay in its files until the next checkpoint", "err", err)
		}
	}
	return plan, nil
}

// eraseSteps runs the steps of an erasure in order until one fails; in a
// dry run it runs none.
type eraseSteps struct {
	dry   bool
	fault func(step int) error
	n     int
	err   error
}

func (e *eraseSteps) do(f func() error) {
	if e.dry || e.err != nil {
		return
	}
	e.n++
	if e.err = f(); e.err == nil && e.fault != nil {
		e.err = e.fault(e.n)
	}
}
