// Package reminders runs the daily reminder job: it finds compliance
// requirements and certificates that are due soon or overdue and tells the
// right person, escalating as the date comes closer.
//
// Exactly once: every stage of every item has a message ID derived from
// (recipient, item, due date, stage). Queuing a message inserts it into the
// outbox under that ID, so a rerun, a run resumed after a crash, or a second
// instance running at the same moment queues nothing twice. A lease keeps
// the work itself to one instance at a time, and records the day as done.
package reminders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
)

// Stages before a due date, in days; a reminder goes at the first stage
// reached that has not been sent (a run that first sees an item 20 days out
// sends the 30-day reminder only).
var Stages = []int{60, 30, 7}

// Store is what the job reads and writes besides the mail outbox.
type Store interface {
	TakeLease(ctx context.Context, name, owner, day string, now, until time.Time) (bool, error)
	RenewLease(ctx context.Context, name, owner string, until time.Time) (bool, error)
	FinishLease(ctx context.Context, name, owner, day string, now time.Time) error
	Rollups(ctx context.Context) ([]compliance.Rollup, error)
	ExpiringCertificates(ctx context.Context, from, to time.Time) ([]certificates.Certificate, error)
	Enrolment(ctx context.Context, id string) (*learning.Enrolment, error)
	User(ctx context.Context, id string) (*auth.User, error)
	AddNotification(ctx context.Context, userID string, n notify.Notification) (bool, error)
	// RoleMembers lists the accounts with a role (a bounded list: the
	// administrators are told of course reviews no one else owns).
	RoleMembers(ctx context.Context, role auth.Role) ([]auth.User, error)
}

// Deps are what a Service uses besides its store.
type Deps struct {
	Comply  *compliance.Service
	Mail    *notify.Mailer
	Now     func() time.Time
	BaseURL string
	Owner   string // this instance, for the lease
	Log     *slog.Logger
	// Queued, when set, is called after each message the run queues (the
	// count so far); the run stops early if ctx is cancelled.
	Queued func(n int)
	// RenewEvery is how often a running job extends its lease (default a
	// third of the lease), so a long run is not taken over half-way.
	RenewEvery time.Duration
	// Courses are the catalogue: each course's owner is told once when
	// its legal content review falls due (ReviewNoticeDays before).
	Courses []*courses.Course
	// ContentOwner is told about courses that name no owner.
	ContentOwner string
	// Impact and Learn, when set, send each completion's follow-up on its
	// day ("Has this course changed how you work?").
	Impact *impact.Service
	Learn  *learning.Service
	// UnsubscribeURL, when set, gives the one-click link that turns a
	// person's optional emails off, put in every optional email.
	UnsubscribeURL func(userID string) string
}

// Service runs the job. Its store stays inside: other packages use the
// methods.
type Service struct {
	Deps
	store Store
}

// NewService returns the service on st.
func NewService(st Store, d Deps) *Service { return &Service{Deps: d, store: st} }

const leaseName, leaseFor = "reminders", 15 * time.Minute

// Result says what a run did.
type Result struct {
	Ran    bool // false: another instance holds the job, or it is done today
	Queued int  // new messages
}

// RunDaily runs the job unless it has run today or another instance is
// running it. A run that dies leaves its lease to expire; the next attempt
// (hourly) resumes, and the message IDs keep it from repeating itself.
func (s *Service) RunDaily(ctx context.Context) (Result, error) {
	now := s.Now().UTC()
	today := now.In(compliance.London).Format(time.DateOnly)
	ok, err := s.store.TakeLease(ctx, leaseName, s.Owner, today, now, now.Add(leaseFor))
	if err != nil || !ok {
		return Result{}, err
	}
	// Keep the lease while the run lasts; if it is lost (this instance
	// stalled past it and another took over), stop.
	runCtx, cancel := context.WithCancel(ctx)
	var renewing sync.WaitGroup
	defer func() { cancel(); renewing.Wait() }()
	every := s.RenewEvery
	if every <= 0 {
		every = leaseFor / 3
	}
	renewing.Add(1)
	go func() {
		defer renewing.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			if held, err := s.store.RenewLease(runCtx, leaseName, s.Owner, s.Now().UTC().Add(leaseFor)); err == nil && !held {
				s.Log.Warn("reminder job: lease lost to another instance; stopping this run")
				cancel()
				return
			}
		}
	}()
	n, err := s.Run(runCtx)
	if err != nil {
		return Result{Ran: true, Queued: n}, err
	}
	return Result{Ran: true, Queued: n}, s.store.FinishLease(ctx, leaseName, s.Owner, today, s.Now().UTC())
}

