package compliance

import (
	"fmt"

	"github.com/family-advocacy/lms/internal/civil"
	"slices"
	"strings"
	"time"
)

// CPD: the periods the rules count in, progress against a rule, and the
// requirement's state.

// Period is a CPD period [Start, End).
type Period struct{ Start, End time.Time }

// YearPeriod returns the yearly period containing t that starts each year
// on monthDay ("12-01").
func YearPeriod(t time.Time, monthDay string) Period {
	md, _ := time.Parse("01-02", monthDay)
	today := civil.Of(t)
	start := civil.Date{Year: today.Year, Month: md.Month(), Day: md.Day()}
	if today.Before(start) {
		start = start.AddYears(-1)
	}
	return Period{Start: start.Midnight(), End: start.AddYears(1).Midnight()}
}

// Label names a period like "1 December 2025 – 30 November 2026".
func (p Period) Label() string {
	return fmtDate(p.Start) + " – " + fmtDate(addDays(p.End, -1))
}

func (p Period) contains(t time.Time) bool { d := day(t); return !d.Before(p.Start) && d.Before(p.End) }

// CPDProgress is how far an advocate is with the CPD rule in a period.
type CPDProgress struct {
	Rule      CPDRule
	Period    Period
	Pieces    int
	Peer      int
	Hours     float64
	Declared  bool
	Satisfied bool
	Summary   string // e.g. "1 of 2 pieces, 0 of 1 with a peer"
	Percent   int    // for a progress bar
}

// Progress measures entries against the rule for the period containing at
// (for rolling rules, the months up to at).
func Progress(rule CPDRule, entries []CPDEntry, at time.Time) CPDProgress {
	pr := CPDProgress{Rule: rule}
	switch rule.Rule {
	case RuleHoursRolling:
		end := civil.Of(at).AddDays(1)
		pr.Period = Period{Start: end.AddMonths(-rule.Months).Midnight(), End: end.Midnight()}
	default:
		pr.Period = YearPeriod(at, rule.YearStarts)
	}
	for _, e := range entries {
		if !pr.Period.contains(e.Date) {
			continue
		}
		pr.Pieces++
		pr.Hours += e.Hours
		if e.Reflective() {
			pr.Peer++
		}
		if e.Type == "declaration" {
			pr.Declared = true
		}
	}
	switch rule.Rule {
	case RulePiecesPerYear:
		pr.Satisfied = pr.Pieces >= rule.Pieces && pr.Peer >= rule.PeerReflection
		pr.Summary = fmt.Sprintf("%d of %d pieces, %d of %d discussed with a peer", min(pr.Pieces, rule.Pieces), rule.Pieces, min(pr.Peer, rule.PeerReflection), rule.PeerReflection)
		pr.Percent = percentOf(min(pr.Pieces, rule.Pieces)+min(pr.Peer, rule.PeerReflection), rule.Pieces+rule.PeerReflection)
	case RuleDeclarationPerYear:
		pr.Satisfied = pr.Declared
		pr.Summary = map[bool]string{true: "Annual reflection declaration made", false: "No annual reflection declaration yet"}[pr.Declared]
		pr.Percent = map[bool]int{true: 100, false: 0}[pr.Declared]
	case RuleHoursRolling:
		pr.Satisfied = pr.Hours >= rule.Hours && pr.Peer >= rule.ReflectiveEntries
		pr.Summary = fmt.Sprintf("%s of %s hours, %d of %d reflective entries", trimFloat(pr.Hours), trimFloat(rule.Hours), min(pr.Peer, rule.ReflectiveEntries), rule.ReflectiveEntries)
		pr.Percent = (percentOf(int(min(pr.Hours, rule.Hours)*10), int(rule.Hours*10))*3 + percentOf(min(pr.Peer, rule.ReflectiveEntries), rule.ReflectiveEntries)) / 4
	}
	return pr
}

