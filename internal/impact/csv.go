package impact

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/family-advocacy/lms/courses"
)

// withheld is the line written instead of the rows of fewer than MinGroup
// people.
const withheld = "# fewer than 5 responses: rows withheld"

// WriteCSV writes the anonymous rows of a course's learners who enrolled
// from from to to (YYYY-MM, inclusive), of one organisation unless org is
// "", one line each under a header, and returns how many it wrote. A row
// holds only the enrolment month, whether they passed, their attempts and
// their chosen answers: no free text, pseudonym, organisation or exact
// date. The rows are sorted by month and then by their values, so their
// order says nothing about who they are. With fewer than MinGroup rows in
// all, only the header and a line saying they are withheld are written.
func WriteCSV(w io.Writer, c *courses.Course, docs map[string]map[string]Row, from, to, org string) (int, error) {
	n := len(c.Outcomes)
	head := []string{"enrolled_month", "passed", "attempts"}
	for _, when := range []string{"before", "after"} {
		for i := range n {
			head = append(head, fmt.Sprintf("%s_%d", when, i+1))
		}
	}
	head = append(head, "helpful", "relevant", "recommend", "followup_changed", "followup_family")

	var records [][]string
	for _, rows := range docs {
		for _, row := range rows {
			m := Month(row.Enrolled)
			if m < from || m > to || (org != "" && row.Org != org) {
				continue
			}
			records = append(records, record(row, m, n))
		}
	}
	// A month with fewer than MinGroup learners would point at them: its
	// rows say "other" instead of the month.
	perMonth := map[string]int{}
	for _, r := range records {
		perMonth[r[0]]++
	}
	for _, r := range records {
		if perMonth[r[0]] < MinGroup {
			r[0] = "other"
		}
	}
	slices.SortFunc(records, slices.Compare)

	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	switch {
	case len(records) >= MinGroup:
		if err := cw.WriteAll(records); err != nil {
			return 0, err
		}
		return len(records), nil
	case len(records) > 0:
		if err := cw.Write([]string{withheld}); err != nil {
			return 0, err
		}
	}
	cw.Flush()
	return 0, cw.Error()
}

// record is one row's line: n outcomes' confidence before and after.
func record(row Row, month string, n int) []string {
	passed := "no"
	if row.Passed != nil {
		passed = "yes"
	}
	out := []string{month, passed, strconv.Itoa(row.Attempts)}
	var before, after *Ratings
	if row.Before != nil && !row.Before.Skipped {
		before = row.Before
	}
	a := row.After
	if a != nil && a.Skipped {
		a = nil
	}
	if a != nil {
		after = &a.Ratings
	}
	for _, r := range []*Ratings{before, after} {
		for i := range n {
			v := ""
			if r != nil && i < len(r.Confidence) && r.Confidence[i] > 0 {
				v = strconv.Itoa(r.Confidence[i])
			}
			out = append(out, v)
		}
	}
	var helpful, relevant, recommend, changed, family string
	if a != nil {
		helpful, relevant, recommend = rating(a.Helpful), rating(a.Relevant), a.Recommend
	}
	if f := row.FollowUp; f != nil && !f.Skipped {
		changed, family = f.Changed, f.Family
	}
	return append(out, helpful, relevant, recommend, changed, family)
}

// rating is a 1–5 answer, or empty when not given.
func rating(v int) string {
	if v <= 0 {
		return ""
	}
	return strconv.Itoa(v)
}
