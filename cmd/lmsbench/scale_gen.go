package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
)

// The generator fills the embedded stores, through the store layer's bulk
// Loader, with an organisation of n learners as it would look after two
// years of use (see generator.learner for the mix). It runs once per size
// and version; the result is kept in a cache that every bench run copies.

// Shares of the organisation.
const (
	completedShare = 0.6  // enrolments completed, each with its certificate
	advocateEvery  = 100  // one learner in a hundred is a contracted advocate
	mailPerLearner = 2.0  // outbox messages per learner over 400 days
	auditPerPerson = 0.76 // audit events per learner
	sessionShare   = 0.03 // learners with a session (half alive, half expired)
	historyDays    = 400  // how far back mail, audit and most activity go
	flushEvery     = 20000
)

// generateScale makes the cache c: it starts the real server on an empty
// data directory, fills it and issues the bench subjects' certificates
// through the certificate service, stops it and marks the cache complete.
func generateScale(c scaleCache) (*scaleMeta, error) {
	fmt.Fprintf(os.Stderr, "lmsbench: generating an organisation of %d learners in %s\n", c.n, c.dir)
	fmt.Fprintf(os.Stderr, "lmsbench: this is done once and cached (at 100k it takes many minutes); later runs copy it\n")
	if err := os.RemoveAll(c.dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.dataDir(), 0o700); err != nil {
		return nil, err
	}
	start := time.Now()
	r, err := startApp(c.dataDir(), time.Now)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	g, err := newGenerator(c.n, r.svc, r.db, start.UTC().Truncate(time.Second))
	if err == nil {
		err = g.run(ctx)
	}
	if err == nil {
		err = g.issueSubjects(ctx)
	}
	if err == nil {
		// Tables made after start-up (lists, work queues) get the index
		// FerretDB's point reads need, here rather than on each run.
		err = r.db.EnsureIDIndexes(ctx)
	}
	finished := r.clock()
	r.stop()
	if err != nil {
		return nil, fmt.Errorf("generating %d learners: %w", c.n, err)
	}
	g.meta.Finished = finished.UTC()
	g.meta.Took = time.Since(start).Round(time.Second).String()
	g.meta.Documents = g.docs
	g.meta.Bytes = treeSize(c.dataDir())
	if err := c.writeMeta(g.meta); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.marker(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "lmsbench: generated %d learners (%d documents, %.1f GB) in %s\n", c.n, g.docs, float64(g.meta.Bytes)/1e9, g.meta.Took)
	debug.FreeOSMemory()
	return g.meta, nil
}

// org is an organisation and the domain of its people's email addresses.
type org struct {
	*auth.Organisation
	domain string
}

// person is what later passes need to know of a generated account.
type person struct {
	id, name, email string
	created         time.Time
	notify          bool // optional reminders on
}

// generator holds the state of one generation.
type generator struct {
	n       int
	anchor  time.Time // "now" for the history
	svc     *app.Services
	db      *store.DB
	ld      *store.Loader
	catalog []*courses.Course
	hash    string // the password hash every generated account shares

	versions map[string][]courseVersion // older versions of each course, oldest first
	main     org
	partners []org
	managers map[string][]*auth.User // by organisation
	admins   []*auth.User
	people   []person               // every learner, by index
	staffBox map[string]*staffInbox // managers' and admins' notifications
	advs     []*compliance.Advocate
	rollup   compliance.Rollup
	laterRev []laterRevision                  // first revisions of reissued certificates
	evals    map[string]map[string]impact.Row // course evaluations, by shard document and pseudonym

	docs, messages, events int
	flushing               chan error // the FlushDocs in flight, if any
	started                time.Time
	meta                   *scaleMeta
}

// courseVersion is a version of a course and the day it took effect.
type courseVersion struct {
	v    string
	from time.Time
}

func newGenerator(n int, svc *app.Services, db *store.DB, anchor time.Time) (*generator, error) {
	g := &generator{n: n, anchor: anchor, svc: svc, db: db, ld: db.NewLoader(), catalog: svc.Learn.Catalogue.All(),
		hash: auth.HashPassword("scale bench password"), versions: map[string][]courseVersion{}, managers: map[string][]*auth.User{},
		staffBox: map[string]*staffInbox{}, started: time.Now(), evals: map[string]map[string]impact.Row{},
		meta: &scaleMeta{Version: scaleVersion, Learners: n, Anchor: anchor}}
	if len(g.catalog) == 0 {
		return nil, fmt.Errorf("the course catalogue is empty")
	}
	// Each course was revised a few times: completions keep the version
	// their paper was drawn from.
	for _, c := range g.catalog {
		vd := c.VersionDate()
		for _, months := range []int{-20, -11, -4, 0} {
			from := vd.AddDate(0, months, 0)
			g.versions[c.Slug] = append(g.versions[c.Slug], courseVersion{v: from.Format(time.DateOnly), from: from})
		}
		g.versions[c.Slug][len(g.versions[c.Slug])-1].v = c.Version
	}
	g.meta.CompletionOf = g.catalog[0].Slug
	g.meta.OldVersion = g.versions[g.catalog[0].Slug][2].v
	return g, nil
}

// versionAt returns the version of a course in effect at t.
func (g *generator) versionAt(slug string, t time.Time) string {
	vs := g.versions[slug]
	v := vs[0].v
	for _, x := range vs {
		if !x.from.After(t) {
			v = x.v
		}
	}
	return v
}

