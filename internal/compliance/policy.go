// Package compliance tracks the professional advocates the organisation
// contracts against its published standards: DBS checks, references, CPD,
// supervision and mandatory training. Evaluate is a pure function from an
// advocate's records, the policy and a date to a status per requirement.
package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Professions an advocate may have; each has its own CPD rule.
const (
	SocialWorker  = "social-worker"
	Solicitor     = "solicitor"
	OtherAdvocate = "other-advocate"
)

// Professions lists the professions with their labels and regulators.
var Professions = []struct{ Value, Label, Body string }{
	{SocialWorker, "Social worker", "Social Work England"},
	{Solicitor, "Solicitor", "Solicitors Regulation Authority"},
	{OtherAdvocate, "Other advocate", ""},
}

// CPD rule kinds.
const (
	RulePiecesPerYear      = "pieces-per-year"
	RuleDeclarationPerYear = "declaration-per-year"
	RuleHoursRolling       = "hours-rolling"
)

// Policy is the organisation's compliance policy.
type Policy struct {
	DueSoonDays int `yaml:"due_soon_days"`
	DBS         struct {
		Level                    string   `yaml:"level"`
		BarredLists              []string `yaml:"barred_lists"`
		Workforce                string   `yaml:"workforce"`
		RecheckMonths            int      `yaml:"recheck_months"`
		UpdateServiceCheckMonths int      `yaml:"update_service_check_months"`
		// AutomaticCheckDays is how often the app itself checks a
		// consenting advocate's certificate on the Update Service (when
		// LMS_DBS_UPDATE_URL is set): 1 to 365 days, 30 when not given.
		AutomaticCheckDays int `yaml:"automatic_check_days"`
	} `yaml:"dbs"`
	References struct {
		Required int `yaml:"required"`
	} `yaml:"references"`
	CPD         map[string]CPDRule `yaml:"cpd"`
	Supervision struct {
		EveryWeeks  int `yaml:"every_weeks"`
		DueSoonDays int `yaml:"due_soon_days"`
	} `yaml:"supervision"`
	MandatoryCourses []MandatoryCourse `yaml:"mandatory_courses"`
}

// CPDRule is the CPD requirement of one profession.
type CPDRule struct {
	Rule              string  `yaml:"rule"`
	YearStarts        string  `yaml:"year_starts"` // MM-DD
	Pieces            int     `yaml:"pieces"`
	PeerReflection    int     `yaml:"peer_reflection"`
	Months            int     `yaml:"months"`
	Hours             float64 `yaml:"hours"`
	ReflectiveEntries int     `yaml:"reflective_entries"`
}

// MandatoryCourse is a course every advocate must have completed, and how
// often they must complete it again.
type MandatoryCourse struct {
	Course          string `yaml:"course"`
	RecertifyMonths int    `yaml:"recertify_months"`
}

// AutoCheckDays is how many days apart the app's own status checks are.
func (p *Policy) AutoCheckDays() int {
	if p.DBS.AutomaticCheckDays == 0 {
		return 30
	}
	return p.DBS.AutomaticCheckDays
}

// DueSoon returns the general "due soon" window.
func (p *Policy) DueSoon() int { return p.DueSoonDays }

// ParsePolicy reads and checks a policy; courseExists says whether a slug
// names a course of the catalogue.
func ParsePolicy(data []byte, courseExists func(string) bool) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("compliance policy: %w", err)
	}
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if p.DueSoonDays < 1 || p.DueSoonDays > 365 {
		add("due_soon_days must be between 1 and 365")
	}
	if !slices.Contains([]string{"basic", "standard", "enhanced"}, p.DBS.Level) {
		add("dbs.level must be basic, standard or enhanced")
	}
	for _, l := range p.DBS.BarredLists {
		if l != "children" && l != "adults" {
			add("dbs.barred_lists: %q is not children or adults", l)
		}
	}
	if !slices.Contains(Workforces, p.DBS.Workforce) {
		add("dbs.workforce must be one of %s", strings.Join(Workforces, ", "))
	}
	if p.DBS.RecheckMonths < 1 {
		add("dbs.recheck_months must be at least 1")
	}
	if p.DBS.UpdateServiceCheckMonths < 1 {
		add("dbs.update_service_check_months must be at least 1")
	}
	if p.DBS.AutomaticCheckDays < 0 || p.DBS.AutomaticCheckDays > 365 {
		add("dbs.automatic_check_days must be between 1 and 365 (at least once a year)")
	}
	if p.References.Required < 0 {
		add("references.required cannot be negative")
	}
	for _, prof := range Professions {
		r, ok := p.CPD[prof.Value]
		if !ok {
			add("cpd: no rule for %s", prof.Value)
			continue
		}
		switch r.Rule {
		case RulePiecesPerYear, RuleDeclarationPerYear:
			if _, err := time.Parse("01-02", r.YearStarts); err != nil {
				add("cpd.%s.year_starts must be MM-DD", prof.Value)
			}
			if r.Rule == RulePiecesPerYear && r.Pieces < 1 {
				add("cpd.%s.pieces must be at least 1", prof.Value)
			}
		case RuleHoursRolling:
			if r.Months < 1 || r.Hours <= 0 {
				add("cpd.%s needs months and hours", prof.Value)
			}
		default:
			add("cpd.%s.rule must be %s, %s or %s", prof.Value, RulePiecesPerYear, RuleDeclarationPerYear, RuleHoursRolling)
		}
	}
	for k := range p.CPD {
		if !slices.ContainsFunc(Professions, func(x struct{ Value, Label, Body string }) bool { return x.Value == k }) {
			add("cpd: unknown profession %q", k)
		}
	}
	if p.Supervision.EveryWeeks < 1 {
		add("supervision.every_weeks must be at least 1")
	}
	if p.Supervision.DueSoonDays < 0 {
		add("supervision.due_soon_days cannot be negative")
	}
	for _, m := range p.MandatoryCourses {
		if !courseExists(m.Course) {
			add("mandatory_courses: no course %q in the catalogue", m.Course)
		}
		if m.RecertifyMonths < 0 {
			add("mandatory_courses: %s: recertify_months cannot be negative", m.Course)
		}
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("compliance policy: %s", strings.Join(probs, "; "))
	}
	return &p, nil
}

// Rule returns the CPD rule of a profession.
func (p *Policy) Rule(profession string) CPDRule { return p.CPD[profession] }

// CoursesFor lists the courses an advocate must complete: every mandatory
// course of the policy, then those their manager added, without repeats.
func (p *Policy) CoursesFor(a *Advocate) []string {
	var out []string
	for _, m := range p.MandatoryCourses {
		out = append(out, m.Course)
	}
	for _, c := range a.MandatoryCourses {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Requires reports whether the policy makes a course mandatory for every advocate.
func (p *Policy) Requires(course string) bool {
	if p == nil {
		return false
	}
	return slices.ContainsFunc(p.MandatoryCourses, func(m MandatoryCourse) bool { return m.Course == course })
}
