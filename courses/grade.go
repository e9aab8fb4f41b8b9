package courses

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// PaperItem is one drawn question with its options in display order
// (indexes into the bank question's Options).
type PaperItem struct {
	QuestionID string `bson:"question_id" json:"question_id"`
	Order      []int  `bson:"order" json:"order"`
}

// PaperFits reports whether a drawn paper can still be graded against the
// bank: every question on it is still there with as many options. A paper
// drawn before a new version of the course removed or changed a question
// does not fit.
func PaperFits(a *Assessment, paper []PaperItem) bool {
	for _, it := range paper {
		q, ok := a.Question(it.QuestionID)
		if !ok || len(q.Options) != len(it.Order) {
			return false
		}
	}
	return true
}

// Draw picks QuestionsPerAttempt questions from the bank at random and
// shuffles each one's options (true/false keeps True before False).
func Draw(a *Assessment, rng *rand.Rand) []PaperItem {
	idx := rng.Perm(len(a.Questions))
	n := min(a.QuestionsPerAttempt, len(idx))
	paper := make([]PaperItem, 0, n)
	for _, i := range idx[:n] {
		q := &a.Questions[i]
		order := make([]int, len(q.Options))
		for j := range order {
			order[j] = j
		}
		if q.Type != TrueFalse {
			rng.Shuffle(len(order), func(x, y int) { order[x], order[y] = order[y], order[x] })
		}
		paper = append(paper, PaperItem{QuestionID: q.ID, Order: order})
	}
	return paper
}

// Answers maps a question ID to the chosen option indexes (into the bank
// question's Options).
type Answers map[string][]int

// WrongAnswer is a question answered wrongly, with what to revisit.
type WrongAnswer struct {
	QuestionID  string `bson:"question_id"`
	Prompt      string `bson:"prompt"`
	Explanation string `bson:"explanation"`
	Lesson      string `bson:"lesson"`
}

// Result is the outcome of grading one paper.
type Result struct {
	Correct int           `bson:"correct"`
	Total   int           `bson:"total"`
	Percent int           `bson:"percent"`
	Passed  bool          `bson:"passed"`
	Wrong   []WrongAnswer `bson:"wrong"`
}

// AnswerError says answers do not fit the paper (a tampered form).
type AnswerError struct{ Msg string }

func (e *AnswerError) Error() string { return e.Msg }

// Grade scores answers against a paper. A question is right only when the
// chosen options are exactly the correct ones; an unanswered question is
// wrong. Answers to questions not on the paper, or to options that do not
// exist, are an *AnswerError. Grade is a pure function.
func Grade(a *Assessment, paper []PaperItem, answers Answers) (Result, error) {
	onPaper := map[string]bool{}
	for _, it := range paper {
		onPaper[it.QuestionID] = true
	}
	for id := range answers {
		if !onPaper[id] {
			return Result{}, &AnswerError{Msg: fmt.Sprintf("answer to question %q, which is not on this paper", id)}
		}
	}
	r := Result{Total: len(paper)}
	for _, it := range paper {
		q, ok := a.Question(it.QuestionID)
		if !ok {
			return Result{}, fmt.Errorf("courses: paper names question %q, not in the bank", it.QuestionID)
		}
		chosen := slices.Clone(answers[it.QuestionID])
		slices.Sort(chosen)
		chosen = slices.Compact(chosen)
		for _, c := range chosen {
			if c < 0 || c >= len(q.Options) {
				return Result{}, &AnswerError{Msg: fmt.Sprintf("question %q has no option %d", q.ID, c)}
			}
		}
		if q.Type != Multiple && len(chosen) > 1 {
			return Result{}, &AnswerError{Msg: fmt.Sprintf("question %q takes one answer", q.ID)}
		}
		var want []int
		for i, o := range q.Options {
			if o.Correct {
				want = append(want, i)
			}
		}
		if slices.Equal(chosen, want) {
			r.Correct++
		} else {
			r.Wrong = append(r.Wrong, WrongAnswer{QuestionID: q.ID, Prompt: q.Prompt, Explanation: q.Explanation, Lesson: q.Lesson})
		}
	}
	if r.Total > 0 {
		r.Percent = r.Correct * 100 / r.Total
	}
	r.Passed = r.Total > 0 && r.Correct*100 >= a.PassMarkPercent*r.Total
	return r, nil
}
