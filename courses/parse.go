package courses

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadAll loads every course folder directly under root in fsys. Problems
// name files as root/<slug>/<file>.
func LoadAll(fsys fs.FS, root string) ([]*Course, []Problem) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, []Problem{{File: root, Line: 0, Message: err.Error()}}
	}
	var out []*Course
	var probs []Problem
	slugs := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, ps := Load(fsys, path.Join(root, e.Name()))
		probs = append(probs, ps...)
		if c != nil && len(Errors(ps)) == 0 {
			if slugs[c.Slug] {
				probs = append(probs, Problem{File: path.Join(root, e.Name(), "course.yaml"), Line: 1, Message: "duplicate slug " + c.Slug})
				continue
			}
			slugs[c.Slug] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 && len(probs) == 0 {
		probs = append(probs, Problem{File: root, Message: "no courses found"})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RecommendedForAll != out[j].RecommendedForAll {
			return out[i].RecommendedForAll
		}
		return out[i].Title < out[j].Title
	})
	return out, probs
}

// Load parses and validates the course in folder dir of fsys. The course is
// returned even when it has problems, as far as it could be read.
func Load(fsys fs.FS, dir string) (*Course, []Problem) {
	var probs []Problem
	c := &Course{}
	courseFile := path.Join(dir, "course.yaml")
	data, err := fs.ReadFile(fsys, courseFile)
	if err != nil {
		return nil, []Problem{{File: courseFile, Message: "missing course.yaml"}}
	}
	probs = append(probs, parseCourse(courseFile, data, c)...)
	if c.Slug != "" && c.Slug != path.Base(dir) {
		probs = append(probs, Problem{File: courseFile, Line: 1, Message: fmt.Sprintf("slug %q differs from the folder name %q", c.Slug, path.Base(dir))})
	}

	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return c, append(probs, Problem{File: dir, Message: err.Error()})
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() || name == "course.yaml" || name == "assessment.yaml":
			continue
		case strings.HasSuffix(name, ".md"):
			if !lessonFileRE.MatchString(name) {
				probs = append(probs, Problem{File: path.Join(dir, name), Line: 1, Message: "lesson file names must look like 01-some-name.md"})
				continue
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, name))
			if err != nil {
				probs = append(probs, Problem{File: path.Join(dir, name), Message: err.Error()})
				continue
			}
			l, ps := ParseLesson(path.Join(dir, name), b)
			probs = append(probs, ps...)
			c.Lessons = append(c.Lessons, l)
		default:
			probs = append(probs, Problem{File: path.Join(dir, name), Message: "unexpected file in a course folder", Warning: true})
		}
	}
	sort.Slice(c.Lessons, func(i, j int) bool { return c.Lessons[i].Name < c.Lessons[j].Name })

	assessFile := path.Join(dir, "assessment.yaml")
	if b, err := fs.ReadFile(fsys, assessFile); err != nil {
		probs = append(probs, Problem{File: assessFile, Message: "missing assessment.yaml"})
	} else {
		probs = append(probs, parseAssessment(assessFile, b, &c.Assessment)...)
	}
	probs = append(probs, validate(dir, c)...)
	sortProblems(probs)
	return c, probs
}

var lessonFileRE = regexp.MustCompile(`^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*\.md$`)

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}

// yamlDoc parses data and returns its top-level mapping node.
func yamlDoc(file string, data []byte) (*yaml.Node, []Problem) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Problem{yamlProblem(file, 1, err)}
	}
	if len(doc.Content) == 0 {
		return nil, []Problem{{File: file, Line: 1, Message: "file is empty"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []Problem{{File: file, Line: root.Line, Message: "expected a mapping of keys to values"}}
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// parserProblems are the messages of yaml.v3's parser (parserc.go), whose
// line numbers are one less than the line they mean.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected key", "did not find expected node content", "found undefined tag handle",
}

// yamlProblem turns a YAML error into problems with the line it names.
func yamlProblem(file string, def int, err error) Problem {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		// yaml.v3 reports parser (not scanner) errors with a 0-based line.
		for _, p := range parserProblems {
			if strings.HasPrefix(m[2], p) {
				n++
				break
			}
		}
		return Problem{File: file, Line: n, Message: m[2]}
	}
	return Problem{File: file, Line: def, Message: msg}
}

// checkKeys reports keys of mapping node m that are not in allowed, and
// returns the value nodes by key.
func checkKeys(file string, m *yaml.Node, allowed ...string) (map[string]*yaml.Node, []Problem) {
	vals := map[string]*yaml.Node{}
	var probs []Problem
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		ok := false
		for _, a := range allowed {
			if k.Value == a {
				ok = true
				break
			}
		}
		if !ok {
			probs = append(probs, Problem{File: file, Line: k.Line, Message: fmt.Sprintf("unknown field %q", k.Value)})
			continue
		}
		if _, dup := vals[k.Value]; dup {
			probs = append(probs, Problem{File: file, Line: k.Line, Message: fmt.Sprintf("field %q given twice", k.Value)})
		}
		vals[k.Value] = m.Content[i+1]
	}
	return vals, probs
}

