package impact

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/secrets"
)

// MaxText is the longest free-text answer kept, in characters.
const MaxText = 2000

// Service records and reports evaluations.
type Service struct {
	Store   Store
	Box     *secrets.Box // pseudonyms and sealed free text
	Courses func(slug string) (*courses.Course, error)
	Now     func() time.Time
}

// Pseudonym is a learner's name in one course's rows: a keyed hash of
// their account ID, which nothing else can make or reverse.
func (s *Service) Pseudonym(course, userID string) string {
	return s.Box.Hash("impact-pseudonym:"+course, userID)[:22]
}

// where returns the row's document and pseudonym for an enrolment.
func (s *Service) where(e *learning.Enrolment) (doc, pid string) {
	pid = s.Pseudonym(e.Course, e.UserID)
	return DocID(e.Course, e.Enrolled, pid), pid
}

// Row returns the learner's row for an enrolment (nil: none yet).
func (s *Service) Row(ctx context.Context, e *learning.Enrolment) (*Row, error) {
	doc, pid := s.where(e)
	r, err := s.Store.Evaluation(ctx, doc, pid)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, nil
	}
	return r, err
}

func (s *Service) write(ctx context.Context, e *learning.Enrolment, org string, u Update) error {
	doc, pid := s.where(e)
	u.Enrolled = e.Enrolled
	if org != "" {
		u.Org = &org
	}
	return s.Store.UpdateEvaluation(ctx, doc, pid, u)
}

// Enrolled starts a learner's row (harmless to repeat).
func (s *Service) Enrolled(ctx context.Context, e *learning.Enrolment, org string) error {
	return s.write(ctx, e, org, Update{})
}

// Progress records how many lessons the learner has completed.
func (s *Service) Progress(ctx context.Context, e *learning.Enrolment, lessons int) error {
	return s.write(ctx, e, "", Update{Lessons: lessons})
}

// Attempted records a submitted attempt: its number, and for the first
// attempt the answers chosen.
func (s *Service) Attempted(ctx context.Context, e *learning.Enrolment, n int, answers courses.Answers, passed bool) error {
	u := Update{Attempts: n}
	if n == 1 {
		u.First = &First{Answers: map[string][]int(answers), Passed: passed}
	}
	return s.write(ctx, e, "", u)
}

// Completed records a pass and lists the follow-up under its due day. It
// is a hand-over step: idempotent, and repeated after a crash.
func (s *Service) Completed(ctx context.Context, e *learning.Enrolment) error {
	if e.Completion == nil {
		return nil
	}
	at := e.Completion.At
	if err := s.write(ctx, e, "", Update{Passed: &at, Attempts: e.Completion.Attempt}); err != nil {
		return err
	}
	return s.Store.AddFollowUpDue(ctx, s.FollowUpDay(e).String(), e.ID)
}

// FollowUpDay is the day the follow-up of a completion is due.
func (s *Service) FollowUpDay(e *learning.Enrolment) civil.Date {
	days := FollowUpDays
	if c, err := s.Courses(e.Course); err == nil && c.FollowUpDays > 0 {
		days = c.FollowUpDays
	}
	return civil.Of(e.Completion.At).AddDays(days)
}

// RatingsForm is a confidence self-rating as typed: one value per outcome
// ("1"–"5", or "" for not answered).
type RatingsForm struct {
	Confidence []string
	Skip       bool
}

func (f RatingsForm) check(c *courses.Course, fe errs.FieldErrors, now time.Time) Ratings {
	r := Ratings{At: now, Skipped: f.Skip}
	if f.Skip {
		return r
	}
	r.Confidence = make([]int, len(c.Outcomes))
	any := false
	for i := range c.Outcomes {
		if i >= len(f.Confidence) || f.Confidence[i] == "" {
			continue
		}
		v, ok := scale(f.Confidence[i])
		if !ok {
			fe[confidenceField(i)] = "Choose a number from 1 to 5"
			continue
		}
		r.Confidence[i], any = v, true
	}
	if !any && len(fe) == 0 {
		fe[confidenceField(0)] = "Rate at least one outcome, or choose “Skip”"
	}
	return r
}

func confidenceField(i int) string { return "confidence_" + itoa(i+1) }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func scale(v string) (int, bool) {
	if len(v) == 1 && v[0] >= '1' && v[0] <= '5' {
		return int(v[0] - '0'), true
	}
	return 0, false
}