// run generates everything but the bench subjects' certificates.
func (g *generator) run(ctx context.Context) error {
	if err := g.orgsAndStaff(ctx); err != nil {
		return err
	}
	writers := min(max(g.n/50, 20), 400)
	step := max(g.n/20, 1)
	for i := 0; i < g.n; i++ {
		var err error
		switch {
		case i < 2:
			err = g.learner(ctx, i, subjectLearner)
		case i < 2+writers:
			err = g.learner(ctx, i, writerLearner)
		case i%advocateEvery == advocateEvery/2:
			err = g.learner(ctx, i, advocateLearner)
		default:
			err = g.learner(ctx, i, plainLearner)
		}
		if err != nil {
			return fmt.Errorf("learner %d: %w", i, err)
		}
		if err := g.maybeFlush(ctx); err != nil {
			return err
		}
		if (i+1)%step == 0 {
			fmt.Fprintf(os.Stderr, "lmsbench: %d/%d learners, %d documents, %s\n", i+1, g.n, g.docs, time.Since(g.started).Round(time.Second))
		}
	}
	for _, pass := range []func(context.Context) error{g.digests, g.fillMail, g.fillAudit, g.staffInboxes, g.sessions} {
		if err := pass(ctx); err != nil {
			return err
		}
		if err := g.maybeFlush(ctx); err != nil {
			return err
		}
	}
	if err := g.waitFlush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "lmsbench: writing the lists (%s so far)\n", time.Since(g.started).Round(time.Second))
	if err := g.ld.Flush(ctx); err != nil {
		return err
	}
	if err := g.db.PutRollup(ctx, &g.rollup); err != nil {
		return fmt.Errorf("dashboard rollup: %w", err)
	}
	for id, rows := range g.evals {
		if err := g.db.PutEvaluationDoc(ctx, id, rows); err != nil {
			return fmt.Errorf("evaluations: %w", err)
		}
	}
	g.evals = nil
	return g.writeLaterRevisions(ctx)
}

// maybeFlush writes the gathered documents in the background once there
// are enough, while generation goes on (one write in flight at a time).
func (g *generator) maybeFlush(ctx context.Context) error {
	if g.ld.Pending() < flushEvery {
		return nil
	}
	if err := g.waitFlush(); err != nil {
		return err
	}
	g.flushing = make(chan error, 1)
	go func(done chan<- error) { done <- g.ld.FlushDocs(ctx) }(g.flushing)
	return nil
}

func (g *generator) waitFlush() error {
	if g.flushing == nil {
		return nil
	}
	err := <-g.flushing
	g.flushing = nil
	return err
}

// orgsAndStaff makes the service itself, its partner agencies, their
// managers and the administrators.
func (g *generator) orgsAndStaff(ctx context.Context) error {
	rng := rngFor(streamStaff)
	mk := func(name string, kind auth.OrgKind, domain string) org {
		o := &auth.Organisation{ID: auth.Slug(name) + "-" + hexID(rng, 3), Name: name, Kind: kind, Created: daysAgo(g.anchor, 820)}
		g.ld.Organisation(o)
		g.docs++
		return org{Organisation: o, domain: domain}
	}
	g.main = mk("Family Advocacy Service", auth.OrgService, "familyadvocacy.example")
	for _, name := range []string{"Northshire Women's Aid", "Riverside Mental Health Trust", "Eastgate Domestic Abuse Service",
		"Westbury Community Mental Health Team", "Southvale Family Support Partnership"} {
		g.partners = append(g.partners, mk(name, auth.OrgPartner, auth.Slug(name)+".example"))
	}
	g.meta.MainOrg, g.meta.PartnerOrg = g.main.ID, g.partners[0].ID
	g.rollup = compliance.Rollup{OrgID: g.main.ID, Rows: map[string]compliance.Row{}}
	staff := func(o org, role auth.Role) (*auth.User, error) {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		created := daysAgo(g.anchor, 700+rng.Float64()*100)
		u := &auth.User{ID: hexID(rng, 16), Email: asciiFold(first) + "." + asciiFold(last) + "@" + o.domain, Name: first + " " + last,
			OrgID: o.ID, JobRole: auth.JobOther, Roles: []auth.Role{auth.RoleLearner, role}, Created: created, Updated: created,
			PasswordHash: g.hash, TOTPEnabled: true, NotifyOptional: true, Version: 3}
		u.TOTPSecret = g.svc.Auth.Box.Seal(base32Secret(rng), "user.totp_secret:"+u.ID)
		if err := g.ld.User(ctx, u); err != nil {
			return nil, err
		}
		g.docs += 2
		g.staffBox[u.ID] = &staffInbox{}
		return u, nil
	}
	for i, o := range append([]org{g.main}, g.partners...) {
		for m := 0; m < 1+boolInt(i < 3); m++ {
			u, err := staff(o, auth.RoleManager)
			if err != nil {
				return err
			}
			g.managers[o.ID] = append(g.managers[o.ID], u)
		}
	}
	for range 2 {
		u, err := staff(g.main, auth.RoleAdmin)
		if err != nil {
			return err
		}
		g.admins = append(g.admins, u)
	}
	mgr := g.managers[g.main.ID][0]
	g.meta.Manager, g.meta.Admin = mgr.ID, g.admins[0].ID
	g.meta.ActorName = lastWord(mgr.Name)
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func lastWord(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return s[i+1:]
		}
	}
	return s
}

// skewedDaysAgo returns a time up to max days back, more of them recent
// (the organisation grew).
func skewedDaysAgo(u, maxDays float64) float64 { return maxDays*math.Pow(u, 1.5) + 1 }

// staffInbox gathers a manager's or admin's notifications, newest kept.
type staffInbox struct{ items []notify.Notification }
