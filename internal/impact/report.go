package impact

import (
	"slices"
	"strconv"
	"strings"
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
	tallies := make(map[string]*Tally, len(docs))
	for doc, rows := range docs {
		tallies[doc] = TallyOf(rows)
	}
	return ComputeTallies(c, from, to, org, tallies, withDrafts, open)
}

// docMonth is the month of a shard document's ID ("<course>/<YYYY-MM>/<n>").
func docMonth(doc string) string {
	parts := strings.Split(doc, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

// ComputeTallies builds the report of a course from the tallies of its
// shard documents (keyed by document), as Compute does from their rows.
func ComputeTallies(c *courses.Course, from, to, org string, tallies map[string]*Tally, withDrafts bool, open func(docID, pseudonym, kind, sealed string) string) *Report {
	r := &Report{Course: c.Slug, CourseTitle: c.Title, From: from, To: to, Org: org}
	docs := make([]string, 0, len(tallies))
	for doc := range tallies {
		if m := docMonth(doc); m >= from && m <= to {
			docs = append(docs, doc)
		}
	}
	slices.Sort(docs)

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

	for _, doc := range docs {
		m := docMonth(doc)
		ms := months[m]
		if ms == nil {
			ms = &monthSums{}
			months[m] = ms
		}
		orgs := make([]string, 0, len(tallies[doc].Orgs))
		for o := range tallies[doc].Orgs {
			if org == "" || o == org {
				orgs = append(orgs, o)
			}
		}
		slices.Sort(orgs)
		for _, o := range orgs {
			t := tallies[doc].Orgs[o]
			enrolled += t.Enrolled
			attempted += t.Attempted
			passed += t.Passed
			before += t.Before
			after += t.After
			sent += t.Sent
			followed += t.Followed
			helpful, helpfulN = helpful+t.Helpful, helpfulN+t.HelpfulN
			ms.helpful, ms.helpfulN = ms.helpful+t.Helpful, ms.helpfulN+t.HelpfulN
			relevant, relevantN = relevant+t.Relevant, relevantN+t.RelevantN
			recommend, recommendN = recommend+t.Recommend, recommendN+t.RecommendN
			changedYes, changedSome, changedN = changedYes+t.ChangedYes, changedSome+t.ChangedSome, changedN+t.ChangedN
			ms.changed, ms.changedN = ms.changed+t.ChangedYes+t.ChangedSome, ms.changedN+t.ChangedN
			family, familyN = family+t.Family, familyN+t.FamilyN
			for i := range outcomes {
				if i < len(t.Outcomes) {
					o := t.Outcomes[i]
					outcomes[i].before += o[0]
					outcomes[i].after += o[1]
					outcomes[i].change += o[1] - o[0]
					outcomes[i].n += o[2]
				}
			}
			if len(c.Lessons) > 0 {
				notPassed += t.NotPassed
				for k, n := range t.Stopped {
					lessons, _ := strconv.Atoi(k)
					stopped[min(max(lessons, 0), len(c.Lessons)-1)] += n
				}
			}
			for id, sets := range t.Answers {
				q, ok := c.Assessment.Question(id)
				if !ok {
					continue
				}
				s := qs[id]
				if s == nil {
					s = &qSums{wrong: map[int]int{}}
					qs[id] = s
				}
				for key, n := range sets {
					chosen := chosenOf(key)
					s.n += n
					if right(q, chosen) {
						s.right += n
						continue
					}
					for _, opt := range chosen {
						if opt >= 0 && opt < len(q.Options) && !q.Options[opt].Correct {
							s.wrong[opt] += n
						}
					}
				}
			}
			keys := make([]string, 0, len(t.Comments))
			for k := range t.Comments {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				pid, kind, _ := strings.Cut(k, "|")
				cm := t.Comments[k]
				if !cm.Published && !withDrafts {
					continue
				}
				var publish []string
				if cm.Published {
					publish = []string{kind}
				}
				r.addComment(doc, pid, kind, open(doc, pid, kind, cm.Sealed), m, publish, withDrafts)
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
