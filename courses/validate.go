package courses

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Lesson length and readability limits (warnings only).
const (
	MinLessonWords = 600
	MaxLessonWords = 1500
	MinReadingEase = 50
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func checkReference(file string, line int, r Reference) []Problem {
	var probs []Problem
	if strings.TrimSpace(r.Title) == "" {
		probs = append(probs, Problem{File: file, Line: line, Message: "reference needs a title"})
	}
	if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		probs = append(probs, Problem{File: file, Line: line, Message: fmt.Sprintf("reference %q needs a full http(s) url", r.Title)})
	}
	if _, err := time.Parse(time.DateOnly, r.Checked); err != nil {
		probs = append(probs, Problem{File: file, Line: line, Message: fmt.Sprintf("reference %q needs the date it was checked (checked: YYYY-MM-DD)", r.Title)})
	}
	return probs
}

func checkCourseFields(file string, vals map[string]*yaml.Node, c *Course) []Problem {
	var probs []Problem
	add := func(key, msg string) {
		probs = append(probs, Problem{File: file, Line: lineOf(vals, key, 1), Message: msg})
	}
	if _, ok := vals["slug"]; ok && !slugRE.MatchString(c.Slug) {
		add("slug", "slug must be lowercase letters, digits and hyphens")
	}
	if _, ok := vals["title"]; ok && strings.TrimSpace(c.Title) == "" {
		add("title", "title is empty")
	}
	if _, ok := vals["summary"]; ok && strings.TrimSpace(c.Summary) == "" {
		add("summary", "summary is empty")
	}
	if _, ok := vals["audiences"]; ok && len(c.Audiences) == 0 {
		add("audiences", "audiences is empty")
	}
	for _, a := range c.Audiences {
		if !slices.Contains(Audiences, a) {
			add("audiences", fmt.Sprintf("unknown audience %q (want one of %s)", a, strings.Join(Audiences, ", ")))
		}
	}
	if _, ok := vals["level"]; ok && !slices.Contains(Levels, c.Level) {
		add("level", fmt.Sprintf("level %q: want one of %s", c.Level, strings.Join(Levels, ", ")))
	}
	if _, ok := vals["estimated_minutes"]; ok && c.EstimatedMinutes <= 0 {
		add("estimated_minutes", "estimated_minutes must be positive")
	}
	if c.CPDHours < 0 || c.CPDHours > 100 {
		add("cpd_hours", "cpd_hours must be between 0 and 100")
	}
	if _, ok := vals["version"]; ok {
		if _, err := time.Parse(time.DateOnly, c.Version); err != nil {
			add("version", "version must be a date, YYYY-MM-DD")
		}
	}
	if c.ValidForMonths < 0 || c.ValidForMonths > 120 {
		add("valid_for_months", "valid_for_months must be between 0 (no expiry) and 120")
	}
	if c.FollowUpDays < 0 || c.FollowUpDays > 730 {
		add("follow_up_days", "follow_up_days must be between 1 and 730 (or left out: 90 days after completion)")
	}
	if _, ok := vals["principles"]; ok && len(c.Principles) == 0 {
		add("principles", "name at least one of the seven principles (1-7) the course serves")
	}
	for _, p := range c.Principles {
		if p < 1 || p > 7 {
			add("principles", fmt.Sprintf("principle %d does not exist (1-7)", p))
		}
	}
	if _, ok := vals["outcomes"]; ok && len(c.Outcomes) == 0 {
		add("outcomes", "outcomes is empty")
	}
	if _, ok := vals["references"]; ok && len(c.References) == 0 {
		add("references", "missing references: list the sources the course relies on")
	}
	return probs
}

