package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
)

// Advocates and the audit trail. An advocate's record is the compliance
// bench's (benchAdvocate: a DBS check, 2 references, 40 CPD entries, 12
// supervisions) made theirs: their account, their manager, fields sealed
// as the compliance service seals them, their courses as training and
// CPD, and every record's audit event, reminder and escalation.

// event adds one audit event.
func (g *generator) event(ctx context.Context, e *audit.Event) error {
	if err := g.ld.Event(ctx, e); err != nil {
		return err
	}
	g.docs++
	g.events++
	return nil
}

// advocate adds the compliance record of advocate u (whose passed courses
// are given) and returns the notifications the reminder job left them.
func (g *generator) advocate(ctx context.Context, rng *rand.Rand, u *auth.User, passed map[string]*learning.Enrolment) ([]notify.Notification, error) {
	cs := g.svc.Comply
	mgr := g.managers[g.main.ID][len(g.advs)%len(g.managers[g.main.ID])]
	a := benchAdvocate(len(g.advs), g.main.ID, mgr.ID, g.anchor, cs)
	a.ID, a.Name, a.Email, a.Created = u.ID, u.Name, u.Email, minTime(u.Created.Add(time.Hour), *a.ContractStart)
	seal := func(what, id, v string) string { return cs.Box.Seal(v, "advocate:"+a.ID+":"+what+":"+id) }
	for i := range a.DBS {
		d := &a.DBS[i]
		d.ID = hexID(rng, 8)
		number := fmt.Sprintf("00%010d", rng.Int64N(1e10))
		d.CertificateNumber, d.NumberLast4 = seal("dbs-number", d.ID, number), number[len(number)-4:]
		d.OriginalSeenBy, d.RecordedBy = mgr.Name, mgr.Name
		if d.DecisionAt != nil && g.anchor.Before(compliance.ScanDeleteAfter(*d.DecisionAt)) {
			d.DecisionNotes = seal("dbs-notes", d.ID, "Enhanced check with children's barred list; nothing disclosed.")
		}
	}
	for i := range a.References {
		r := &a.References[i]
		r.ID = hexID(rng, 8)
		r.Notes, r.VerifiedBy, r.RecordedBy = seal("reference-notes", r.ID, "Spoke to the referee; satisfactory in every respect."), mgr.Name, mgr.Name
	}
	for i := range a.Supervisions {
		s := &a.Supervisions[i]
		s.ID = hexID(rng, 8)
		s.Notes, s.Supervisor, s.RecordedBy = seal("supervision-notes", s.ID, "Caseload, a difficult conference and the week ahead."), mgr.Name, mgr.Name
		s.RecordedAt = minTime(s.Date.Add(time.Duration(1+rng.IntN(48))*time.Hour), g.anchor.Add(-time.Hour))
	}
	// CPD over the last 400 days, half recorded by the advocate themselves.
	for i := range a.CPD {
		e := &a.CPD[i]
		e.ID = hexID(rng, 8)
		e.Date = daysAgo(g.anchor, float64(i*10)+rng.Float64()*5+1)
		e.RecordedAt = minTime(e.Date.Add(time.Duration(1+rng.IntN(72))*time.Hour), g.anchor.Add(-time.Hour))
		e.RecordedBy = mgr.Name
		if i%2 == 0 {
			e.RecordedBy = a.Name
		}
	}
	// Courses passed here are mandatory training and CPD.
	for _, c := range g.catalog {
		e := passed[c.Slug]
		if e == nil {
			continue
		}
		a.Training[c.Slug] = e.Completion.At
		entry := "course:" + c.Slug + ":" + strconv.Itoa(e.Completion.Attempt)
		a.CPD = append(a.CPD, compliance.CPDEntry{ID: entry, Date: e.Completion.At, Title: e.Completion.CourseTitle, Type: "course",
			Hours: e.Completion.CPDHours, Learnt: "Completed the course and passed its assessment (" + strconv.Itoa(e.Completion.Percent) + "%).",
			Source: "course:" + c.Slug, RecordedBy: "Family Advocacy Learning", RecordedAt: e.Completion.At.Add(time.Minute)})
		if err := g.event(ctx, &audit.Event{ID: hexID(rng, 12), At: e.Completion.At.Add(time.Minute), ActorID: "system", Actor: "Family Advocacy Learning",
			OrgID: a.OrgID, Action: "cpd.create", Target: "advocate:" + a.ID, Note: "Course completed in the LMS",
			After: map[string]any{"entry": entry, "title": c.Title, "hours": c.CPDHours, "source": "course:" + c.Slug, "version": e.Completion.CourseVersion}}); err != nil {
			return nil, err
		}
	}
	a.Snapshot = compliance.Evaluate(cs.Policy, a, cs.CourseTitle, g.anchor)
	g.rollup.Rows[a.ID] = cs.RowOf(a)
	if err := g.ld.Advocate(ctx, a); err != nil {
		return nil, err
	}
	g.docs++
	g.advs = append(g.advs, a)
	if err := g.advocateTrail(ctx, rng, a, mgr); err != nil {
		return nil, err
	}
	return g.advocateReminders(ctx, rng, a, u, mgr)
}

