package impact

import (
	"slices"
	"strconv"
	"strings"
)

// Tally is the sums a report needs of one shard document's rows, per
// organisation, kept beside the rows and changed with them: a write takes
// the old row's part out and puts the new row's in, so a report reads the
// tallies of months × Shards documents and never decodes a row. It does
// not depend on the course's content (lessons and questions are counted
// by number and chosen options), so a new version of the course reads the
// same tallies.
type Tally struct {
	Orgs map[string]*Sums `bson:"o"` // by organisation ("" for none)
}

// Sums are one organisation's counts in a shard document.
type Sums struct {
	Enrolled  int `bson:"n"`
	Attempted int `bson:"at,omitempty"`
	Passed    int `bson:"p,omitempty"`
	Before    int `bson:"b,omitempty"`
	After     int `bson:"a,omitempty"`
	Sent      int `bson:"s,omitempty"`
	Followed  int `bson:"f,omitempty"`

	Helpful     int `bson:"h,omitempty"`
	HelpfulN    int `bson:"hn,omitempty"`
	Relevant    int `bson:"r,omitempty"`
	RelevantN   int `bson:"rn,omitempty"`
	Recommend   int `bson:"rc,omitempty"`
	RecommendN  int `bson:"rcn,omitempty"`
	ChangedYes  int `bson:"cy,omitempty"`
	ChangedSome int `bson:"cs,omitempty"`
	ChangedN    int `bson:"cn,omitempty"`
	Family      int `bson:"fa,omitempty"`
	FamilyN     int `bson:"fan,omitempty"`

	// Outcomes sums the ratings of those who rated an outcome before and
	// after: [before, after, n] per outcome.
	Outcomes [][3]int `bson:"oc,omitempty"`
	// Stopped counts, of those who have not passed, how many lessons they
	// completed.
	Stopped   map[string]int `bson:"st,omitempty"`
	NotPassed int            `bson:"np,omitempty"`
	// Answers counts the first attempts' chosen options per question:
	// question ID → "0,2" → how many chose exactly those.
	Answers map[string]map[string]int `bson:"q,omitempty"`
	// Comments are the free-text answers (sealed), by "<pseudonym>|<kind>".
	Comments map[string]TallyComment `bson:"c,omitempty"`
}

// TallyComment is one sealed comment as a tally keeps it.
type TallyComment struct {
	Sealed    string `bson:"t"`
	Published bool   `bson:"p,omitempty"`
}

// Add puts a row's part into the tally (sign 1) or takes it out (sign -1).
func (t *Tally) Add(pid string, r *Row, sign int) {
	if r == nil {
		return
	}
	if t.Orgs == nil {
		t.Orgs = map[string]*Sums{}
	}
	s := t.Orgs[r.Org]
	if s == nil {
		s = &Sums{}
		t.Orgs[r.Org] = s
	}
	s.add(pid, r, sign)
	if s.Enrolled == 0 {
		delete(t.Orgs, r.Org)
	}
}

func bump(m map[string]int, k string, by int) {
	if m[k] += by; m[k] == 0 {
		delete(m, k)
	}
}

func (s *Sums) add(pid string, r *Row, sign int) {
	s.Enrolled += sign
	if r.Attempts > 0 || r.Passed != nil {
		s.Attempted += sign
	}
	if r.Passed != nil {
		s.Passed += sign
	} else {
		s.NotPassed += sign
		if s.Stopped == nil {
			s.Stopped = map[string]int{}
		}
		bump(s.Stopped, strconv.Itoa(r.Lessons), sign)
	}
	if r.Before != nil && !r.Before.Skipped {
		s.Before += sign
	}
	if a := r.After; a != nil && !a.Skipped {
		s.After += sign
		if a.Helpful > 0 {
			s.HelpfulN += sign
			if a.Helpful >= 4 {
				s.Helpful += sign
			}
		}
		if a.Relevant > 0 {
			s.RelevantN += sign
			if a.Relevant >= 4 {
				s.Relevant += sign
			}
		}
		if a.Recommend != "" {
			s.RecommendN += sign
			if a.Recommend == "yes" {
				s.Recommend += sign
			}
		}
		if b := r.Before; b != nil && !b.Skipped {
			for i := 0; i < len(b.Confidence) && i < len(a.Confidence); i++ {
				if b.Confidence[i] > 0 && a.Confidence[i] > 0 {
					for len(s.Outcomes) <= i {
						s.Outcomes = append(s.Outcomes, [3]int{})
					}
					s.Outcomes[i][0] += sign * b.Confidence[i]
					s.Outcomes[i][1] += sign * a.Confidence[i]
					s.Outcomes[i][2] += sign
				}
			}
		}
		if a.Different != "" {
			s.comment(pid, "different", a.Different, r.Publish, sign)
		}
	}
	if r.FollowUpSent != nil {
		s.Sent += sign
	}
	if f := r.FollowUp; f != nil && !f.Skipped {
		s.Followed += sign
		if f.Changed != "" {
			s.ChangedN += sign
			switch f.Changed {
			case "yes":
				s.ChangedYes += sign
			case "somewhat":
				s.ChangedSome += sign
			}
		}
		if f.Family != "" {
			s.FamilyN += sign
			if f.Family == "yes" {
				s.Family += sign
			}
		}
		if f.Example != "" {
			s.comment(pid, "example", f.Example, r.Publish, sign)
		}
	}
	if r.First != nil {
		if s.Answers == nil {
			s.Answers = map[string]map[string]int{}
		}
		for id, chosen := range r.First.Answers {
			if s.Answers[id] == nil {
				s.Answers[id] = map[string]int{}
			}
			bump(s.Answers[id], chosenKey(chosen), sign)
			if len(s.Answers[id]) == 0 {
				delete(s.Answers, id)
			}
		}
	}
}

func (s *Sums) comment(pid, kind, sealed string, publish []string, sign int) {
	k := pid + "|" + kind
	if sign < 0 {
		delete(s.Comments, k)
		return
	}
	if s.Comments == nil {
		s.Comments = map[string]TallyComment{}
	}
	s.Comments[k] = TallyComment{Sealed: sealed, Published: slices.Contains(publish, kind)}
}

// chosenKey is a set of chosen options as a tally keeps it: "0,2".
func chosenKey(chosen []int) string {
	c := slices.Clone(chosen)
	slices.Sort(c)
	parts := make([]string, len(c))
	for i, o := range c {
		parts[i] = strconv.Itoa(o)
	}
	return strings.Join(parts, ",")
}

// chosenOf reads a chosenKey back.
func chosenOf(key string) []int {
	if key == "" {
		return nil
	}
	var out []int
	for _, p := range strings.Split(key, ",") {
		n, err := strconv.Atoi(p)
		if err == nil {
			out = append(out, n)
		}
	}
	return out
}

// TallyOf is the tally of a shard document's rows.
func TallyOf(rows map[string]Row) *Tally {
	t := &Tally{}
	for pid, r := range rows {
		t.Add(pid, &r, 1)
	}
	return t
}
