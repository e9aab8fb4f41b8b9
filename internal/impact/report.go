package impact

import (
	"slices"
	"sort"
	"time"

	"github.com/family-advocacy/lms/courses"
)

// Figure is a share or a mean over N people. Hidden is set when N is below
// MinGroup (and N above 0): the view says "fewer than 5 responses"
// instead, and Value is zeroed so it cannot leak.
type Figure struct {
	N      int     // the people it describes
	Of     int     // for a share: out of how many (the denominator)
	Value  float64 // a share (0–100) or a mean
	Hidden bool
}

// Shown says whether the figure may be shown (N ≥ MinGroup).
func (f Figure) Shown() bool { return f.N > 0 && !f.Hidden }

func share(n, of int) Figure {
	if of == 0 {
		return Figure{}
	}
	f := Figure{N: of, Of: of, Value: 100 * float64(n) / float64(of)}
	return f.guard()
}

func mean(sum, n int) Figure {
	if n == 0 {
		return Figure{}
	}
	return Figure{N: n, Value: float64(sum) / float64(n)}.guard()
}

func (f Figure) guard() Figure {
	if f.N > 0 && f.N < MinGroup {
		return Figure{N: f.N, Of: f.Of, Hidden: true}
	}
	return f
}

// Count is a number of people, hidden below MinGroup.
type Count struct {
	N      int
	Hidden bool
}

func count(n int) Count { return Count{N: n, Hidden: n > 0 && n < MinGroup} }

// Outcome is the confidence before and after against one course outcome,
// over the learners who rated it both times.
type Outcome struct {
	Text   string
	Before Figure // mean 1–5
	After  Figure // mean 1–5
	Change Figure // mean of after − before
}

// MonthPoint is one month's shares, for the charts over time.
type MonthPoint struct {
	Month   string // YYYY-MM: enrolment month of the learners it describes
	Helpful Figure // of those answering after passing
	Changed Figure // yes or somewhat, of those answering the follow-up
}

// Comment is one learner's free text, never with who wrote it.
type Comment struct {
	Ref       string // for an admin marking it publishable: "<doc>|<pseudonym>|<kind>"
	Kind      string // "different" or "example"
	Text      string
	Month     string
	Published bool
}

// Question is how the first attempts went on one question.
type Question struct {
	ID, Prompt string
	Lesson     string
	Correct    Figure // share right at the first attempt
	// MostWrong is the wrong option chosen most often at first attempts,
	// and how many chose it (empty when none chose a wrong one).
	MostWrong      string
	MostWrongCount Count
}

// Lesson is how many learners who have not passed stopped at this lesson
// (completed the ones before it, not this one).
type Lesson struct {
	Number  int
	Title   string
	Stopped Figure // share of the period's learners who have not passed
}

// Report is a course's evaluation over a period, from the rows of learners
// who enrolled in it.
type Report struct {
	Course      string
	CourseTitle string
	From, To    string // YYYY-MM, inclusive
	Org         string // "" for every organisation
	Enrolments  Count
	Completions Count
	Attempted   Count
	PassRate    Figure // passed, of those who submitted an attempt

	BeforeRate   Figure // answered the before ratings, of enrolments
	AfterRate    Figure // answered after passing, of completions
	FollowUpRate Figure // answered the follow-up, of those sent it

	Helpful   Figure // helpful or very helpful (4–5), of those answering
	Relevant  Figure // relevant or very relevant (4–5)
	Recommend Figure // would recommend it, of those answering
	Outcomes  []Outcome

	Changed      Figure // yes or somewhat
	ChangedYes   Figure // yes
	ChangedSome  Figure // somewhat
	Family       Figure // yes: it made a difference for a family, of those answering
	FollowUpSent Count

	Months    []MonthPoint
	Comments  []Comment // published only, unless All was asked for
	Questions []Question
	Lessons   []Lesson
}

