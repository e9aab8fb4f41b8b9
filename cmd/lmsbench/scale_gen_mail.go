package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/notify"
)

// Mail, notifications and sessions. Messages are composed with the same
// templates and words as the services that send them (reminders.run.send,
// auth.Service.RequestPasswordReset); without SMTP they are "recorded".

const inboxKeep = 100 // a user's list keeps the newest 100 (store.inboxLimit)

// message adds one outbox message.
func (g *generator) message(ctx context.Context, m *notify.Message) error {
	m.Status, m.NextTry = notify.StatusRecorded, m.Created
	if err := g.ld.Message(ctx, m); err != nil {
		return err
	}
	g.docs++
	g.messages++
	return nil
}

// reminder is one reminder as the reminder job sends it: a notification
// in the app and, unless it is in-app only or optional and turned off, an
// email with the same ID.
type reminder struct {
	id, kind, subject, link string
	to                      person
	at                      time.Time
	paragraphs              []string
	items                   []notify.Item
	action                  string
	about                   []string
	optional, emailless     bool
}

// send records the reminder's email and returns its notification.
func (g *generator) send(ctx context.Context, r reminder) (notify.Notification, error) {
	n := notify.Notification{ID: r.id, At: r.at, Subject: r.subject, Text: r.paragraphs[0], Link: r.link}
	if r.at.Before(g.anchor.Add(-14 * 24 * time.Hour)) {
		read := r.at.Add(time.Duration(1+len(r.id)%40) * time.Hour)
		n.ReadAt = &read
	}
	if r.emailless || r.optional && !r.to.notify {
		return n, nil
	}
	e := notify.Email{Greeting: "Hello " + r.to.name + ",", Paragraphs: r.paragraphs, Items: r.items}
	if r.action != "" {
		e.Action = &notify.Action{Label: r.action, URL: scaleBaseURL + r.link}
	}
	if r.optional {
		e.Footer = "You can turn off optional reminders on your account page: " + scaleBaseURL + "/account"
	} else {
		e.Footer = "This reminder is part of the organisation's standards for advocates and cannot be turned off."
	}
	text, html := notify.Compose(e)
	return n, g.message(ctx, &notify.Message{ID: r.id, To: r.to.email, UserID: r.to.id, About: r.about, Kind: r.kind,
		Subject: r.subject, Text: text, HTML: html, Created: r.at})
}

// jobTime is when the daily reminder job ran on the day of t (it starts
// early in the morning, London time).
func jobTime(day time.Time, id string) time.Time {
	d := day.In(compliance.London)
	return time.Date(d.Year(), d.Month(), d.Day(), 6, len(id)%50, (len(id)*7)%60, 0, compliance.London).UTC()
}

func londonDay(t time.Time) time.Time {
	t = t.In(compliance.London)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, compliance.London)
}

func dateText(t time.Time) string { return t.In(compliance.London).Format("2 January 2006") }