// advocateTrail adds the audit events of the advocate's records: each
// was created through the compliance service, which audits every change.
func (g *generator) advocateTrail(ctx context.Context, rng *rand.Rand, a *compliance.Advocate, mgr *auth.User) error {
	ev := func(at time.Time, actor *auth.User, action string, before, after map[string]any) error {
		at = maxTime(at, a.Created)
		return g.event(ctx, &audit.Event{ID: hexID(rng, 12), At: at, ActorID: actor.ID, Actor: actor.Name, OrgID: a.OrgID,
			Action: action, Target: "advocate:" + a.ID, Before: before, After: after})
	}
	profile := map[string]any{"name": a.Name, "profession": a.Profession, "professional_body": a.ProfessionalBody,
		"registration_no": a.RegistrationNo, "status": a.Status, "manager_id": a.ManagerID, "contract_start": a.ContractStart.Format(time.DateOnly)}
	if err := ev(a.Created, mgr, "advocate.create", nil, profile); err != nil {
		return err
	}
	for _, d := range a.DBS {
		if err := ev(d.RecordedAt, mgr, "dbs.create", nil, map[string]any{"check": d.ID, "level": d.Level, "workforce": d.Workforce,
			"barred_lists": d.BarredLists, "issue_date": d.IssueDate.Format(time.DateOnly), "update_service": d.UpdateService, "decision": "", "scan": false}); err != nil {
			return err
		}
		if err := ev(d.RecordedAt.Add(time.Hour), mgr, "dbs.decision", map[string]any{"check": d.ID, "decision": ""},
			map[string]any{"check": d.ID, "decision": d.Decision, "notes_changed": true}); err != nil {
			return err
		}
	}
	for _, r := range a.References {
		if err := ev(r.RecordedAt, mgr, "reference.create", nil, map[string]any{"reference": r.ID, "referee": r.Referee, "outcome": r.Outcome, "verified": true}); err != nil {
			return err
		}
	}
	for _, s := range a.Supervisions {
		if err := ev(s.RecordedAt, mgr, "supervision.create", nil, map[string]any{"supervision": s.ID, "date": s.Date.Format(time.DateOnly), "kind": s.Kind, "supervisor": s.Supervisor}); err != nil {
			return err
		}
	}
	self := &auth.User{ID: a.ID, Name: a.Name}
	for _, e := range a.CPD {
		if e.Source != "manual" {
			continue
		}
		actor := mgr
		if e.RecordedBy == a.Name {
			actor = self
		}
		if err := ev(e.RecordedAt, actor, "cpd.create", nil, map[string]any{"entry": e.ID, "title": e.Title, "type": e.Type, "hours": e.Hours,
			"date": e.Date.Format(time.DateOnly), "evidence": 0}); err != nil {
			return err
		}
	}
	return nil
}