// rollingOverdueSince finds when a rolling rule stopped being met: the day
// after the last day whose window was satisfied, but not before the end of
// the first full window (from the contract start, or the record's
// creation), which is also the date when the window was never satisfied.
// The date does not move as days pass, so the reminder and the manager's
// escalation about it go once. What a window holds changes only when an
// entry enters or leaves it, so only the days around those are tried,
// latest first.
// rollingLapse returns the last day a rolling rule met today stays met
// if no more CPD is recorded: the day before the first entry whose leaving
// the window takes the hours (or reflective entries) below the rule.
func rollingLapse(rule CPDRule, entries []CPDEntry, now time.Time) time.Time {
	today := civil.Of(now)
	var leaves []civil.Date
	for _, e := range entries {
		if l := civil.Of(e.Date).AddMonths(rule.Months); l.After(today) {
			leaves = append(leaves, l)
		}
	}
	slices.SortFunc(leaves, func(x, y civil.Date) int { return x.Compare(y) })
	for _, l := range slices.Compact(leaves) {
		if !Progress(rule, entries, l.Midnight()).Satisfied {
			return l.AddDays(-1).Midnight()
		}
	}
	// Not reached for a rule met today (the last entry leaving leaves it
	// unmet); a window's length from today otherwise.
	return today.AddMonths(rule.Months).AddDays(-1).Midnight()
}

func rollingOverdueSince(rule CPDRule, a *Advocate, now time.Time) time.Time {
	today := civil.Of(now)
	start := civil.Of(a.Created)
	if a.ContractStart != nil {
		start = civil.Of(*a.ContractStart)
	}
	first := start.AddMonths(rule.Months)
	var candidates []civil.Date
	for _, e := range a.CPD {
		enters := civil.Of(e.Date)
		leaves := enters.AddMonths(rule.Months)
		for _, d := range []civil.Date{leaves, leaves.AddDays(-1), leaves.AddDays(-2), enters} {
			if d.Before(today) && !d.Before(first.AddDays(-1)) {
				candidates = append(candidates, d)
			}
		}
	}
	slices.SortFunc(candidates, func(x, y civil.Date) int { return y.Compare(x) })
	for _, d := range slices.Compact(candidates) {
		if Progress(rule, a.CPD, d.Midnight()).Satisfied {
			if since := d.AddDays(1); since.After(first) {
				return since.Midnight()
			}
			break
		}
	}
	return first.Midnight()
}

func percentOf(n, d int) int {
	if d <= 0 {
		return 100
	}
	return min(n*100/d, 100)
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

func evalCPD(p *Policy, a *Advocate, now time.Time) Requirement {
	r := Requirement{Key: ReqCPD}
	rule, ok := p.CPD[a.Profession]
	if !ok {
		r.State, r.Reason = Missing, "No profession recorded, so no CPD rule applies"
		return r
	}
	cur := Progress(rule, a.CPD, now)
	if rule.Rule == RuleHoursRolling {
		// A rolling rule is judged on the last months; someone contracted
		// more recently has until the first full window ends.
		switch {
		case cur.Satisfied:
			// Met today; due on the last day it stays met if nothing more
			// is recorded, when the entries that make it up leave the
			// window.
			due := rollingLapse(rule, a.CPD, now)
			r.Due = ptr(due)
			r.State = byDate(now, due, p.DueSoon())
			r.Reason = cur.Summary + " in the last " + fmt.Sprint(rule.Months) + " months"
			if r.State == DueSoon {
				r.Reason += "; falls short after " + fmtDate(due) + " unless more is recorded"
			}
		case a.ContractStart != nil && addMonths(*a.ContractStart, rule.Months).After(day(now)):
			first := addMonths(*a.ContractStart, rule.Months)
			r.Due = ptr(first)
			r.State = byDate(now, first, p.DueSoon())
			r.Reason = cur.Summary + " so far; due by " + fmtDate(first)
		default:
			r.State, r.Reason = Overdue, cur.Summary+" in the last "+fmt.Sprint(rule.Months)+" months"
			r.Due = ptr(rollingOverdueSince(rule, a, now))
		}
		return r
	}
	due := addDays(cur.Period.End, -1)
	r.Due = ptr(due)
	if cur.Satisfied {
		r.State, r.Reason = Met, cur.Summary+" for "+cur.Period.Label()
		return r
	}
	// The previous period must have been met, if the advocate was
	// contracted for the whole of it.
	prev := Progress(rule, a.CPD, addDays(cur.Period.Start, -1))
	prevApplies := a.ContractStart == nil || !day(*a.ContractStart).After(prev.Period.Start)
	if prevApplies && !prev.Satisfied {
		r.State, r.Due = Overdue, ptr(addDays(prev.Period.End, -1))
		r.Reason = "Not met for " + prev.Period.Label() + ": " + prev.Summary
		return r
	}
	r.State = byDate(now, due, p.DueSoon())
	if r.State == Met {
		r.Reason = "On track: " + cur.Summary + " so far; due by " + fmtDate(due)
	} else {
		r.Reason = cur.Summary + "; due by " + fmtDate(due)
	}
	return r
}