// Run queues every reminder due today that has not been queued before and
// returns how many it queued. It is safe to run again at any time.
func (s *Service) Run(ctx context.Context) (int, error) {
	r := &run{Service: s, ctx: ctx, now: s.Now(), users: map[string]*auth.User{}}
	r.today = day(r.now)
	rollups, err := s.store.Rollups(ctx)
	if err != nil {
		return 0, err
	}
	sort.Slice(rollups, func(i, j int) bool { return rollups[i].OrgID < rollups[j].OrgID })
	for _, ru := range rollups {
		if err := r.statusChecks(ru); err != nil {
			return r.queued, err
		}
		if err := r.organisation(ru); err != nil {
			return r.queued, err
		}
	}
	if err := r.certificates(); err != nil {
		return r.queued, err
	}
	if err := r.courseReviews(); err != nil {
		return r.queued, err
	}
	if err := r.followUps(); err != nil {
		return r.queued, err
	}
	return r.queued, ctx.Err()
}

// run is the state of one run.
type run struct {
	*Service
	ctx    context.Context
	now    time.Time
	today  time.Time
	queued int
	users  map[string]*auth.User
}

func day(t time.Time) time.Time {
	t = t.In(compliance.London)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, compliance.London)
}

// daysUntil counts calendar days (in London) from today to due; negative
// when overdue.
func (r *run) daysUntil(due time.Time) int {
	civil := func(t time.Time) time.Time {
		t = t.In(compliance.London)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return int(civil(due).Sub(civil(r.today)) / (24 * time.Hour))
}

// stage names the reminder stage an item is at, "" when none.
func (r *run) stage(due time.Time) string {
	d := r.daysUntil(due)
	if d < 0 {
		return "overdue"
	}
	for i := len(Stages) - 1; i >= 0; i-- {
		if d <= Stages[i] {
			return fmt.Sprintf("%dd", Stages[i])
		}
	}
	return ""
}

func (r *run) user(id string) *auth.User {
	if u, ok := r.users[id]; ok {
		return u
	}
	u, err := r.store.User(r.ctx, id)
	if err != nil || u.Disabled {
		u = nil
	}
	r.users[id] = u
	return u
}

// messageID derives the one ID a reminder can have.
func messageID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "rem-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// note is one reminder to one person.
type note struct {
	id        string
	to        *auth.User
	about     []string // other people the note names (erasing one finds it)
	kind      string
	subject   string
	email     notify.Email
	link      string // path in the app
	optional  bool   // people may turn these off
	emailless bool   // in-app only
}

// send records the notification and queues the email, each at most once.
func (r *run) send(n note) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	if n.to == nil {
		return nil
	}
	summary := n.email.Paragraphs[0]
	in := notify.Notification{ID: n.id, At: r.now.UTC(), Subject: n.subject, Text: summary, Link: n.link, About: n.about}
	in.SetItems(n.email.Items) // a summary lists its items in the app as well as in the email
	if _, err := r.store.AddNotification(r.ctx, n.to.ID, in); err != nil {
		return err
	}
	if n.emailless || n.optional && !n.to.NotifyOptional {
		return nil
	}
	n.email.Greeting = "Hello " + n.to.Name + ","
	if n.email.Action != nil {
		n.email.Action.URL = r.BaseURL + n.link
	}
	if len(n.email.Items) > 0 {
		items := make([]notify.Item, len(n.email.Items))
		for i, it := range n.email.Items {
			if it.Link != "" {
				it.Link = r.BaseURL + it.Link
			}
			items[i] = it
		}
		n.email.Items = items
	}
	if n.optional {
		n.email.Footer = "You can turn off optional emails like this one on your account page: " + r.BaseURL + "/account"
		if r.UnsubscribeURL != nil {
			n.email.Footer += ", or at once with this link: " + r.UnsubscribeURL(n.to.ID)
		}
	} else {
		n.email.Footer = "This reminder is part of the organisation's standards for advocates and cannot be turned off."
	}
	text, html := notify.Compose(n.email)
	fresh, err := r.Mail.Send(r.ctx, notify.Message{ID: n.id, To: n.to.Email, UserID: n.to.ID, About: n.about, Kind: n.kind, Subject: n.subject, Text: text, HTML: html})
	if err != nil {
		return err
	}
	if fresh {
		r.queued++
		if r.Queued != nil {
			r.Queued(r.queued)
		}
	}
	return nil
}