// unanswered returns the enrolment's course, or ECONFLICT when its row
// already holds the part answered says.
func (s *Service) unanswered(ctx context.Context, e *learning.Enrolment, answered func(*Row) bool) (*courses.Course, error) {
	c, err := s.Courses(e.Course)
	if err != nil {
		return nil, err
	}
	row, err := s.Row(ctx, e)
	if err != nil {
		return nil, err
	}
	if row != nil && answered(row) {
		return nil, errs.E(errs.ECONFLICT, "You have already answered these questions. Thank you.")
	}
	return c, nil
}

// RateBefore records the learner's confidence before the course (or that
// they skipped it). Asked once: a second answer is refused.
func (s *Service) RateBefore(ctx context.Context, e *learning.Enrolment, org string, f RatingsForm) error {
	c, err := s.unanswered(ctx, e, func(r *Row) bool { return r.Before != nil })
	if err != nil {
		return err
	}
	fe := errs.FieldErrors{}
	r := f.check(c, fe, s.Now().UTC())
	if len(fe) > 0 {
		return fe.Err()
	}
	return s.write(ctx, e, org, Update{Before: &r})
}

// AfterForm is what a learner says after passing, as typed.
type AfterForm struct {
	RatingsForm
	Helpful, Relevant, Different, Recommend string
}

// RateAfter records what the learner says after passing (or a skip).
func (s *Service) RateAfter(ctx context.Context, e *learning.Enrolment, org string, f AfterForm) error {
	if e.Completion == nil {
		return errs.E(errs.ECONFLICT, "These questions come after you pass the course.")
	}
	c, err := s.unanswered(ctx, e, func(r *Row) bool { return r.After != nil })
	if err != nil {
		return err
	}
	fe := errs.FieldErrors{}
	a := &After{}
	if f.Skip {
		a.Ratings = Ratings{At: s.Now().UTC(), Skipped: true}
		return s.write(ctx, e, org, Update{After: a})
	}
	probe := errs.FieldErrors{}
	a.Ratings = f.RatingsForm.check(c, probe, s.Now().UTC())
	for k, v := range probe {
		if !strings.HasPrefix(v, "Rate at least") { // after passing, the ratings are one part of several
			fe[k] = v
		}
	}
	var ok bool
	if f.Helpful != "" {
		if a.Helpful, ok = scale(f.Helpful); !ok {
			fe["helpful"] = "Choose how helpful the course was"
		}
	}
	if f.Relevant != "" {
		if a.Relevant, ok = scale(f.Relevant); !ok {
			fe["relevant"] = "Choose how relevant the course was"
		}
	}
	if f.Recommend != "" && !oneOf(f.Recommend, RecommendChoices) {
		fe["recommend"] = "Choose yes, no or not sure"
	}
	a.Recommend = f.Recommend
	different, msg := text(f.Different)
	if msg != "" {
		fe["different"] = msg
	}
	if len(fe) > 0 {
		return fe.Err()
	}
	if a.Helpful == 0 && a.Relevant == 0 && a.Recommend == "" && different == "" && !anyRated(a.Confidence) {
		return errs.FieldErrors{"helpful": "Answer at least one question, or choose “Skip”"}.Err()
	}
	doc, pid := s.where(e)
	a.Different = s.seal(doc, pid, "different", different)
	return s.write(ctx, e, org, Update{After: a})
}

// FollowUpForm is the follow-up answer as typed.
type FollowUpForm struct {
	Changed, Example, Family string
	Skip                     bool
}

// AnswerFollowUp records the follow-up answer (or a skip), once.
func (s *Service) AnswerFollowUp(ctx context.Context, e *learning.Enrolment, org string, f FollowUpForm) error {
	if e.Completion == nil {
		return errs.E(errs.ECONFLICT, "This question comes after you pass the course.")
	}
	if _, err := s.unanswered(ctx, e, func(r *Row) bool { return r.FollowUp != nil }); err != nil {
		return err
	}
	now := s.Now().UTC()
	if f.Skip {
		return s.write(ctx, e, org, Update{FollowUp: &FollowUp{At: now, Skipped: true}})
	}
	fe := errs.FieldErrors{}
	if !oneOf(f.Changed, ChangedChoices) {
		fe["changed"] = "Choose yes, somewhat or no"
	}
	if f.Family != "" && !oneOf(f.Family, FamilyChoices) {
		fe["family"] = "Choose yes, no or not sure"
	}
	example, msg := text(f.Example)
	if msg != "" {
		fe["example"] = msg
	}
	if len(fe) > 0 {
		return fe.Err()
	}
	doc, pid := s.where(e)
	return s.write(ctx, e, org, Update{FollowUp: &FollowUp{At: now, Changed: f.Changed, Family: f.Family, Example: s.seal(doc, pid, "example", example)}})
}

// MarkFollowUpSent records that the follow-up went (for the response rate).
func (s *Service) MarkFollowUpSent(ctx context.Context, e *learning.Enrolment, at time.Time) error {
	return s.write(ctx, e, "", Update{FollowUpSent: &at})
}

