package server_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestManagersSeeTheirPeoplesTraining: a manager sees every person of
// their organisation (not only advocates) with what they are doing, have
// completed and the certificates they hold, a certificate near its expiry
// flagged; the CSV has a row per person and course; another
// organisation's manager sees none of them.
func TestManagersSeeTheirPeoplesTraining(t *testing.T) {
	w := newWorld(t, sampleDir)
	w.fullPerson("Tess Trained", "tess@example.org") // passed the sample course: a certificate for 12 months
	learner := w.client(w.srv, w.session("learner"))
	learner.post("/courses/sample-course/enrol", nil)
	learner.post("/courses/sample-course/lessons/01-first-steps/complete", nil)

	m := w.client(w.srv, w.session("manager"))
	resp, page := m.do("GET", "/manage/training", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("training: %d", resp.StatusCode)
	}
	rowOf := func(page, name string) string {
		i := strings.Index(page, `<th scope="row" data-label="Person">`+name)
		if i < 0 {
			t.Fatalf("%s is not on the page:\n%s", name, visibleText(page))
		}
		row := page[i:]
		return visibleText(row[:strings.Index(row, "</tr>")])
	}
	if row := rowOf(page, "Tess Trained"); !strings.Contains(row, "Sample course for tests") || !strings.Contains(row, "until 22 November 2027") {
		t.Errorf("Tess's row: %s", row)
	}
	if row := rowOf(page, "Learner Person"); !strings.Contains(row, "Sample course for tests (33%)") {
		t.Errorf("the learner's row (one lesson of three): %s", row)
	}
	if strings.Contains(page, "Expires soon") {
		t.Error("a certificate a year from expiry is flagged")
	}
	// Eleven months on, the certificate expires within 60 days.
	w.advance(time.Date(2027, 10, 1, 9, 0, 0, 0, time.UTC).Sub(w.clock()))
	m = w.client(w.srv, w.session("manager"))
	_, page = m.do("GET", "/manage/training", nil)
	if row := rowOf(page, "Tess Trained"); !strings.Contains(row, "Expires soon") || !strings.Contains(row, "in 52 days") {
		t.Errorf("Tess's row near the expiry: %s", row)
	}
	// The CSV: Tess's course with its certificate.
	_, body := m.do("GET", "/manage/training.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][0] != "Name" {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	found := false
	for _, r := range rows {
		found = found || r[0] == "Tess Trained" && r[3] == "Sample course for tests" && r[4] == "100" && r[7] == "Valid" && r[8] == "2027-11-22"
	}
	if !found {
		t.Errorf("Tess's course is not in the CSV: %v", rows)
	}
	// Another organisation's manager sees neither.
	_, other := w.client(w.srv, w.session("other-manager")).do("GET", "/manage/training", nil)
	if strings.Contains(other, "Tess Trained") || strings.Contains(other, "Learner Person") {
		t.Error("another organisation's manager sees our people")
	}
}