// renewalReminders sends the renewal reminders the daily job sent for a
// certificate up to yesterday: at 60, 30 and 7 days before it expires.
func (g *generator) renewalReminders(ctx context.Context, u *auth.User, c *certificates.Certificate) ([]notify.Notification, error) {
	if c.ExpiresAt == nil || c.Revoked != nil {
		return nil, nil
	}
	today, oldest := londonDay(g.anchor), londonDay(g.anchor).AddDate(0, 0, -historyDays)
	p := person{id: u.ID, name: u.Name, email: u.Email, notify: u.NotifyOptional}
	var out []notify.Notification
	for _, st := range []int{60, 30, 7} {
		day := londonDay(*c.ExpiresAt).AddDate(0, 0, -st)
		if !day.Before(today) || day.Before(oldest) || day.Before(londonDay(c.IssuedAt)) {
			continue
		}
		id := reminderID(c.UserID, "cert:"+c.Code, c.ExpiresAt.Format(time.DateOnly), fmt.Sprintf("%dd", st))
		n, err := g.send(ctx, reminder{id: id, kind: "renewal", to: p, at: jobTime(day, id), optional: true, link: "/courses/" + c.Course,
			subject: fmt.Sprintf("Your certificate for %s expires on %s", c.CourseTitle, dateText(*c.ExpiresAt)),
			paragraphs: []string{
				fmt.Sprintf("Your certificate for %s (%s) expires on %s, in %d days.", c.CourseTitle, c.Code, dateText(*c.ExpiresAt), st),
				"To renew it, take the course again and pass the assessment; you will get a new certificate with a new expiry date.",
			}, action: "Renew: go to the course"})
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// passwordReset records a password reset email as auth sends it.
func (g *generator) passwordReset(ctx context.Context, rng *rand.Rand, p person, at time.Time) error {
	token := make([]byte, 32)
	for i := range token {
		token[i] = byte(rng.Uint32())
	}
	text, html := notify.Compose(auth.ResetEmail(p.name, scaleBaseURL+"/password/reset?token="+base64.RawURLEncoding.EncodeToString(token)))
	return g.message(ctx, &notify.Message{ID: hexID(rng, 12), To: p.email, UserID: p.id, Kind: "password_reset", Subject: "Reset your password",
		Text: text, HTML: html, Created: at})
}

// subjectNotices gives a bench subject a list of notifications like a
// learner's of some years (their certificates are issued later).
func (g *generator) subjectNotices(rng *rand.Rand, u *auth.User) []notify.Notification {
	var out []notify.Notification
	for k := 0; k < 12; k++ {
		c := g.catalog[k%len(g.catalog)]
		at := daysAgo(g.anchor, float64(historyDays-k*30)-rng.Float64()*5)
		out = append(out, notify.Notification{ID: reminderID(u.ID, "notice", c.Slug, at.Format(time.DateOnly)), At: at,
			Subject: "A new version of " + c.Title + " is available", Text: "The course " + c.Title + " has been updated; your certificate stays valid.",
			Link: "/courses/" + c.Slug})
	}
	return out
}

// inbox adds a user's notifications, newest first, as the store keeps them.
func (g *generator) inbox(userID string, items []notify.Notification) {
	if len(items) == 0 {
		return
	}
	slices.SortFunc(items, func(a, b notify.Notification) int { return b.At.Compare(a.At) })
	if len(items) > inboxKeep {
		items = items[:inboxKeep]
	}
	g.ld.Inbox(&notify.Inbox{UserID: userID, Items: items})
	g.docs++
}

// staffNotice keeps a notification for a manager or admin, written at the end.
func (g *generator) staffNotice(userID string, n notify.Notification) {
	if b := g.staffBox[userID]; b != nil {
		b.items = append(b.items, n)
	}
}

func (g *generator) staffInboxes(context.Context) error {
	for id, b := range g.staffBox {
		g.inbox(id, b.items)
	}
	return nil
}

// staffPerson returns a manager or admin as a person.
func staffPerson(u *auth.User) person {
	return person{id: u.ID, name: u.Name, email: u.Email, created: u.Created, notify: u.NotifyOptional}
}

// digests sends each manager of the service the weekly summary of what
// needs attention on their advocates' records, naming the advocates.
func (g *generator) digests(ctx context.Context) error {
	if len(g.advs) == 0 {
		return nil
	}
	rng := rngFor(streamDigests)
	labels := []string{compliance.ReqDBS, compliance.ReqCPD, compliance.ReqSupervision, compliance.ReqTraining, compliance.ReqRegistration}
	today := londonDay(g.anchor)
	for _, m := range g.managers[g.main.ID] {
		for week := today.AddDate(0, 0, -historyDays); week.Before(today); week = week.AddDate(0, 0, 7) {
			y, w := week.ISOWeek()
			var items []notify.Item
			var about []string
			for k := 0; k < min(len(g.advs), 8+rng.IntN(20)); k++ {
				a := g.advs[rng.IntN(len(g.advs))]
				if slices.Contains(about, a.ID) {
					continue
				}
				key := labels[rng.IntN(len(labels))]
				items = append(items, notify.Item{Text: a.Name + ": " + compliance.RequirementLabels[key] + " (Due soon)", Detail: "Due within the next 60 days."})
				about = append(about, a.ID)
			}
			id := reminderID(m.ID, "digest", fmt.Sprintf("%d-W%02d", y, w))
			n, err := g.send(ctx, reminder{id: id, kind: "digest", to: staffPerson(m), at: jobTime(week, id), optional: true, link: "/manage?filter=attention",
				subject:    fmt.Sprintf("Weekly compliance summary: %d items needing attention", len(items)),
				paragraphs: []string{fmt.Sprintf("This week %d items on your advocates' records need attention:", len(items))},
				items:      items, about: about, action: "Open the dashboard"})
			if err != nil {
				return err
			}
			g.staffNotice(m.ID, n)
		}
	}
	return nil
}

// fillMail brings the outbox to about two messages per learner over the
// last 400 days with password reset emails, the commonest mail after
// reminders.
func (g *generator) fillMail(ctx context.Context) error {
	rng := rngFor(streamFill)
	target := int(mailPerLearner * float64(g.n))
	oldest := g.anchor.AddDate(0, 0, -historyDays)
	for g.messages < target {
		p := g.people[rng.IntN(len(g.people))]
		if err := g.passwordReset(ctx, rng, p, between(rng, maxTime(p.created, oldest), g.anchor.Add(-time.Minute))); err != nil {
			return err
		}
		if err := g.maybeFlush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sessions signs a few per cent of the learners in: half are active now
// (seen in the last hour), half ended in the past hours (the sweep's work).
func (g *generator) sessions(ctx context.Context) error {
	rng := rngFor(streamSessions)
	now := time.Now().UTC() // sessions are made last, just before the bench's clock starts
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	for k := 0; k < int(sessionShare*float64(g.n)); k++ {
		p := g.people[rng.IntN(len(g.people))]
		token := make([]byte, 32)
		for i := range token {
			token[i] = byte(rng.Uint32())
		}
		s := &auth.Session{ID: auth.TokenID(base64.RawURLEncoding.EncodeToString(token)), UserID: p.id, UserAgent: agents[rng.IntN(len(agents))]}
		if k%2 == 0 { // alive
			s.Created = now.Add(-time.Duration(rng.Int64N(int64(10 * time.Hour))))
			s.LastSeen = maxTime(s.Created, now.Add(-time.Duration(rng.Int64N(int64(55*time.Minute)))))
		} else { // ended in the past few hours
			s.Created = now.Add(-auth.SessionAbsolute - time.Duration(rng.Int64N(int64(6*time.Hour))))
			s.LastSeen = s.Created.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
		}
		s.Expires = s.Created.Add(auth.SessionAbsolute)
		if err := g.ld.Session(ctx, s); err != nil {
			return err
		}
		g.docs++
	}
	return nil
}