// decodeField decodes the value of key into dst, reporting a problem at its line.
func decodeField(file string, vals map[string]*yaml.Node, key string, dst any) []Problem {
	n, ok := vals[key]
	if !ok {
		return nil
	}
	if err := n.Decode(dst); err != nil {
		return []Problem{yamlProblem(file, n.Line, err)}
	}
	return nil
}

func lineOf(vals map[string]*yaml.Node, key string, def int) int {
	if n, ok := vals[key]; ok {
		return n.Line
	}
	return def
}

func parseCourse(file string, data []byte, c *Course) []Problem {
	root, probs := yamlDoc(file, data)
	if root == nil {
		return probs
	}
	vals, ps := checkKeys(file, root, "slug", "title", "summary", "audiences", "recommended_for_all", "level",
		"estimated_minutes", "cpd_hours", "version", "valid_for_months", "principles", "outcomes", "references",
		"reviewed_by", "reviewed_on", "review_due", "owner", "follow_up_days")
	probs = append(probs, ps...)
	for _, key := range []string{"slug", "title", "summary", "audiences", "level", "estimated_minutes", "cpd_hours", "version", "valid_for_months", "principles", "outcomes", "references"} {
		if _, ok := vals[key]; !ok {
			probs = append(probs, Problem{File: file, Line: 1, Message: fmt.Sprintf("missing field %q", key)})
		}
	}
	probs = append(probs, decodeField(file, vals, "slug", &c.Slug)...)
	probs = append(probs, decodeField(file, vals, "title", &c.Title)...)
	probs = append(probs, decodeField(file, vals, "summary", &c.Summary)...)
	probs = append(probs, decodeField(file, vals, "audiences", &c.Audiences)...)
	probs = append(probs, decodeField(file, vals, "recommended_for_all", &c.RecommendedForAll)...)
	probs = append(probs, decodeField(file, vals, "level", &c.Level)...)
	probs = append(probs, decodeField(file, vals, "estimated_minutes", &c.EstimatedMinutes)...)
	probs = append(probs, decodeField(file, vals, "cpd_hours", &c.CPDHours)...)
	if n, ok := vals["version"]; ok {
		c.Version = n.Value // an unquoted date is a YAML timestamp; keep its text
	}
	probs = append(probs, decodeField(file, vals, "valid_for_months", &c.ValidForMonths)...)
	probs = append(probs, decodeField(file, vals, "follow_up_days", &c.FollowUpDays)...)
	probs = append(probs, decodeField(file, vals, "principles", &c.Principles)...)
	probs = append(probs, decodeField(file, vals, "outcomes", &c.Outcomes)...)
	if n, ok := vals["references"]; ok {
		if n.Kind != yaml.SequenceNode {
			probs = append(probs, Problem{File: file, Line: n.Line, Message: "references must be a list"})
		} else {
			for _, item := range n.Content {
				var r Reference
				if item.Kind != yaml.MappingNode {
					probs = append(probs, Problem{File: file, Line: item.Line, Message: "a reference needs title, url and checked"})
					continue
				}
				rv, ps := checkKeys(file, item, "title", "url", "checked")
				probs = append(probs, ps...)
				probs = append(probs, decodeField(file, rv, "title", &r.Title)...)
				probs = append(probs, decodeField(file, rv, "url", &r.URL)...)
				if cn, ok := rv["checked"]; ok {
					r.Checked = cn.Value
				}
				probs = append(probs, checkReference(file, item.Line, r)...)
				c.References = append(c.References, r)
			}
		}
	}
	probs = append(probs, parseReview(file, vals, c)...)
	probs = append(probs, checkCourseFields(file, vals, c)...)
	return probs
}