func dateText(t time.Time) string { return t.In(compliance.London).Format("2 January 2006") }

// organisation sends one organisation's compliance reminders and its
// managers' weekly digests.
func (r *run) organisation(ru compliance.Rollup) error {
	ids := make([]string, 0, len(ru.Rows))
	for id, row := range ru.Rows {
		if row.Status == compliance.StatusActive || row.Status == compliance.StatusOnboarding {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var digest []digestItem
	var named []string // the advocates the digest names
	for _, id := range ids {
		if row := ru.Rows[id]; row.Overall == compliance.Met && !day(row.Computed).Before(r.today) {
			continue // all met, as computed today
		}
		a, err := r.Comply.Current(r.ctx, id)
		if err != nil {
			return fmt.Errorf("reminders: advocate %s: %w", id, err)
		}
		for _, q := range a.Snapshot.Requirements {
			if q.State != compliance.Met {
				digest = append(digest, r.digestItem(a, q))
				if !slices.Contains(named, a.ID) {
					named = append(named, a.ID)
				}
			}
			if q.Key == compliance.ReqTraining && q.State == compliance.Missing {
				if err := r.coursesToDo(a); err != nil {
					return err
				}
			}
			if q.Due == nil || q.State == compliance.Met {
				continue // only what is due soon (by the policy's window) or late
			}
			if err := r.requirement(a, q); err != nil {
				return err
			}
		}
	}
	return r.digests(ru.OrgID, digest, named)
}

// coursesToDo asks an advocate, once per course, to complete the mandatory
// courses they have never completed (there is no due date to count down
// to; their manager sees it on the dashboard and in the weekly summary).
func (r *run) coursesToDo(a *compliance.Advocate) error {
	for _, slug := range r.Comply.Policy.CoursesFor(a) {
		if _, done := a.Training[slug]; done {
			continue
		}
		title := r.Comply.CourseTitle(slug)
		if err := r.send(note{id: messageID(a.ID, "training-to-do", slug), to: r.user(a.ID), kind: "reminder", link: "/courses/" + slug,
			subject: "Please complete the course " + title,
			email: notify.Email{Paragraphs: []string{
				"Our standards ask every advocate to complete " + title + ". You have not completed it yet, so you are not yet cleared to work with families.",
				"The course is online; your progress is saved as you go, and passing it adds its CPD hours to your record.",
			}, Action: &notify.Action{Label: "Go to the course"}}}); err != nil {
			return err
		}
	}
	return nil
}

// requirement sends the reminder for one requirement's current stage.
func (r *run) requirement(a *compliance.Advocate, q compliance.Requirement) error {
	st := r.stage(*q.Due)
	if st == "" {
		return nil
	}
	label := compliance.RequirementLabels[q.Key]
	due := q.Due.In(compliance.London).Format(time.DateOnly)
	item := "req:" + q.Key
	person := r.user(a.ID)
	if st != "overdue" {
		days := r.daysUntil(*q.Due)
		return r.send(note{id: messageID(a.ID, item, due, st), to: person, kind: "reminder", link: "/my/compliance",
			subject: fmt.Sprintf("Reminder: your %s is due on %s", lower(label), dateText(*q.Due)),
			email: notify.Email{Paragraphs: []string{
				fmt.Sprintf("Your %s is due on %s, in %s.", lower(label), dateText(*q.Due), plural(days, "day")),
				q.Reason,
				"Please arrange it in good time and tell your manager, so that you stay cleared to work with families.",
			}, Action: &notify.Action{Label: "See your requirements"}}})
	}
	// Overdue: the person sees it in the app; their manager is told by email.
	if err := r.send(note{id: messageID(a.ID, item, due, st, "self"), to: person, kind: "reminder", link: "/my/compliance", emailless: true,
		subject: fmt.Sprintf("Your %s is overdue", lower(label)),
		email:   notify.Email{Paragraphs: []string{fmt.Sprintf("Your %s was due on %s. Your manager has been told.", lower(label), dateText(*q.Due))}}}); err != nil {
		return err
	}
	managers, err := r.managersOf(a)
	if err != nil {
		return err
	}
	for _, mid := range managers {
		if err := r.send(note{id: messageID(mid, a.ID, item, due, st), to: r.user(mid), about: []string{a.ID}, kind: "escalation", link: "/manage/advocates/" + a.ID,
			subject: fmt.Sprintf("Overdue: %s's %s", a.Name, lower(label)),
			email: notify.Email{Paragraphs: []string{
				fmt.Sprintf("%s's %s was due on %s and is now overdue.", a.Name, lower(label), dateText(*q.Due)),
				q.Reason,
				clearance(a, q.Key),
			}, Action: &notify.Action{Label: "Open " + a.Name + "'s record"}}}); err != nil {
			return err
		}
	}
	return nil
}

func clearance(a *compliance.Advocate, key string) string {
	if slices.Contains([]string{compliance.ReqDBS, compliance.ReqReferences, compliance.ReqTraining}, key) {
		return "Until it is met, " + a.Name + " is not cleared for allocation to families."
	}
	return "This does not by itself stop allocation, but it needs attention."
}

// digests sends each manager of the organisation a weekly summary of
// what is overdue, missing or due soon (optional; once per ISO week). The
// items are in the email and in the manager's notification, most urgent
// first, each linking to the advocate's record.
func (r *run) digests(orgID string, digest []digestItem, named []string) error {
	if len(digest) == 0 {
		return nil
	}
	items := sortDigest(digest)
	ms, err := r.Comply.Managers(r.ctx, orgID)
	if err != nil {
		return err
	}
	y, w := r.today.ISOWeek()
	week := fmt.Sprintf("%d-W%02d", y, w)
	for _, m := range ms {
		if err := r.send(note{id: messageID(m.ID, "digest", week), to: r.user(m.ID), about: named, kind: "digest", optional: true, link: "/manage?filter=attention",
			subject: fmt.Sprintf("Weekly compliance summary: %s needing attention", plural(len(items), "item")),
			email: notify.Email{Paragraphs: []string{
				fmt.Sprintf("This week %s on your advocates' records need attention:", plural(len(items), "item")),
			}, Items: items, Action: &notify.Action{Label: "Open the dashboard"}}}); err != nil {
			return err
		}
	}
	return nil
}

// certificates reminds learners to renew certificates that expire within
// the first stage (optional reminders), unless they have renewed already.
func (r *run) certificates() error {
	certs, err := r.store.ExpiringCertificates(r.ctx, r.today, r.today.AddDate(0, 0, Stages[0]+1))
	if err != nil {
		return err
	}
	sort.Slice(certs, func(i, j int) bool { return certs[i].Code < certs[j].Code })
	for _, c := range certs {
		st := r.stage(*c.ExpiresAt)
		if st == "" || st == "overdue" {
			continue
		}
		if e, err := r.store.Enrolment(r.ctx, c.EnrolmentID); err == nil && len(e.CertificateCodes) > 0 && e.CertificateCodes[len(e.CertificateCodes)-1] != c.Code {
			continue // a later completion has its own certificate
		}
		days := r.daysUntil(*c.ExpiresAt)
		if err := r.send(note{id: messageID(c.UserID, "cert:"+c.Code, c.ExpiresAt.Format(time.DateOnly), st), to: r.user(c.UserID), kind: "renewal", optional: true,
			link:    "/courses/" + c.Course,
			subject: fmt.Sprintf("Your certificate for %s expires on %s", c.CourseTitle, dateText(*c.ExpiresAt)),
			email: notify.Email{Paragraphs: []string{
				fmt.Sprintf("Your certificate for %s (%s) expires on %s, in %s.", c.CourseTitle, c.Code, dateText(*c.ExpiresAt), plural(days, "day")),
				"To renew it, take the course again and pass the assessment; you will get a new certificate with a new expiry date.",
			}, Action: &notify.Action{Label: "Renew: go to the course"}}}); err != nil {
			return err
		}
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func lower(s string) string {
	if s == "DBS check" {
		return s
	}
	if s == "CPD" {
		return "CPD"
	}
	b := []byte(s)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