// linkRE finds Markdown link targets.
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// validate checks what spans files: lesson numbering and links, and the
// assessment against the lessons.
func validate(dir string, c *Course) []Problem {
	var probs []Problem
	courseFile := path.Join(dir, "course.yaml")
	assessFile := path.Join(dir, "assessment.yaml")
	if len(c.Lessons) == 0 {
		probs = append(probs, Problem{File: courseFile, Line: 1, Message: "course has no lessons (01-<name>.md files)"})
	}
	names := map[string]bool{}
	for i, l := range c.Lessons {
		file := path.Join(dir, l.Name+".md")
		names[l.Name] = true
		if want := i + 1; l.Number != want {
			probs = append(probs, Problem{File: file, Line: 1, Message: fmt.Sprintf("lesson numbering has a gap or repeat: expected %02d here", want)})
		}
		if l.Words < MinLessonWords || l.Words > MaxLessonWords {
			probs = append(probs, Problem{File: file, Line: l.BodyLine, Message: fmt.Sprintf("lesson has %d words (aim for %d-%d)", l.Words, MinLessonWords, MaxLessonWords), Warning: true})
		}
		if l.Words > 0 && l.Ease < MinReadingEase {
			probs = append(probs, Problem{File: file, Line: l.BodyLine, Message: fmt.Sprintf("reading ease %.0f is below %d: use shorter sentences and plainer words", l.Ease, MinReadingEase), Warning: true})
		}
	}
	for _, l := range c.Lessons {
		file := path.Join(dir, l.Name+".md")
		for n, line := range strings.Split(l.Body, "\n") {
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if u, err := url.Parse(target); err == nil && (u.Scheme != "" || strings.HasPrefix(target, "/") || strings.HasPrefix(target, "#")) {
					continue
				}
				name := strings.TrimSuffix(strings.SplitN(target, "#", 2)[0], ".md")
				if !names[name] {
					probs = append(probs, Problem{File: file, Line: l.BodyLine + n, Message: fmt.Sprintf("link to a lesson that does not exist: %s", target)})
				}
			}
		}
	}

	a := &c.Assessment
	if a.PassMarkPercent < 1 || a.PassMarkPercent > 100 {
		probs = append(probs, Problem{File: assessFile, Line: 1, Message: "pass_mark_percent must be between 1 and 100"})
	}
	if a.QuestionsPerAttempt < 1 {
		probs = append(probs, Problem{File: assessFile, Line: 1, Message: "questions_per_attempt must be at least 1"})
	} else if a.QuestionsPerAttempt > len(a.Questions) {
		probs = append(probs, Problem{File: assessFile, Line: 1, Message: fmt.Sprintf("questions_per_attempt (%d) is more than the %d questions in the bank", a.QuestionsPerAttempt, len(a.Questions))})
	}
	if a.MaxAttempts < 0 {
		probs = append(probs, Problem{File: assessFile, Line: 1, Message: "max_attempts must be 0 (unlimited) or more"})
	}
	if a.RetryAfterHours < 0 {
		probs = append(probs, Problem{File: assessFile, Line: 1, Message: "retry_after_hours must be 0 or more"})
	}
	seen := map[string]int{}
	for _, q := range a.Questions {
		at := func(msg string, args ...any) {
			probs = append(probs, Problem{File: assessFile, Line: q.Line, Message: fmt.Sprintf("question %s: ", q.ID) + fmt.Sprintf(msg, args...)})
		}
		if q.ID == "" {
			probs = append(probs, Problem{File: assessFile, Line: q.Line, Message: "question has no id"})
		} else if first, dup := seen[q.ID]; dup {
			at("duplicate id (first used on line %d)", first)
		} else {
			seen[q.ID] = q.Line
		}
		if !names[q.Lesson] {
			at("lesson %q does not exist", q.Lesson)
		}
		if strings.TrimSpace(q.Prompt) == "" {
			at("no prompt")
		}
		if strings.TrimSpace(q.Explanation) == "" {
			at("no explanation")
		}
		correct := 0
		for _, o := range q.Options {
			if strings.TrimSpace(o.Text) == "" {
				at("an option has no text")
			}
			if o.Correct {
				correct++
			}
		}
		if len(q.Options) < 2 {
			at("needs at least two options")
		}
		switch q.Type {
		case Single:
			if correct == 0 {
				at("no correct option")
			} else if correct > 1 {
				at("single-choice question with %d correct options (use type: multiple)", correct)
			}
		case Multiple:
			if correct == 0 {
				at("no correct option")
			}
		case TrueFalse:
			if len(q.Options) != 2 || q.Options[0].Text != "True" || q.Options[1].Text != "False" {
				at("true_false options must be exactly \"True\" then \"False\"")
			} else if correct != 1 {
				at("true_false question needs exactly one correct option")
			}
		default:
			at("type %q: want single, multiple or true_false", q.Type)
		}
	}
	return probs
}
