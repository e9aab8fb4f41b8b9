package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// PersonData is everything the database holds about one person, and where
// other people's records mention them. It is gathered by following the
// Holdings: point reads by _id and reads of the person's own lists, never
// a query on any other field, so its cost depends on how much there is
// about the person and not on how many people there are.
type PersonData struct {
	UserID string
	User   *auth.User // nil when there is no account (any more)

	// Docs holds, by collection, the _ids of the person's documents that
	// exist, in the order they were found (for compliance_rollups, the
	// organisations whose dashboard has their row).
	Docs map[string][]string

	// The records erasure needs to act on, read already.
	Enrolments   []learning.Enrolment
	Certificates []certificates.Certificate
	Revisions    []certificates.Revision
	Advocate     *compliance.Advocate
	Exports      []DataExport

	// Files are the person's objects in storage, with the name each has in
	// a data download.
	Files []File

	// Mentions of them in other people's records: messages to others that
	// name them (a manager's escalation or digest), the users whose lists
	// of notifications name them, and the advocates whose records they
	// changed (the targets of the audit events they caused).
	MentionMessages []string
	MentionInboxes  []string
	ActedOn         []string
	// ActorNames are the names the audit trail shows them acting under
	// (each is a row of the list of people who acted).
	ActorNames []string
}

// File is one object in storage and its name in a data download.
type File struct {
	Key    string
	Name   string
	Sealed bool // encrypted in storage (a plain one is refused)
}

// Count returns how many documents of a collection are about the person.
func (p *PersonData) Count(coll string) int { return len(p.Docs[coll]) }

// Records returns how many documents in all are about the person.
func (p *PersonData) Records() int {
	n := 0
	for _, ids := range p.Docs {
		n += len(ids)
	}
	return n
}

// CertificateCodes returns the codes of the person's certificates.
func (p *PersonData) CertificateCodes() []string {
	out := make([]string, len(p.Certificates))
	for i, c := range p.Certificates {
		out[i] = c.Code
	}
	return out
}

// Emails returns the addresses the person is known by: the account's and,
// while an erasure runs, the one it had.
func (p *PersonData) Emails() []string {
	var out []string
	if p.User != nil {
		out = append(out, p.User.Email)
		if p.User.Erasure != nil && p.User.Erasure.Email != p.User.Email {
			out = append(out, p.User.Erasure.Email)
		}
	}
	return out
}

// gathering is one PersonData being filled.
type gathering struct {
	db          *DB
	p           *PersonData
	seen        map[string]bool // "<collection>/<id>" already added
	throttleKey func(email string) string
}

// add records a document of the person's (once).
func (g *gathering) add(coll, id string) {
	k := coll + "/" + id
	if g.seen[k] {
		return
	}
	g.seen[k] = true
	g.p.Docs[coll] = append(g.p.Docs[coll], id)
}

// addIfExists records a document of the person's if it exists.
func (g *gathering) addIfExists(ctx context.Context, coll, id string) error {
	if g.seen[coll+"/"+id] {
		return nil
	}
	ok, err := g.db.exists(ctx, coll, id)
	if ok {
		g.add(coll, id)
	}
	return err
}

// exists reports whether document id of coll exists (a point read).
func (db *DB) exists(ctx context.Context, coll, id string) (bool, error) {
	err := db.coll(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read %s %s: %w", coll, id, err)
	}
	return true, nil
}

// PersonData gathers what the database holds about a person (see
// Holdings): each step below follows one Holding's Found. throttleKey
// gives the key of the sign-in throttle of an email address (a keyed hash,
// which only the auth service can make).
func (db *DB) PersonData(ctx context.Context, userID string, throttleKey func(email string) string) (*PersonData, error) {
	if userID == "" {
		return nil, errs.E(errs.EINVALID, "no user")
	}
	g := &gathering{db: db, p: &PersonData{UserID: userID, Docs: map[string][]string{}}, seen: map[string]bool{}, throttleKey: throttleKey}
	refs, err := db.PersonRefs(ctx, userID)
	if err != nil {
		return nil, err
	}
	steps := []func(context.Context, []Ref) error{g.account, g.signIn, g.messages, g.learning, g.certificates, g.jobs,
		g.compliance, g.audit, g.exports, g.rights, g.live, g.mentions}
	for _, step := range steps {
		if err := step(ctx, refs); err != nil {
			return nil, fmt.Errorf("store: data about %s: %w", userID, err)
		}
	}
	return g.p, nil
}