// Compute builds the report of a course from its rows (keyed by document
// and pseudonym, as read). withDrafts includes the comments not yet marked
// publishable (for the admin who marks them); open decrypts free text
// (Service.Open).
func Compute(c *courses.Course, from, to, org string, docs map[string]map[string]Row, withDrafts bool, open func(docID, pseudonym, kind, sealed string) string) *Report {
	r := &Report{Course: c.Slug, CourseTitle: c.Title, From: from, To: to, Org: org}
	type key struct{ doc, pid string }
	var keys []key
	for doc, rows := range docs {
		for pid, row := range rows {
			m := Month(row.Enrolled)
			if m < from || m > to || (org != "" && row.Org != org) {
				continue
			}
			keys = append(keys, key{doc, pid})
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].doc != keys[j].doc {
			return keys[i].doc < keys[j].doc
		}
		return keys[i].pid < keys[j].pid
	})

	var enrolled, passed, attempted, before, after, sent, followed int
	var helpful, helpfulN, relevant, relevantN, recommend, recommendN int
	var changedYes, changedSome, changedN, family, familyN int
	type sums struct{ before, after, change, n int }
	outcomes := make([]sums, len(c.Outcomes))
	type monthSums struct{ helpful, helpfulN, changed, changedN int }
	months := map[string]*monthSums{}
	stopped := make([]int, len(c.Lessons))
	notPassed := 0
	type qSums struct {
		right, n int
		wrong    map[int]int
	}
	qs := map[string]*qSums{}

	for _, k := range keys {
		row := docs[k.doc][k.pid]
		m := Month(row.Enrolled)
		ms := months[m]
		if ms == nil {
			ms = &monthSums{}
			months[m] = ms
		}
		enrolled++
		if row.Attempts > 0 || row.Passed != nil {
			attempted++
		}
		if row.Passed != nil {
			passed++
		} else if len(c.Lessons) > 0 {
			notPassed++
			stopped[min(row.Lessons, len(c.Lessons)-1)]++
		}
		if row.Before != nil && !row.Before.Skipped {
			before++
		}
		if a := row.After; a != nil && !a.Skipped {
			after++
			if a.Helpful > 0 {
				helpfulN++
				ms.helpfulN++
				if a.Helpful >= 4 {
					helpful++
					ms.helpful++
				}
			}
			if a.Relevant > 0 {
				relevantN++
				if a.Relevant >= 4 {
					relevant++
				}
			}
			if a.Recommend != "" {
				recommendN++
				if a.Recommend == "yes" {
					recommend++
				}
			}
			if b := row.Before; b != nil && !b.Skipped {
				for i := range outcomes {
					if i < len(b.Confidence) && i < len(a.Confidence) && b.Confidence[i] > 0 && a.Confidence[i] > 0 {
						outcomes[i].before += b.Confidence[i]
						outcomes[i].after += a.Confidence[i]
						outcomes[i].change += a.Confidence[i] - b.Confidence[i]
						outcomes[i].n++
					}
				}
			}
			if a.Different != "" {
				r.addComment(k.doc, k.pid, "different", open(k.doc, k.pid, "different", a.Different), m, row.Publish, withDrafts)
			}
		}
		if row.FollowUpSent != nil {
			sent++
		}
		if f := row.FollowUp; f != nil && !f.Skipped {
			followed++
			if f.Changed != "" {
				changedN++
				ms.changedN++
				switch f.Changed {
				case "yes":
					changedYes++
					ms.changed++
				case "somewhat":
					changedSome++
					ms.changed++
				}
			}
			if f.Family != "" {
				familyN++
				if f.Family == "yes" {
					family++
				}
			}
			if f.Example != "" {
				r.addComment(k.doc, k.pid, "example", open(k.doc, k.pid, "example", f.Example), m, row.Publish, withDrafts)
			}
		}
		if row.First != nil {
			for id, chosen := range row.First.Answers {
				q, ok := c.Assessment.Question(id)
				if !ok {
					continue
				}
				s := qs[id]
				if s == nil {
					s = &qSums{wrong: map[int]int{}}
					qs[id] = s
				}
				s.n++
				if right(q, chosen) {
					s.right++
					continue
				}
				for _, o := range chosen {
					if o >= 0 && o < len(q.Options) && !q.Options[o].Correct {
						s.wrong[o]++
					}
				}
			}
		}
	}

	r.Enrolments, r.Completions, r.Attempted, r.FollowUpSent = count(enrolled), count(passed), count(attempted), count(sent)
	r.PassRate = share(passed, attempted)
	r.BeforeRate = share(before, enrolled)
	r.AfterRate = share(after, passed)
	r.FollowUpRate = share(followed, sent)
	r.Helpful = share(helpful, helpfulN)
	r.Relevant = share(relevant, relevantN)
	r.Recommend = share(recommend, recommendN)
	r.Changed = share(changedYes+changedSome, changedN)
	r.ChangedYes = share(changedYes, changedN)
	r.ChangedSome = share(changedSome, changedN)
	r.Family = share(family, familyN)
	for i, text := range c.Outcomes {
		s := outcomes[i]
		r.Outcomes = append(r.Outcomes, Outcome{Text: text, Before: mean(s.before, s.n), After: mean(s.after, s.n), Change: mean(s.change, s.n)})
	}
	for _, m := range MonthsBetween(from, to) {
		p := MonthPoint{Month: m}
		if s := months[m]; s != nil {
			p.Helpful, p.Changed = share(s.helpful, s.helpfulN), share(s.changed, s.changedN)
		}
		r.Months = append(r.Months, p)
	}
	for _, q := range c.Assessment.Questions {
		s := qs[q.ID]
		if s == nil {
			continue
		}
		rq := Question{ID: q.ID, Prompt: q.Prompt, Lesson: q.Lesson, Correct: share(s.right, s.n)}
		best, bestN := -1, 0
		for o, n := range s.wrong {
			if n > bestN || n == bestN && o < best {
				best, bestN = o, n
			}
		}
		if best >= 0 && s.n >= MinGroup { // a smaller group's wrong answer would be theirs
			rq.MostWrong, rq.MostWrongCount = q.Options[best].Text, count(bestN)
		}
		r.Questions = append(r.Questions, rq)
	}
	for i, l := range c.Lessons {
		r.Lessons = append(r.Lessons, Lesson{Number: l.Number, Title: l.Title, Stopped: share(stopped[i], notPassed)})
	}
	if !r.Enrolments.Hidden && enrolled > 0 {
		return r
	}
	// Fewer than MinGroup people in all: nothing about them individually.
	r.Comments, r.Questions = nil, nil
	return r
}

func (r *Report) addComment(doc, pid, kind, text, month string, publish []string, withDrafts bool) {
	pub := slices.Contains(publish, kind)
	if text == "" || !pub && !withDrafts {
		return
	}
	r.Comments = append(r.Comments, Comment{Ref: doc + "|" + pid + "|" + kind, Kind: kind, Text: text, Month: month, Published: pub})
}

// right reports whether the chosen options are exactly the correct ones.
func right(q *courses.Question, chosen []int) bool {
	want := 0
	for _, o := range q.Options {
		if o.Correct {
			want++
		}
	}
	if len(chosen) != want {
		return false
	}
	for _, o := range chosen {
		if o < 0 || o >= len(q.Options) || !q.Options[o].Correct {
			return false
		}
	}
	return true
}

// MonthsBetween lists the months from from to to, inclusive (YYYY-MM); at
// most 36.
func MonthsBetween(from, to string) []string {
	f, err1 := time.Parse("2006-01", from)
	t, err2 := time.Parse("2006-01", to)
	if err1 != nil || err2 != nil || t.Before(f) {
		return nil
	}
	var out []string
	for m := f; !m.After(t) && len(out) < 36; m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}