// advocateReminders sends the compliance reminders of the last 400 days:
// supervision and CPD reminders to the advocate, and overdue escalations
// to their manager naming them.
func (g *generator) advocateReminders(ctx context.Context, rng *rand.Rand, a *compliance.Advocate, u *auth.User, mgr *auth.User) ([]notify.Notification, error) {
	me := person{id: u.ID, name: u.Name, email: u.Email, notify: u.NotifyOptional}
	var out []notify.Notification
	for k := 0; k < 8; k++ {
		key := []string{compliance.ReqSupervision, compliance.ReqSupervision, compliance.ReqSupervision, compliance.ReqCPD, compliance.ReqRegistration}[k%5]
		stage := map[string]int{compliance.ReqSupervision: 7, compliance.ReqCPD: 30, compliance.ReqRegistration: 60}[key]
		sent := londonDay(daysAgo(g.anchor, float64(k*48)+rng.Float64()*40+1))
		due := sent.AddDate(0, 0, stage)
		label := lowerLabel(compliance.RequirementLabels[key])
		id := reminderID(a.ID, "req:"+key, due.Format(time.DateOnly), fmt.Sprintf("%dd", stage))
		n, err := g.send(ctx, reminder{id: id, kind: "reminder", to: me, at: jobTime(sent, id), link: "/my/compliance",
			subject: fmt.Sprintf("Reminder: your %s is due on %s", label, dateText(due)),
			paragraphs: []string{fmt.Sprintf("Your %s is due on %s, in %d days.", label, dateText(due), stage),
				"Due by " + dateText(due) + " under the organisation's policy.",
				"Please arrange it in good time and tell your manager, so that you stay cleared to work with families."},
			action: "See your requirements"})
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	for k := 0; k < 2; k++ {
		key := []string{compliance.ReqSupervision, compliance.ReqCPD}[k]
		label := lowerLabel(compliance.RequirementLabels[key])
		due := londonDay(daysAgo(g.anchor, float64(30+k*170)+rng.Float64()*100))
		sent := due.AddDate(0, 0, 1)
		self := reminderID(a.ID, "req:"+key, due.Format(time.DateOnly), "overdue", "self")
		n, err := g.send(ctx, reminder{id: self, kind: "reminder", to: me, at: jobTime(sent, self), link: "/my/compliance", emailless: true,
			subject:    fmt.Sprintf("Your %s is overdue", label),
			paragraphs: []string{fmt.Sprintf("Your %s was due on %s. Your manager has been told.", label, dateText(due))}})
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		id := reminderID(mgr.ID, a.ID, "req:"+key, due.Format(time.DateOnly), "overdue")
		n, err = g.send(ctx, reminder{id: id, kind: "escalation", to: staffPerson(mgr), at: jobTime(sent, id), link: "/manage/advocates/" + a.ID,
			about: []string{a.ID}, subject: fmt.Sprintf("Overdue: %s's %s", a.Name, label),
			paragraphs: []string{fmt.Sprintf("%s's %s was due on %s and is now overdue.", a.Name, label, dateText(due)),
				"Overdue since " + dateText(due) + ".", "This does not by itself stop allocation, but it needs attention."},
			action: "Open " + a.Name + "'s record"})
		if err != nil {
			return nil, err
		}
		g.staffNotice(mgr.ID, n)
	}
	return out, nil
}

func lowerLabel(s string) string {
	if s == "DBS check" || s == "CPD" || s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// fillAudit brings the trail to about 0.76 events per learner with what
// managers do most besides recording: opening sealed notes and revealing
// DBS certificate numbers, both audited.
func (g *generator) fillAudit(ctx context.Context) error {
	if len(g.advs) == 0 {
		return nil
	}
	rng := rngFor(streamFill + 1)
	target := int(auditPerPerson * float64(g.n))
	for g.events < target {
		a := g.advs[rng.IntN(len(g.advs))]
		ms := g.managers[g.main.ID]
		actor := ms[rng.IntN(len(ms))]
		if rng.IntN(10) == 0 {
			actor = g.admins[rng.IntN(len(g.admins))]
		}
		at := between(rng, maxTime(a.Created, g.anchor.AddDate(0, 0, -historyDays)), g.anchor.Add(-time.Minute))
		e := &audit.Event{ID: hexID(rng, 12), At: at, ActorID: actor.ID, Actor: actor.Name, OrgID: a.OrgID, Target: "advocate:" + a.ID}
		if rng.IntN(4) == 0 && len(a.DBS) > 0 {
			e.Action, e.After = "dbs.reveal_number", map[string]any{"check": a.DBS[0].ID}
		} else {
			ids := []string{a.References[0].ID}
			if len(a.Supervisions) > 0 {
				ids = append(ids, a.Supervisions[rng.IntN(len(a.Supervisions))].ID)
			}
			e.Action, e.After = "advocate.notes_viewed", map[string]any{"records": ids}
		}
		if err := g.event(ctx, e); err != nil {
			return err
		}
		if err := g.maybeFlush(ctx); err != nil {
			return err
		}
	}
	return nil
}