// account: users, user_emails, totp_steps, notifications, throttle.
func (g *gathering) account(ctx context.Context, _ []Ref) error {
	u, err := g.db.User(ctx, g.p.UserID)
	switch {
	case errs.Is(err, errs.ENOTFOUND):
	case err != nil:
		return err
	default:
		g.p.User = u
		g.add(colUsers, u.ID)
	}
	for _, email := range g.p.Emails() {
		owner, _, err := g.db.EmailClaim(ctx, email)
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return err
		}
		if err == nil && owner == g.p.UserID {
			g.add(colUserEmails, email)
		}
		if err := g.addIfExists(ctx, colThrottle, g.throttleKey(email)); err != nil {
			return err
		}
	}
	for _, coll := range []string{colTOTPSteps, colNotifications} {
		if err := g.addIfExists(ctx, coll, g.p.UserID); err != nil {
			return err
		}
	}
	return nil
}

// signIn: sessions (their list) and password resets (person/ rows).
func (g *gathering) signIn(ctx context.Context, refs []Ref) error {
	err := g.db.userSessions(g.p.UserID).Scan(ctx, "", func(r Row) (bool, error) {
		return true, g.addIfExists(ctx, colSessions, r.Key)
	})
	if err != nil {
		return err
	}
	for _, r := range refs {
		if r.Collection == colResets && !r.Mention {
			if err := g.addIfExists(ctx, colResets, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// messages: outbox messages to them (person/ rows and the list of their
// address).
func (g *gathering) messages(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if r.Collection == colOutbox && !r.Mention {
			if err := g.addIfExists(ctx, colOutbox, r.ID); err != nil {
				return err
			}
		}
	}
	for _, email := range g.p.Emails() {
		err := g.db.outboxTo(email).Scan(ctx, "", func(r Row) (bool, error) {
			return true, g.addIfExists(ctx, colOutbox, r.Key)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// learning: enrolments (person/ rows), and their attempts and submissions.
func (g *gathering) learning(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if r.Collection != colEnrolments || r.Mention {
			continue
		}
		e, err := g.db.Enrolment(ctx, r.ID)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return err
		}
		if e.UserID != g.p.UserID || g.seen[colEnrolments+"/"+e.ID] {
			continue
		}
		g.add(colEnrolments, e.ID)
		g.p.Enrolments = append(g.p.Enrolments, *e)
		for _, n := range attemptNumbers(e) {
			id := e.ID + "/" + strconv.Itoa(n)
			if err := g.addIfExists(ctx, colAttempts, id); err != nil {
				return err
			}
			if err := g.addIfExists(ctx, colSubmissions, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// attemptNumbers returns the numbers of an enrolment's attempts, and the
// one after the last (drawn, but not yet on the enrolment when a crash
// came between the two writes).
func attemptNumbers(e *learning.Enrolment) []int {
	last := e.OpenAttempt
	var out []int
	for k := range e.Attempts {
		if n, err := strconv.Atoi(k); err == nil {
			out = append(out, n)
			last = max(last, n)
		}
	}
	if !slices.Contains(out, e.OpenAttempt) && e.OpenAttempt > 0 {
		out = append(out, e.OpenAttempt)
	}
	out = append(out, last+1)
	slices.Sort(out)
	return out
}

// certificates: claims of passed attempts, certificates (person/ rows,
// enrolments, claims), revisions, hashes, and the PDF files.
func (g *gathering) certificates(ctx context.Context, refs []Ref) error {
	var codes []string
	for _, r := range refs {
		if r.Collection == colCertificates && !r.Mention {
			codes = append(codes, r.ID)
		}
	}
	for _, e := range g.p.Enrolments {
		codes = append(codes, e.CertificateCodes...)
		var passed []int
		for _, a := range e.Attempts {
			if a.Passed {
				passed = append(passed, a.No)
			}
		}
		if e.Completion != nil {
			passed = append(passed, e.Completion.Attempt)
		}
		slices.Sort(passed)
		for _, n := range slices.Compact(passed) {
			c, err := g.db.Claim(ctx, e.ID+"/"+strconv.Itoa(n))
			if errs.Is(err, errs.ENOTFOUND) {
				continue
			}
			if err != nil {
				return err
			}
			g.add(colCertClaims, c.Key)
			codes = append(codes, c.Code)
		}
	}
	for _, code := range codes {
		if g.seen[colCertificates+"/"+code] {
			continue
		}
		c, err := g.db.Certificate(ctx, code)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return err
		}
		if c.UserID != g.p.UserID {
			continue
		}
		c.QR = nil
		g.add(colCertificates, code)
		g.p.Certificates = append(g.p.Certificates, *c)
		g.p.Files = append(g.p.Files, File{Key: certificates.ObjectKey(code), Name: "files/certificates/" + code + ".pdf"})
		hashes := []string{c.SHA256}
		// One more revision than recorded: a reissue stores its revision
		// before the certificate says so.
		for n := 1; n <= max(c.Revision, c.PendingRevision)+1; n++ {
			rev, err := g.db.Revision(ctx, code, n)
			if errs.Is(err, errs.ENOTFOUND) {
				continue
			}
			if err != nil {
				return err
			}
			g.add(colCertRevs, rev.ID)
			g.p.Revisions = append(g.p.Revisions, *rev)
			hashes = append(hashes, rev.SHA256)
		}
		for _, sha := range hashes {
			if sha == "" || g.seen[colCertHashes+"/"+sha] {
				continue
			}
			h, err := g.db.Hash(ctx, sha)
			if errs.Is(err, errs.ENOTFOUND) {
				continue
			}
			if err != nil {
				return err
			}
			if h.Code == code {
				g.add(colCertHashes, sha)
			}
		}
	}
	return nil
}

// jobs: bulk jobs they started (person/ rows).
func (g *gathering) jobs(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if r.Collection == colJobs && !r.Mention {
			if err := g.addIfExists(ctx, colJobs, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// rights: data-rights requests about them (person/ rows).
func (g *gathering) rights(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if r.Collection == colRights && !r.Mention {
			if err := g.addIfExists(ctx, colRights, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// live: the live sessions they booked (person/ rows; their booking of
// each) and their calendar feed's generation (by their ID).
func (g *gathering) live(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if r.Collection == colLive && !r.Mention {
			if err := g.addIfExists(ctx, colLive, r.ID); err != nil {
				return err
			}
		}
	}
	return g.addIfExists(ctx, colLiveFeeds, g.p.UserID)
}

// exports: their data downloads (their list).
func (g *gathering) exports(ctx context.Context, _ []Ref) error {
	es, err := g.db.UserDataExports(ctx, g.p.UserID)
	if err != nil {
		return err
	}
	for _, e := range es {
		g.add(colExports, e.ID)
		g.p.Exports = append(g.p.Exports, e)
	}
	return nil
}

// mentions: other people's messages and lists of notifications that name
// them ("m/" rows of their list).
func (g *gathering) mentions(ctx context.Context, refs []Ref) error {
	for _, r := range refs {
		if !r.Mention {
			continue
		}
		switch r.Collection {
		case colOutbox:
			if g.seen[colOutbox+"/"+r.ID] {
				continue // a message to them, deleted with the rest
			}
			ok, err := g.db.exists(ctx, colOutbox, r.ID)
			if err != nil {
				return err
			}
			if ok {
				g.p.MentionMessages = append(g.p.MentionMessages, r.ID)
			}
		case colNotifications:
			if r.ID == g.p.UserID {
				continue
			}
			ok, err := g.db.exists(ctx, colNotifications, r.ID)
			if err != nil {
				return err
			}
			if ok {
				g.p.MentionInboxes = append(g.p.MentionInboxes, r.ID)
			}
		}
	}
	return nil
}
