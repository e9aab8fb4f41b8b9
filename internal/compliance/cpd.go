package compliance

import (
	"fmt"
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
	t = t.In(London)
	start := time.Date(t.Year(), md.Month(), md.Day(), 0, 0, 0, 0, London)
	if day(t).Before(start) {
		start = start.AddDate(-1, 0, 0)
	}
	return Period{Start: start, End: start.AddDate(1, 0, 0)}
}

// Label names a period like "1 December 2025 – 30 November 2026".
func (p Period) Label() string {
	return fmtDate(p.Start) + " – " + fmtDate(p.End.AddDate(0, 0, -1))
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
		end := day(at).AddDate(0, 0, 1)
		pr.Period = Period{Start: end.AddDate(0, -rule.Months, 0), End: end}
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
// after the last day whose window was satisfied, or the end of the first
// window if none was. A stable date, so a reminder about it goes once.
// What a window holds changes only when an entry enters or leaves it, so
// only the days around those are tried, latest first.
func rollingOverdueSince(rule CPDRule, a *Advocate, now time.Time) time.Time {
	today := day(now)
	floor := today.AddDate(0, -rule.Months, 0)
	if a.ContractStart != nil {
		if first := addMonths(*a.ContractStart, rule.Months); first.After(floor) {
			floor = first
		}
	}
	var candidates []time.Time
	for _, e := range a.CPD {
		leaves := addMonths(day(e.Date), rule.Months)
		for _, t := range []time.Time{leaves, leaves.AddDate(0, 0, -1), leaves.AddDate(0, 0, -2), day(e.Date)} {
			if t.Before(today) && t.After(floor) {
				candidates = append(candidates, t)
			}
		}
	}
	slices.SortFunc(candidates, func(x, y time.Time) int { return y.Compare(x) })
	for _, t := range slices.Compact(candidates) {
		if Progress(rule, a.CPD, t).Satisfied {
			return t.AddDate(0, 0, 1)
		}
	}
	return floor
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
		due := cur.Period.End.AddDate(0, 0, -1)
		r.Due = ptr(due)
		switch {
		case cur.Satisfied:
			r.State, r.Reason = Met, cur.Summary+" in the last "+fmt.Sprint(rule.Months)+" months"
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
	due := cur.Period.End.AddDate(0, 0, -1)
	r.Due = ptr(due)
	if cur.Satisfied {
		r.State, r.Reason = Met, cur.Summary+" for "+cur.Period.Label()
		return r
	}
	// The previous period must have been met, if the advocate was
	// contracted for the whole of it.
	prev := Progress(rule, a.CPD, cur.Period.Start.AddDate(0, 0, -1))
	prevApplies := a.ContractStart == nil || !day(*a.ContractStart).After(prev.Period.Start)
	if prevApplies && !prev.Satisfied {
		r.State, r.Due = Overdue, ptr(prev.Period.End.AddDate(0, 0, -1))
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
