package learning_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/learning"
)

// TestAttemptsOf: the attempt rules (max_attempts, retry_after_hours) read
// from an enrolment, for each state a learner can be in.
func TestAttemptsOf(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 15, 15, 0, 0, time.UTC)
	sub := func(no int, passed bool, at time.Time) learning.AttemptSummary {
		return learning.AttemptSummary{No: no, Started: at.Add(-10 * time.Minute), Submitted: at, Passed: passed, Percent: 50}
	}
	enr := func(open int, done bool, xs ...learning.AttemptSummary) *learning.Enrolment {
		e := &learning.Enrolment{Attempts: map[string]learning.AttemptSummary{}, OpenAttempt: open}
		for _, x := range xs {
			e.Attempts[strconv.Itoa(x.No)] = x
		}
		if done {
			e.Completion = &learning.Completion{At: t0}
		}
		return e
	}
	course := func(maxAttempts, wait int) *courses.Course {
		return &courses.Course{Assessment: courses.Assessment{MaxAttempts: maxAttempts, RetryAfterHours: wait}}
	}
	void := learning.AttemptSummary{No: 2, Started: t0, Void: true}
	for _, tc := range []struct {
		name      string
		c         *courses.Course
		e         *learning.Enrolment
		now       time.Time
		used      int
		remaining int
		retryAt   time.Time
		noneLeft  bool
		failed    bool
	}{
		{"Fresh", course(3, 24), enr(0, false), t0, 0, 3, time.Time{}, false, false},
		{"OpenPaperIsNotUsedYet", course(3, 24), enr(1, false, learning.AttemptSummary{No: 1, Started: t0}), t0, 0, 3, time.Time{}, false, false},
		{"FailedAndWaiting", course(3, 24), enr(0, false, sub(1, false, t0)), t0.Add(time.Hour), 1, 2, t0.Add(24 * time.Hour), false, true},
		{"WaitOverToTheMinute", course(3, 24), enr(0, false, sub(1, false, t0)), t0.Add(24 * time.Hour), 1, 2, time.Time{}, false, true},
		{"LatestAttemptCounts", course(3, 24), enr(0, false, sub(1, false, t0.Add(-48*time.Hour)), sub(2, false, t0)), t0, 2, 1, t0.Add(24 * time.Hour), false, true},
		{"WithdrawnPaperDoesNotCount", course(3, 24), enr(0, false, sub(1, false, t0.Add(-48*time.Hour)), void), t0, 1, 2, time.Time{}, false, true},
		{"AllUsed", course(3, 24), enr(0, false, sub(1, false, t0), sub(2, false, t0), sub(3, false, t0)), t0, 3, 0, time.Time{}, true, true},
		{"Passed", course(3, 24), enr(0, true, sub(1, false, t0.Add(-48*time.Hour)), sub(2, true, t0)), t0, 2, 1, time.Time{}, false, false},
		{"NoWaitConfigured", course(3, 0), enr(0, false, sub(1, false, t0)), t0, 1, 2, time.Time{}, false, true},
		{"Unlimited", course(0, 24), enr(0, false, sub(1, false, t0), sub(2, false, t0.Add(-time.Hour))), t0, 2, -1, t0.Add(23 * time.Hour), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := learning.AttemptsOf(tc.c, tc.e, tc.now)
			if a.Used != tc.used || a.Remaining() != tc.remaining || !a.RetryAt.Equal(tc.retryAt) || a.NoneLeft != tc.noneLeft || a.FailedLast() != tc.failed {
				t.Errorf("got used %d remaining %d retry %v none left %v failed %v, want %d %d %v %v %v",
					a.Used, a.Remaining(), a.RetryAt, a.NoneLeft, a.FailedLast(), tc.used, tc.remaining, tc.retryAt, tc.noneLeft, tc.failed)
			}
			if a.Waiting() != !tc.retryAt.IsZero() {
				t.Errorf("waiting: got %v", a.Waiting())
			}
		})
	}
}

// TestAttemptTexts: what learners read about attempts, with moments in
// Europe/London whatever the clocks do.
func TestAttemptTexts(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{learning.Moment(time.Date(2026, 12, 8, 15, 15, 0, 0, time.UTC)), "3:15pm on Tuesday 8 December 2026"}, // GMT
		{learning.Moment(time.Date(2027, 6, 8, 14, 15, 0, 0, time.UTC)), "3:15pm on Tuesday 8 June 2027"},      // BST: an hour ahead
		{learning.Moment(time.Date(2027, 3, 27, 23, 30, 0, 0, time.UTC)), "11:30pm on Saturday 27 March 2027"}, // before the clocks go forward
		{learning.Moment(time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)), "2:30am on Sunday 28 March 2027"},     // after
		{learning.Moment(time.Date(2026, 11, 23, 0, 5, 0, 0, time.UTC)), "12:05am on Monday 23 November 2026"}, // just after midnight
		{learning.Attempts{Max: 3, WaitHours: 24}.RulesText(), "You have 3 attempts. If you do not pass, you can try again 24 hours after you submit."},
		{learning.Attempts{Max: 1, WaitHours: 24}.RulesText(), "You have 1 attempt."},
		{learning.Attempts{WaitHours: 72}.RulesText(), "There is no limit on attempts. If you do not pass, you can try again 3 days after you submit."},
		{learning.Attempts{Max: 2}.RulesText(), "You have 2 attempts. If you do not pass, you can try again straight away."},
		{learning.Attempts{Max: 3, WaitHours: 1}.Summary(), "3 attempts, with a wait of 1 hour after a fail"},
		{learning.Attempts{Max: 3, Used: 1}.RemainingText(), "2 attempts left"},
		{learning.Attempts{Max: 3, Used: 2}.RemainingText(), "1 attempt left"},
		{learning.Attempts{Max: 3, Used: 3}.RemainingText(), "no attempts left"},
		{learning.Attempts{}.RetryText(), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