// SetPublished marks one comment publishable or not, by its reference
// (Comment.Ref).
func (s *Service) SetPublished(ctx context.Context, ref string, publish bool) error {
	doc, pid, kind, ok := parseRef(ref)
	if !ok {
		return errs.E(errs.EINVALID, "That is not a comment of this report.")
	}
	row, err := s.Store.Evaluation(ctx, doc, pid)
	if err != nil {
		return err
	}
	var list []string
	for _, k := range row.Publish {
		if k != kind {
			list = append(list, k)
		}
	}
	if publish {
		list = append(list, kind)
	}
	if list == nil {
		list = []string{}
	}
	return s.Store.UpdateEvaluation(ctx, doc, pid, Update{Enrolled: row.Enrolled, Publish: list})
}

func parseRef(ref string) (doc, pid, kind string, ok bool) {
	parts := strings.Split(ref, "|")
	if len(parts) != 3 || (parts[2] != "different" && parts[2] != "example") || strings.Count(parts[0], "/") != 2 || parts[1] == "" || strings.ContainsAny(parts[1], ".$") {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

func anyRated(c []int) bool {
	for _, v := range c {
		if v > 0 {
			return true
		}
	}
	return false
}

// text trims a free-text answer and checks its length.
func text(v string) (string, string) {
	v = strings.TrimSpace(strings.ToValidUTF8(v, ""))
	if utf8.RuneCountInString(v) > MaxText {
		return v, "Please keep this under 2,000 characters"
	}
	return v, ""
}

func (s *Service) seal(doc, pid, kind, v string) string {
	if v == "" {
		return ""
	}
	return s.Box.Seal(v, "impact:"+doc+":"+pid+":"+kind)
}

// Open decrypts a sealed free-text answer ("" when it cannot).
func (s *Service) Open(doc, pid, kind, sealed string) string {
	if sealed == "" {
		return ""
	}
	v, err := s.Box.Open(sealed, "impact:"+doc+":"+pid+":"+kind)
	if err != nil {
		return ""
	}
	return v
}

// MaxMonths is the longest period a report covers.
const MaxMonths = 24

// Docs reads the rows of a course's learners who enrolled in the period
// (YYYY-MM to YYYY-MM): months × Shards point reads, eight at a time (the
// embedded database answers reads side by side).
func (s *Service) Docs(ctx context.Context, course, from, to string) (map[string]map[string]Row, error) {
	docs := map[string]map[string]Row{}
	var mu sync.Mutex
	err := eachDoc(ctx, course, from, to, func(ctx context.Context, id string) error {
		rows, err := s.Store.EvaluationDoc(ctx, id)
		if err != nil || len(rows) == 0 {
			return err
		}
		mu.Lock()
		docs[id] = rows
		mu.Unlock()
		return nil
	})
	return docs, err
}

// eachDoc calls fn with the ID of each shard document of a course over the
// period, eight at a time.
func eachDoc(ctx context.Context, course, from, to string, fn func(ctx context.Context, id string) error) error {
	months := MonthsBetween(from, to)
	if len(months) == 0 || len(months) > MaxMonths {
		return errs.FieldErrors{"from": "Choose a period of 1 to 24 months, the first month before the last"}.Err()
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, m := range months {
		for sh := 0; sh < Shards; sh++ {
			id := course + "/" + m + "/" + itoa(sh)
			g.Go(func() error { return fn(ctx, id) })
		}
	}
	return g.Wait()
}

// Report computes a course's report over a period, for one organisation
// ("" for all); drafts includes comments not yet marked publishable.
func (s *Service) Report(ctx context.Context, course, from, to, org string, drafts bool) (*Report, error) {
	c, err := s.Courses(course)
	if err != nil {
		return nil, err
	}
	tallies, err := s.Tallies(ctx, course, from, to)
	if err != nil {
		return nil, err
	}
	return ComputeTallies(c, from, to, org, tallies, drafts, s.Open), nil
}

// Tallies reads the tallies of a course's shard documents over the period:
// months × Shards point reads that leave the rows out, eight at a time.
func (s *Service) Tallies(ctx context.Context, course, from, to string) (map[string]*Tally, error) {
	out := map[string]*Tally{}
	var mu sync.Mutex
	err := eachDoc(ctx, course, from, to, func(ctx context.Context, id string) error {
		t, err := s.Store.EvaluationTally(ctx, id)
		if err != nil || len(t.Orgs) == 0 {
			return err
		}
		mu.Lock()
		out[id] = t
		mu.Unlock()
		return nil
	})
	return out, err
}
