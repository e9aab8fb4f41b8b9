package learning

import (
	"strconv"
	"time"

	"github.com/family-advocacy/lms/courses"
)

// Attempts is where a learner stands with a course's assessment, worked out
// from the enrolment alone (no further reads), by the course's rules:
// max_attempts and retry_after_hours in its assessment.yaml. Every page
// that talks about attempts (course, assessment, result, My learning, the
// home dashboard) and StartAttempt use it, so what a learner is told is
// what the service enforces.
type Attempts struct {
	Max       int            // attempts allowed; 0: unlimited
	WaitHours int            // the wait after an attempt that did not pass; 0: none
	Used      int            // attempts submitted (withdrawn papers do not count)
	Last      AttemptSummary // the latest submitted attempt; No 0: none yet
	Open      bool           // a paper is open, waiting for answers
	Passed    bool           // the course is complete
	NoneLeft  bool           // every attempt used without a pass
	RetryAt   time.Time      // when the next attempt may start, while waiting
}

// AttemptsOf works out a learner's attempts at course c at now.
func AttemptsOf(c *courses.Course, e *Enrolment, now time.Time) Attempts {
	a := Attempts{Max: c.Assessment.MaxAttempts, WaitHours: c.Assessment.RetryAfterHours, Open: e.OpenAttempt > 0, Passed: e.Completion != nil}
	for _, s := range e.Attempts {
		if s.Submitted.IsZero() {
			continue
		}
		a.Used++
		if s.No > a.Last.No {
			a.Last = s
		}
	}
	if a.Passed || a.Open {
		return a
	}
	if a.Max > 0 && a.Used >= a.Max {
		a.NoneLeft = true
		return a
	}
	if a.Last.No > 0 && !a.Last.Passed && a.WaitHours > 0 {
		if at := a.Last.Submitted.Add(time.Duration(a.WaitHours) * time.Hour); now.Before(at) {
			a.RetryAt = at
		}
	}
	return a
}

// Remaining returns how many attempts are left, or -1 when they are unlimited.
func (a Attempts) Remaining() int {
	if a.Max <= 0 {
		return -1
	}
	return max(a.Max-a.Used, 0)
}

// Waiting reports whether the learner must wait before the next attempt.
func (a Attempts) Waiting() bool { return !a.RetryAt.IsZero() }

// FailedLast reports whether the latest submitted attempt did not pass.
func (a Attempts) FailedLast() bool { return a.Last.No > 0 && !a.Last.Passed && !a.Passed }

// RetryText says when the next attempt opens, in Europe/London: "3:15pm on
// Tuesday 8 December 2026"; "" when there is no wait.
func (a Attempts) RetryText() string {
	if a.RetryAt.IsZero() {
		return ""
	}
	return Moment(a.RetryAt)
}

// RemainingText says how many attempts are left: "2 attempts left",
// "1 attempt left", "no attempts left" or "no limit on attempts".
func (a Attempts) RemainingText() string {
	switch n := a.Remaining(); n {
	case -1:
		return "no limit on attempts"
	case 0:
		return "no attempts left"
	case 1:
		return "1 attempt left"
	default:
		return strconv.Itoa(n) + " attempts left"
	}
}

// RulesText states the course's attempt rules before an attempt starts:
// "You have 3 attempts. If you do not pass, you can try again 24 hours
// after you submit."
func (a Attempts) RulesText() string {
	var s string
	switch a.Max {
	case 0:
		s = "There is no limit on attempts."
	case 1:
		s = "You have 1 attempt."
	default:
		s = "You have " + strconv.Itoa(a.Max) + " attempts."
	}
	if a.Max != 1 {
		s += " " + a.AfterFailText()
	}
	return s
}

// Summary states the rules in a few words, for a list: "3 attempts, with a
// wait of 24 hours after a fail".
func (a Attempts) Summary() string {
	var s string
	switch a.Max {
	case 0:
		s = "no limit on attempts"
	case 1:
		return "1 attempt"
	default:
		s = strconv.Itoa(a.Max) + " attempts"
	}
	if a.WaitHours > 0 {
		s += ", with a wait of " + HoursText(a.WaitHours) + " after a fail"
	}
	return s
}

// AfterFailText says how long the wait after a fail is: "If you do not
// pass, you can try again 24 hours after you submit."
func (a Attempts) AfterFailText() string {
	if a.WaitHours > 0 {
		return "If you do not pass, you can try again " + HoursText(a.WaitHours) + " after you submit."
	}
	return "If you do not pass, you can try again straight away."
}

// HoursText writes a wait in hours as people say it: "1 hour", "24 hours",
// "3 days" (whole days from 48 hours up).
func HoursText(h int) string {
	switch {
	case h == 1:
		return "1 hour"
	case h >= 48 && h%24 == 0:
		return strconv.Itoa(h/24) + " days"
	default:
		return strconv.Itoa(h) + " hours"
	}
}

// Moment writes a moment as people in England read it, in Europe/London:
// "3:15pm on Tuesday 8 December 2026".
func Moment(t time.Time) string {
	return t.In(london).Format("3:04pm on Monday 2 January 2006")
}
