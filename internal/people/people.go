package people

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// Service adds people. It keeps nothing of its own: each person is their
// account (keyed, through the claim on it, by their email address), so
// adding one again finds what was done and finishes it.
type Service struct {
	Auth   *auth.Service
	Comply *compliance.Service // nil: advocates are added without a compliance record
	Audit  *audit.Log
	Log    *slog.Logger
	// Budget bounds the time one confirmation of a file spends adding
	// people (0: no bound); the rows it does not reach are left for the
	// next confirmation of the same file, which skips the ones done.
	Budget time.Duration
}

// Person is someone an administrator adds with the form.
type Person struct {
	Name, Email string
	OrgID       string
	Roles       []auth.Role
	Advocate    bool // an advocate: the Advocate role and a compliance record
}

// Add adds a person: an account with an invitation, emailed to them, and
// for an advocate a compliance record (status onboarding) for their
// organisation's managers to complete. Field problems come back as
// errs.FieldErrors. Once the account exists the call succeeds; a later
// step that fails is returned in notes (the person's page offers it again).
func (s *Service) Add(ctx context.Context, actor *auth.User, p Person) (*auth.User, []string, error) {
	return s.add(ctx, actor, p, "")
}

// invitee is the account the person gets.
func (p Person) invitee(upload string) auth.Invitee {
	roles := slices.Clone(p.Roles)
	if p.Advocate && !slices.Contains(roles, auth.RoleAdvocate) {
		roles = append(roles, auth.RoleAdvocate)
	}
	return auth.Invitee{Name: p.Name, Email: p.Email, OrgID: p.OrgID, Roles: roles, Upload: upload}
}

// Validate checks the person as Add would (orgExists: whether an
// organisation ID is one), without writing anything.
func (p Person) Validate(orgExists func(string) bool) error {
	in := p.invitee("")
	return in.Validate(orgExists)
}

func (s *Service) add(ctx context.Context, actor *auth.User, p Person, upload string) (*auth.User, []string, error) {
	u, token, err := s.Auth.Invite(ctx, actor, p.invitee(upload))
	if u == nil {
		return nil, nil, err
	}
	var notes []string
	if err != nil {
		s.warn("the audit event of a new person could not be recorded", u, err)
		notes = append(notes, "the audit log entry could not be written")
	}
	return u, append(notes, s.finish(ctx, actor, u, token)...), nil
}

// finish does what follows the account, each step only if it is not done:
// the compliance record of an advocate, then the invitation's email (with
// token, the link Invite made; without, a new link when the first was
// never mailed). It returns what did not work, in words.
func (s *Service) finish(ctx context.Context, actor *auth.User, u *auth.User, token string) []string {
	var notes []string
	if u.HasRole(auth.RoleAdvocate) && s.Comply != nil {
		_, err := s.Comply.Current(ctx, u.ID)
		if errs.Is(err, errs.ENOTFOUND) {
			_, err = s.Comply.CreateForUser(ctx, actor, u, compliance.Advocate{Status: compliance.StatusOnboarding})
			if errs.Fields(err) != nil { // made meanwhile
				err = nil
			}
		}
		if err != nil {
			s.warn("a new advocate's compliance record could not be made", u, err)
			notes = append(notes, "their compliance record could not be started: start it from their page")
		}
	}
	var err error
	if token != "" {
		err = s.Auth.MailInvitation(ctx, u, token)
	} else {
		_, err = s.Auth.ResumeInvitation(ctx, actor, u)
	}
	if err != nil {
		s.warn("a new person's invitation could not be sent", u, err)
		notes = append(notes, "the invitation email could not be sent: send it again from their page")
	}
	return notes
}

func (s *Service) warn(msg string, u *auth.User, err error) {
	if s.Log != nil {
		s.Log.Warn(msg, "user", u.ID, "err", err)
	}
}

// Plan is a file's rows and their outcomes: from a dry run (what would
// happen) or a confirmation (what did).
type Plan struct {
	File      *File
	Rows      []Row
	Confirmed bool
	// Stopped says why a confirmation stopped before its last row (the
	// rows from there are NotYet); "" when it reached the end.
	Stopped string
}