// ParseLesson parses one lesson file: front matter (title, minutes,
// objectives) between --- lines, then Markdown.
func ParseLesson(file string, data []byte) (Lesson, []Problem) {
	l := Lesson{Name: strings.TrimSuffix(path.Base(file), ".md")}
	if m := lessonFileRE.FindStringSubmatch(path.Base(file)); m != nil {
		l.Number, _ = strconv.Atoi(m[1])
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return l, []Problem{{File: file, Line: 1, Message: "lesson must start with front matter between --- lines"}}
	}
	end := bytes.Index(data[4:], []byte("\n---\n"))
	if end < 0 {
		return l, []Problem{{File: file, Line: 1, Message: "front matter is not closed with a --- line"}}
	}
	front := data[4 : 4+end]
	l.Body = string(data[4+end+5:])
	l.BodyLine = bytes.Count(data[:4+end+5], []byte("\n")) + 1

	var probs []Problem
	var doc yaml.Node
	if err := yaml.Unmarshal(front, &doc); err != nil {
		p := yamlProblem(file, 2, err)
		p.Line++ // the front matter starts on line 2
		return l, append(probs, p)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return l, []Problem{{File: file, Line: 2, Message: "front matter must be a mapping with title, minutes and objectives"}}
	}
	root := doc.Content[0]
	shift(root, 1)
	vals, ps := checkKeys(file, root, "title", "minutes", "objectives")
	probs = append(probs, ps...)
	probs = append(probs, decodeField(file, vals, "title", &l.Title)...)
	probs = append(probs, decodeField(file, vals, "minutes", &l.Minutes)...)
	probs = append(probs, decodeField(file, vals, "objectives", &l.Objectives)...)
	if strings.TrimSpace(l.Title) == "" {
		probs = append(probs, Problem{File: file, Line: lineOf(vals, "title", 2), Message: "lesson needs a title"})
	}
	if l.Minutes <= 0 {
		probs = append(probs, Problem{File: file, Line: lineOf(vals, "minutes", 2), Message: "minutes must be a positive number"})
	}
	if len(l.Objectives) == 0 {
		probs = append(probs, Problem{File: file, Line: lineOf(vals, "objectives", 2), Message: "lesson needs at least one objective"})
	}
	l.Body, l.Pending = takePending(l.Body, l.BodyLine)
	for i := range l.Pending {
		l.Pending[i].Lesson = l.Name
	}
	l.Words, l.Ease = Readability(l.Body)
	return l, probs
}

// shift adds n to the line of every node (front matter starts below line 1).
func shift(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shift(c, by)
	}
}

func parseAssessment(file string, data []byte, a *Assessment) []Problem {
	root, probs := yamlDoc(file, data)
	if root == nil {
		return probs
	}
	vals, ps := checkKeys(file, root, "pass_mark_percent", "questions_per_attempt", "max_attempts", "retry_after_hours", "questions")
	probs = append(probs, ps...)
	for _, key := range []string{"pass_mark_percent", "questions_per_attempt", "max_attempts", "retry_after_hours", "questions"} {
		if _, ok := vals[key]; !ok {
			probs = append(probs, Problem{File: file, Line: 1, Message: fmt.Sprintf("missing field %q", key)})
		}
	}
	probs = append(probs, decodeField(file, vals, "pass_mark_percent", &a.PassMarkPercent)...)
	probs = append(probs, decodeField(file, vals, "questions_per_attempt", &a.QuestionsPerAttempt)...)
	probs = append(probs, decodeField(file, vals, "max_attempts", &a.MaxAttempts)...)
	probs = append(probs, decodeField(file, vals, "retry_after_hours", &a.RetryAfterHours)...)
	qs, ok := vals["questions"]
	if !ok {
		return probs
	}
	if qs.Kind != yaml.SequenceNode {
		return append(probs, Problem{File: file, Line: qs.Line, Message: "questions must be a list"})
	}
	for _, item := range qs.Content {
		q := Question{Line: item.Line}
		if item.Kind != yaml.MappingNode {
			probs = append(probs, Problem{File: file, Line: item.Line, Message: "a question must be a mapping"})
			continue
		}
		qv, ps := checkKeys(file, item, "id", "lesson", "type", "prompt", "options", "explanation")
		probs = append(probs, ps...)
		probs = append(probs, decodeField(file, qv, "id", &q.ID)...)
		probs = append(probs, decodeField(file, qv, "lesson", &q.Lesson)...)
		probs = append(probs, decodeField(file, qv, "type", &q.Type)...)
		probs = append(probs, decodeField(file, qv, "prompt", &q.Prompt)...)
		probs = append(probs, decodeField(file, qv, "explanation", &q.Explanation)...)
		if on, ok := qv["options"]; ok && on.Kind == yaml.SequenceNode {
			for _, o := range on.Content {
				var opt Option
				if o.Kind != yaml.MappingNode {
					probs = append(probs, Problem{File: file, Line: o.Line, Message: "an option must have text (and correct: true when right)"})
					continue
				}
				ov, ps := checkKeys(file, o, "text", "correct")
				probs = append(probs, ps...)
				probs = append(probs, decodeField(file, ov, "text", &opt.Text)...)
				probs = append(probs, decodeField(file, ov, "correct", &opt.Correct)...)
				q.Options = append(q.Options, opt)
			}
		} else if ok {
			probs = append(probs, Problem{File: file, Line: on.Line, Message: "options must be a list"})
		}
		a.Questions = append(a.Questions, q)
	}
	return probs
}
