package courses

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/family-advocacy/lms/internal/civil"
)

// Review: legal content goes out of date. A course records who checked it
// and when (reviewed_by, reviewed_on), when it is next due for review
// (review_due, by default 12 months after reviewed_on), and who is told
// when that falls due (owner, an email address). A statement that depends
// on a law coming into force, or on an announced change, carries a marker
// in the lesson, on a line of its own before the statement:
//
//	<!-- pending-commencement: CWSA 2026 s3 multi-agency child protection teams -->
//
// The markers are collected for `lms courses validate --due` and the
// admins' content review page, and are not shown to learners.

// DefaultReviewMonths is how long after its review a course is due for
// the next one, unless it says otherwise.
const DefaultReviewMonths = 12

// PendingPoint is one statement waiting on commencement or an announced
// change.
type PendingPoint struct {
	Lesson string // lesson name
	Line   int    // line in the lesson file
	Text   string
}

var pendingRE = regexp.MustCompile(`(?m)^[ \t]*<!--[ \t]*pending-commencement:[ \t]*(.*?)[ \t]*-->[ \t]*$`)

// takePending removes the pending-commencement markers from body, leaving
// their lines empty (so line numbers hold), and returns them.
func takePending(body string, firstLine int) (string, []PendingPoint) {
	var points []PendingPoint
	for _, m := range pendingRE.FindAllStringSubmatchIndex(body, -1) {
		points = append(points, PendingPoint{Line: firstLine + strings.Count(body[:m[0]], "\n"), Text: body[m[2]:m[3]]})
	}
	return pendingRE.ReplaceAllString(body, ""), points
}

// reviewDue is the date the course is next due for review: review_due, or
// 12 months after reviewed_on, or after its version date (zero if none
// parses).
func (c *Course) reviewDue() civil.Date {
	if d, err := civil.Parse(c.ReviewDue); err == nil {
		return d
	}
	from := c.ReviewedOn
	if from == "" {
		from = c.Version
	}
	d, err := civil.Parse(from)
	if err != nil {
		return civil.Date{}
	}
	return d.AddMonths(DefaultReviewMonths)
}

// ReviewDueDate is when the course is next due for review (the start of
// that day in London; zero if the course has no date that parses).
func (c *Course) ReviewDueDate() time.Time {
	if d := c.reviewDue(); !d.IsZero() {
		return d.Midnight()
	}
	return time.Time{}
}

// ReviewedOnDate is when the legal content was last checked: reviewed_on,
// or the version date.
func (c *Course) ReviewedOnDate() time.Time {
	if d, err := civil.Parse(c.ReviewedOn); err == nil {
		return d.Midnight()
	}
	return c.VersionDate()
}

// PendingPoints lists every pending-commencement marker in the course's
// lessons, in lesson order.
func (c *Course) PendingPoints() []PendingPoint {
	var all []PendingPoint
	for _, l := range c.Lessons {
		all = append(all, l.Pending...)
	}
	return all
}

// ReviewDueIn says in how many days from today the course is due for
// review (0: today; negative: overdue by that many days).
func (c *Course) ReviewDueIn(today civil.Date) int { return today.DaysUntil(c.reviewDue()) }

// parseReview reads the review fields of course.yaml.
func parseReview(file string, vals map[string]*yaml.Node, c *Course) []Problem {
	var probs []Problem
	probs = append(probs, decodeField(file, vals, "reviewed_by", &c.ReviewedBy)...)
	probs = append(probs, decodeField(file, vals, "owner", &c.Owner)...)
	date := func(key string, dst *string) {
		n, ok := vals[key]
		if !ok {
			return
		}
		*dst = n.Value // an unquoted date is a YAML timestamp; keep its text
		if _, err := time.Parse(time.DateOnly, *dst); err != nil {
			probs = append(probs, Problem{File: file, Line: n.Line, Message: key + " must be a date, YYYY-MM-DD"})
		}
	}
	date("reviewed_on", &c.ReviewedOn)
	date("review_due", &c.ReviewDue)
	if n, ok := vals["reviewed_by"]; ok && strings.TrimSpace(c.ReviewedBy) == "" {
		probs = append(probs, Problem{File: file, Line: n.Line, Message: "reviewed_by is empty: name who checked the legal content"})
	}
	if c.ReviewedBy != "" && c.ReviewedOn == "" {
		probs = append(probs, Problem{File: file, Line: lineOf(vals, "reviewed_by", 1), Message: "reviewed_by needs reviewed_on: when was it checked?"})
	}
	if on, err := time.Parse(time.DateOnly, c.ReviewedOn); err == nil {
		if due, err := time.Parse(time.DateOnly, c.ReviewDue); err == nil && !due.After(on) {
			probs = append(probs, Problem{File: file, Line: lineOf(vals, "review_due", 1), Message: fmt.Sprintf("review_due %s is not after reviewed_on %s", c.ReviewDue, c.ReviewedOn)})
		}
	}
	if n, ok := vals["owner"]; ok {
		if a, err := mail.ParseAddress(c.Owner); err != nil || a.Address != strings.TrimSpace(c.Owner) {
			probs = append(probs, Problem{File: file, Line: n.Line, Message: fmt.Sprintf("owner %q must be an email address (who is told when the review falls due)", c.Owner)})
		}
	}
	return probs
}

// ReviewItem is one course on the content review list.
type ReviewItem struct {
	Course  *Course
	Due     time.Time
	DueIn   int // days from the day asked about; negative: overdue
	Pending []PendingPoint
}

// Overdue reports whether the course is past its review date.
func (r ReviewItem) Overdue() bool { return r.DueIn < 0 }

// ReviewList lists, for today, every course due for review within
// `within` days or past it, and every course with pending-commencement
// points, soonest due first.
func ReviewList(cs []*Course, today civil.Date, within int) []ReviewItem {
	var items []ReviewItem
	for _, c := range cs {
		it := ReviewItem{Course: c, Due: c.ReviewDueDate(), DueIn: c.ReviewDueIn(today), Pending: c.PendingPoints()}
		if it.DueIn <= within || len(it.Pending) > 0 {
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(a, b ReviewItem) int { return a.Due.Compare(b.Due) })
	return items
}
