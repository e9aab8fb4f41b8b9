// Package courses defines the course package format: a course folder with
// course.yaml, numbered Markdown lessons and assessment.yaml. It parses and
// validates packages (problems carry file:line), measures lesson prose, draws
// assessment papers and grades answers. It depends on nothing of the app:
// only the standard library, YAML and Markdown.
//
// Layout of one course:
//
//	<slug>/course.yaml        metadata, outcomes, references, principles
//	<slug>/01-<name>.md       lessons, numbered from 01 without gaps, with front matter
//	<slug>/assessment.yaml    pass mark, paper size, attempts and the question bank
package courses

import (
	"fmt"
	"time"
)

// Audiences a course may be for.
var Audiences = []string{"mental-health-support-worker", "domestic-abuse-worker", "advocate"}

// AudienceLabel returns the display name of an audience.
func AudienceLabel(a string) string {
	switch a {
	case "mental-health-support-worker":
		return "Mental health support workers"
	case "domestic-abuse-worker":
		return "Domestic abuse workers"
	case "advocate":
		return "Advocates"
	}
	return a
}

// Levels of a course.
var Levels = []string{"introductory", "intermediate", "advanced"}

// Principles are the seven principles of the organisation's standards,
// numbered as in course.yaml's principles list.
var Principles = [8]string{
	1: "Respect for the rights, needs, wishes, experiences and culture of parents, carers and families",
	2: "Working in partnership with families",
	3: "Confidentiality policy and agreement which addresses safeguarding",
	4: "Independence from statutory service providers",
	5: "Enabling equal access to advocacy services",
	6: "A clear remit and accountability within the organisation",
	7: "Promoting quality professional advocacy services",
}

// Course is one parsed course package.
type Course struct {
	Slug              string
	Title             string
	Summary           string
	Audiences         []string
	RecommendedForAll bool
	Level             string
	EstimatedMinutes  int
	CPDHours          float64
	Version           string // YYYY-MM-DD: when the content was last changed
	ReviewedBy        string // who checked the legal content
	ReviewedOn        string // YYYY-MM-DD: when they checked it
	ReviewDue         string // YYYY-MM-DD: next review; empty: 12 months after ReviewedOn (see ReviewDueDate)
	Owner             string // email address told when the review falls due
	ValidForMonths    int    // 0: certificates never expire
	FollowUpDays      int    // days after completion the "has it changed how you work?" follow-up is sent; 0: 90
	Principles        []int
	Outcomes          []string
	References        []Reference
	Lessons           []Lesson
	Assessment        Assessment
}

// Reference is a source the course relies on.
type Reference struct {
	Title   string `yaml:"title"`
	URL     string `yaml:"url"`
	Checked string `yaml:"checked"` // YYYY-MM-DD
}

// Lesson is one lesson file.
type Lesson struct {
	Number     int
	Name       string // file name without .md, e.g. "01-referral"; used in URLs
	Title      string
	Minutes    int
	Objectives []string
	Body       string // Markdown, without front matter
	BodyLine   int    // line of the file where Body starts
	Words      int
	Ease       float64        // Flesch reading ease of the prose
	Pending    []PendingPoint // statements waiting on commencement (markers taken out of Body)
}

// Assessment is the course's test.
type Assessment struct {
	PassMarkPercent     int
	QuestionsPerAttempt int
	MaxAttempts         int // 0: unlimited
	RetryAfterHours     int
	Questions           []Question
}

// Question types.
const (
	Single    = "single"
	Multiple  = "multiple"
	TrueFalse = "true_false"
)

// Question is one item of the bank.
type Question struct {
	ID          string
	Lesson      string // the lesson it tests (file name without .md)
	Type        string
	Prompt      string
	Options     []Option
	Explanation string
	Line        int // line in assessment.yaml
}

// Option is one answer choice.
type Option struct {
	Text    string `yaml:"text"`
	Correct bool   `yaml:"correct"`
}

// Problem is something wrong (or, when Warning, worth a look) in a package.
type Problem struct {
	File    string
	Line    int
	Message string
	Warning bool
}

// String formats a problem as file:line: message.
func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, kind, p.Message)
}

// Errors returns only the problems that are not warnings.
func Errors(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Lesson returns the lesson with the given name.
func (c *Course) Lesson(name string) (*Lesson, int, bool) {
	for i := range c.Lessons {
		if c.Lessons[i].Name == name {
			return &c.Lessons[i], i, true
		}
	}
	return nil, -1, false
}

// Question returns the bank question with the given ID.
func (a *Assessment) Question(id string) (*Question, bool) {
	for i := range a.Questions {
		if a.Questions[i].ID == id {
			return &a.Questions[i], true
		}
	}
	return nil, false
}

// ForAudience reports whether the course is for audience a ("" matches all).
func (c *Course) ForAudience(a string) bool {
	if a == "" || c.RecommendedForAll {
		return true
	}
	for _, x := range c.Audiences {
		if x == a {
			return true
		}
	}
	return false
}

// VersionDate parses the course version.
func (c *Course) VersionDate() time.Time {
	t, _ := time.Parse(time.DateOnly, c.Version)
	return t
}