// Count returns how many rows have the outcome.
func (p *Plan) Count(o Outcome) int {
	n := 0
	for _, r := range p.Rows {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// Unfinished returns how many rows added from the file before have a
// step still to do.
func (p *Plan) Unfinished() int {
	n := 0
	for _, r := range p.Rows {
		if r.Unfinished {
			n++
		}
	}
	return n
}

// Problems returns the rows not added.
func (p *Plan) Problems() []Row {
	var out []Row
	for _, r := range p.Rows {
		if r.Outcome == Invalid {
			out = append(out, r)
		}
	}
	return out
}

// DryRun reads a file and says, row by row, what confirming it would do:
// who will be created, who already has an account, and what is wrong with
// the other rows. It writes nothing.
func (s *Service) DryRun(ctx context.Context, data []byte) (*Plan, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return s.plan(ctx, f)
}

func (s *Service) plan(ctx context.Context, f *File) (*Plan, error) {
	orgs, err := s.Auth.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	p := &Plan{File: f, Rows: check(f, orgs)}
	// Who has an account already: two point reads a row, a few at a time.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range p.Rows {
		r := &p.Rows[i]
		if r.Outcome != WillCreate {
			continue
		}
		g.Go(func() error {
			u, err := s.Auth.UserByEmail(gctx, r.Email)
			switch {
			case errs.Is(err, errs.ENOTFOUND):
				return nil
			case err != nil:
				return err
			}
			r.UserID, r.Outcome = u.ID, Exists
			if !fromFile(u, f) {
				return nil
			}
			r.Outcome = CreatedBefore
			r.Unfinished = u.InvitationState(s.Auth.Now()) == auth.InvitationUnsent
			if u.HasRole(auth.RoleAdvocate) && s.Comply != nil {
				_, err := s.Comply.Current(gctx, u.ID)
				switch {
				case errs.Is(err, errs.ENOTFOUND):
					r.Unfinished = true
				case err != nil:
					return err
				}
			}
			return nil
		})
	}
	return p, g.Wait()
}

// fromFile reports whether the account was added from the file.
func fromFile(u *auth.User, f *File) bool {
	return u.Invitation != nil && u.Invitation.Upload != "" && u.Invitation.Upload == f.Hash
}

// Confirm adds the people of a file that a dry run showed (text: the file
// as the dry run read it; hash: its Hash then), row by row in the file's
// order, and says what it did with each. It is idempotent: each row is
// keyed by its email address, so a second confirmation of the same file
// (posted twice, or after a crash or a Budget that ran out) skips the
// people it added, finishes what was left of them, and goes on.
func (s *Service) Confirm(ctx context.Context, actor *auth.User, text, hash string) (*Plan, error) {
	if sum := sha256.Sum256([]byte(text)); hex.EncodeToString(sum[:]) != hash {
		return nil, problem("The file changed between the check and the confirmation. Upload it again.")
	}
	f, err := Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	f.Encoding = "" // as the dry run read it
	p, err := s.plan(ctx, f)
	if err != nil {
		return nil, err
	}
	p.Confirmed = true
	start := time.Now() // the budget is time spent, whatever the clock says
	made := 0
	for i := range p.Rows {
		r := &p.Rows[i]
		// Past the budget, after at least one person (so that each
		// confirmation gets further), the rest wait for the next.
		if p.Stopped == "" && s.Budget > 0 && made > 0 && time.Since(start) > s.Budget {
			p.Stopped = "There was not time to add everyone in one go."
		}
		if p.Stopped != "" {
			if r.Outcome == WillCreate || r.Outcome == CreatedBefore {
				r.Outcome = NotYet
			}
			continue
		}
		switch r.Outcome {
		case WillCreate:
			u, notes, err := s.add(ctx, actor, Person{Name: r.Name, Email: r.Email, OrgID: r.OrgID, Roles: r.Roles, Advocate: r.Advocate}, f.Hash)
			switch {
			case err == nil:
				r.UserID, r.Outcome, r.Notes = u.ID, Created, notes
				made++
			case errs.Fields(err) != nil && errs.Fields(err)["email"] != "":
				r.Outcome = Exists // made by someone else meanwhile
			case errs.Fields(err) != nil:
				r.Outcome = Invalid
				for _, msg := range errs.Fields(err) {
					r.Problems = append(r.Problems, msg)
				}
			default:
				s.warnRow(r, err)
				p.Stopped = "The service could not save row " + strconv.Itoa(r.Row) + " just now."
				r.Outcome = NotYet
			}
		case CreatedBefore:
			u, err := s.Auth.User(ctx, r.UserID)
			if err != nil {
				s.warnRow(r, err)
				p.Stopped = "The service could not read row " + strconv.Itoa(r.Row) + " just now."
				r.Outcome = NotYet
				continue
			}
			r.Notes = s.finish(ctx, actor, u, "")
			r.Unfinished = len(r.Notes) > 0
		}
	}
	if made > 0 && s.Audit != nil {
		if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, Action: "user.bulk_upload", Target: "upload:" + f.Hash[:16],
			After: map[string]any{"created": made, "rows": len(p.Rows)}}); err != nil && s.Log != nil {
			s.Log.Warn("the audit event of an upload of people could not be recorded", "err", err)
		}
	}
	return p, nil
}

func (s *Service) warnRow(r *Row, err error) {
	if s.Log != nil {
		s.Log.Warn("adding a person from a file stopped", "row", r.Row, "err", err)
	}
}
