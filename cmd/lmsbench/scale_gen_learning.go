package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
)

// learnerKind says what a generated learner is for.
type learnerKind int

const (
	plainLearner    learnerKind = iota
	subjectLearner              // all five courses passed; certificates issued by the service after loading
	writerLearner               // enrolled on all five courses lately, nothing done: the bench's writers
	advocateLearner             // a contracted advocate with a full compliance record
)

// learner generates one learner: the account, 1–5 enrolments (60 %
// completed, each completion with its attempts, submissions and
// certificate), the renewal reminders their certificates brought and, for
// an advocate, the compliance record and its audit trail.
func (g *generator) learner(ctx context.Context, i int, kind learnerKind) error {
	rng := rngFor(uint64(i))
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	o := g.main
	if kind == plainLearner && rng.Float64() >= 0.25 {
		o = g.partners[rng.IntN(len(g.partners))]
	}
	var regAgo float64
	switch kind {
	case subjectLearner:
		regAgo = 500 + 100*rng.Float64()
	case writerLearner:
		regAgo = 20 + 30*rng.Float64()
	case advocateLearner:
		regAgo = 420 + 300*rng.Float64()
	default:
		regAgo = skewedDaysAgo(rng.Float64(), 800)
	}
	created := daysAgo(g.anchor, regAgo)
	job := []auth.JobRole{auth.JobMentalHealth, auth.JobDomesticAbuse, auth.JobAdvocate, auth.JobOther}[rng.IntN(4)]
	roles := []auth.Role{auth.RoleLearner}
	if kind == advocateLearner {
		job, roles = auth.JobAdvocate, append(roles, auth.RoleAdvocate)
	}
	u := &auth.User{ID: hexID(rng, 16), Email: fmt.Sprintf("%s.%s%d@%s", asciiFold(first), asciiFold(last), i, o.domain), Name: first + " " + last,
		OrgID: o.ID, JobRole: job, Roles: roles, Created: created, Updated: created, PasswordHash: g.hash,
		NotifyOptional: rng.Float64() < 0.9, Version: 1}
	p := person{id: u.ID, name: u.Name, email: u.Email, created: created, notify: u.NotifyOptional}
	g.people = append(g.people, p)
	switch {
	case kind == subjectLearner && i == 0:
		g.meta.ExportUser, g.meta.SearchEmail = u.ID, u.Email
	case kind == subjectLearner:
		g.meta.EraseUser = u.ID
	case kind == writerLearner:
		g.meta.Writers = append(g.meta.Writers, u.ID)
	case kind == advocateLearner && g.meta.Advocate == "":
		g.meta.Advocate = u.ID
	}
	if g.meta.SearchWord == "" && kind == plainLearner {
		g.meta.SearchWord = last
	}

	// Courses: advocates take the mandatory ones first.
	order := rng.Perm(len(g.catalog))
	k := 1 + rng.IntN(5)
	if kind == advocateLearner {
		slices.SortStableFunc(order, func(a, b int) int {
			return boolInt(g.svc.Comply.Policy.Requires(g.catalog[b].Slug)) - boolInt(g.svc.Comply.Policy.Requires(g.catalog[a].Slug))
		})
		k = max(k, 2)
	}
	if kind == subjectLearner || kind == writerLearner {
		k = len(order)
	}
	k = min(k, len(order))
	var inbox []notify.Notification
	passed := map[string]*learning.Enrolment{}
	for _, ci := range order[:k] {
		c := g.catalog[ci]
		w := rng.Float64()
		enrolAt := daysAgo(g.anchor, regAgo*(1-w*w))
		if kind == writerLearner {
			enrolAt = daysAgo(g.anchor, 1+rng.Float64()*(regAgo-1))
		}
		complete := rng.Float64() < completedShare
		if kind == advocateLearner && g.svc.Comply.Policy.Requires(c.Slug) {
			complete = rng.Float64() < 0.9
		}
		mode := enrolProgress
		switch {
		case kind == writerLearner:
			mode = enrolUntouched
		case kind == subjectLearner:
			mode = enrolPassedNoCert
		case complete && g.anchor.Sub(enrolAt) > 8*time.Hour:
			mode = enrolPassed
		}
		e, cert, err := g.enrolment(ctx, rng, u, c, enrolAt, mode)
		if err != nil {
			return err
		}
		if e.Completion != nil {
			passed[c.Slug] = e
		}
		if e.Updated.After(u.Updated) {
			u.Updated = e.Updated
		}
		if cert == nil {
			continue
		}
		if err := g.certificateLife(ctx, rng, u, cert); err != nil {
			return err
		}
		items, err := g.renewalReminders(ctx, u, cert)
		if err != nil {
			return err
		}
		inbox = append(inbox, items...)
	}
	if kind == advocateLearner {
		items, err := g.advocate(ctx, rng, u, passed)
		if err != nil {
			return err
		}
		inbox = append(inbox, items...)
	}
	if kind == subjectLearner {
		inbox = append(inbox, g.subjectNotices(rng, u)...)
		for k := 0; k < 6; k++ { // forgot their password now and then
			if err := g.passwordReset(ctx, rng, p, daysAgo(g.anchor, float64(k*60)+rng.Float64()*30+1)); err != nil {
				return err
			}
		}
	}
	if rng.Float64() < 0.005 || kind == subjectLearner { // downloaded their data once
		if err := g.event(ctx, &audit.Event{ID: hexID(rng, 12), At: between(rng, maxTime(created, daysAgo(g.anchor, historyDays)), g.anchor),
			ActorID: u.ID, Actor: u.Name, OrgID: u.OrgID, Action: "user.export", Target: "user:" + u.ID}); err != nil {
			return err
		}
	}
	if err := g.ld.User(ctx, u); err != nil {
		return err
	}
	g.docs += 2
	g.inbox(u.ID, inbox)
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type enrolMode int

const (
	enrolUntouched    enrolMode = iota // enrolled, nothing done
	enrolProgress                      // some lessons, maybe a failed or an open attempt
	enrolPassed                        // passed, certificate issued
	enrolPassedNoCert                  // passed, certificate to be issued by the service
)

// enrolment generates one enrolment with its attempts and submissions and,
// when passed, its certificate (returned, not yet added).
func (g *generator) enrolment(ctx context.Context, rng *rand.Rand, u *auth.User, c *courses.Course, enrolAt time.Time, mode enrolMode) (*learning.Enrolment, *certificates.Certificate, error) {
	e := &learning.Enrolment{ID: learning.EnrolmentID(u.ID, c.Slug), UserID: u.ID, Course: c.Slug, CourseVersion: g.versionAt(c.Slug, enrolAt),
		Enrolled: enrolAt, Updated: enrolAt, Lessons: map[string]time.Time{}, Attempts: map[string]learning.AttemptSummary{}, Pending: []string{}}
	var cert *certificates.Certificate
	switch mode {
	case enrolUntouched:
	case enrolProgress:
		done := rng.IntN(len(c.Lessons) + 1)
		horizon := maxTime(enrolAt, minTime(g.anchor.Add(-time.Hour), enrolAt.Add(30*24*time.Hour)))
		e.Updated = g.lessons(rng, e, c, done, enrolAt, horizon)
		if done == len(c.Lessons) && done > 0 {
			switch r := rng.Float64(); {
			case r < 0.4: // failed once or twice, may retry
				t, fails := between(rng, e.Updated, horizon), 1+rng.IntN(2)
				for n := 1; n <= fails && t.Before(g.anchor.Add(-time.Hour)); n++ {
					s, err := g.attempt(rng, u, c, n, t, false, true)
					if err != nil {
						return nil, nil, err
					}
					e.Attempts[strconv.Itoa(n)] = s
					e.Updated = s.Submitted
					t = s.Submitted.Add(time.Duration(c.Assessment.RetryAfterHours) * time.Hour)
				}
			case r < 0.5: // a paper open, not submitted
				s, err := g.attempt(rng, u, c, 1, between(rng, e.Updated, horizon), false, false)
				if err != nil {
					return nil, nil, err
				}
				e.Attempts["1"], e.OpenAttempt, e.Updated = s, 1, s.Started
			}
		}
	case enrolPassed, enrolPassedNoCert:
		n := 1
		if r := rng.Float64(); r < 0.05 {
			n = 3
		} else if r < 0.25 {
			n = 2
		}
		if m := c.Assessment.MaxAttempts; m > 0 {
			n = min(n, m)
		}
		retry := time.Duration(c.Assessment.RetryAfterHours)*time.Hour + time.Duration(2+rng.IntN(70))*time.Hour
		// The pass comes a few hours to a month after enrolling, and is
		// at least an hour old.
		pass := minTime(enrolAt.Add(time.Duration(4+rng.IntN(30*24))*time.Hour), g.anchor.Add(-time.Hour))
		firstStart := pass.Add(-time.Hour - time.Duration(n-1)*retry)
		if !firstStart.After(enrolAt.Add(2 * time.Hour)) {
			n, firstStart = 1, pass.Add(-time.Hour)
		}
		g.lessons(rng, e, c, len(c.Lessons), enrolAt, firstStart)
		t := firstStart
		var last learning.AttemptSummary
		for a := 1; a <= n; a++ {
			s, err := g.attempt(rng, u, c, a, t, a == n, true)
			if err != nil {
				return nil, nil, err
			}
			e.Attempts[strconv.Itoa(a)] = s
			last = s
			t = s.Submitted.Add(retry)
		}
		e.Completion = &learning.Completion{At: last.Submitted, CourseVersion: g.versionAt(c.Slug, last.Started), CourseTitle: c.Title,
			Percent: last.Percent, CPDHours: c.CPDHours, Attempt: n}
		e.Updated = last.Submitted
		if mode == enrolPassed {
			var err error
			if cert, err = g.certificate(rng, u, c, e); err != nil {
				return nil, nil, err
			}
			e.CertificateCodes, e.Updated = []string{cert.Code}, cert.IssuedAt
		}
	}
	if err := g.ld.Enrolment(ctx, e); err != nil {
		return nil, nil, err
	}
	g.docs++
	g.evaluation(rng, u, c, e)
	return e, cert, nil
}

// lessons marks the first done lessons of c complete between from and to,
// in order, and returns the last time.
func (g *generator) lessons(rng *rand.Rand, e *learning.Enrolment, c *courses.Course, done int, from, to time.Time) time.Time {
	times := make([]time.Time, done)
	for i := range times {
		times[i] = between(rng, from, to)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i, t := range times {
		e.Lessons[c.Lessons[i].Name] = t
	}
	switch {
	case done > 0:
		e.LastLesson = c.Lessons[done-1].Name
		return times[done-1]
	case rng.IntN(2) == 0:
		e.LastLesson = c.Lessons[0].Name // looked at the first lesson
	}
	return from
}

// attempt generates attempt n, started at start: the drawn paper and,
// when submitted, the graded answers (a pass or a fail as asked).
func (g *generator) attempt(rng *rand.Rand, u *auth.User, c *courses.Course, n int, start time.Time, pass, submit bool) (learning.AttemptSummary, error) {
	version := g.versionAt(c.Slug, start)
	a := &learning.Attempt{ID: learning.AttemptID(u.ID, c.Slug, n), UserID: u.ID, Course: c.Slug, No: n, CourseVersion: version,
		Started: start, Paper: courses.Draw(&c.Assessment, rng)}
	g.ld.Attempt(a)
	g.docs++
	s := learning.AttemptSummary{No: n, Started: start}
	if !submit {
		return s, nil
	}
	answers, res, err := answerPaper(rng, c, a.Paper, pass)
	if err != nil {
		return s, err
	}
	at := start.Add(time.Duration(8+rng.IntN(35)) * time.Minute)
	g.ld.Submission(&learning.Submission{ID: a.ID, UserID: u.ID, Course: c.Slug, No: n, At: at, CourseVersion: version, Answers: answers, Result: res})
	g.docs++
	s.Submitted, s.Correct, s.Total, s.Percent, s.Passed = at, res.Correct, res.Total, res.Percent, res.Passed
	return s, nil
}

// answerPaper answers a paper so that it passes or fails, as a learner
// would: a pass with up to two mistakes, a fail with several.
func answerPaper(rng *rand.Rand, c *courses.Course, paper []courses.PaperItem, pass bool) (courses.Answers, courses.Result, error) {
	wrong := rng.IntN(3)
	if !pass {
		wrong = 3 + rng.IntN(max(len(paper)-2, 1))
	}
	for try := 0; try < 3; try++ {
		answers := courses.Answers{}
		for i, it := range paper {
			q, ok := c.Assessment.Question(it.QuestionID)
			if !ok {
				return nil, courses.Result{}, fmt.Errorf("question %s not in %s", it.QuestionID, c.Slug)
			}
			var right []int
			for j, o := range q.Options {
				if o.Correct {
					right = append(right, j)
				}
			}
			if i >= wrong {
				answers[q.ID] = right
				continue
			}
			pick := rng.IntN(len(q.Options))
			if len(right) == 1 && pick == right[0] {
				pick = (pick + 1) % len(q.Options)
			}
			answers[q.ID] = []int{pick}
		}
		res, err := courses.Grade(&c.Assessment, paper, answers)
		if err != nil || res.Passed == pass {
			return answers, res, err
		}
		if pass {
			wrong = 0
		} else {
			wrong = len(paper)
		}
	}
	return nil, courses.Result{}, fmt.Errorf("cannot make a paper of %s that passes=%v", c.Slug, pass)
}

func firstWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}
