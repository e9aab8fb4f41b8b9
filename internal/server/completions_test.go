package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/learning"
)

// TestAdminSeesWhoCompletedWhichVersion: two learners pass the sample
// course, one of them (as if) on an earlier version; the admin's report
// counts each version, filters by version and exports CSV.
func TestAdminSeesWhoCompletedWhichVersion(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))
	if _, body := admin.do("GET", "/admin/courses/sample-course/completions", nil); !strings.Contains(body, "Nobody has completed this course yet") {
		t.Fatal("an empty report does not say nobody has completed the course")
	}
	for _, persona := range []string{"learner", "learner2"} {
		c := w.readyLearner(persona)
		n, ids := w.paper(c)
		if persona == "learner2" {
			// learner2's paper was drawn from the course's previous version,
			// so the pass records that version.
			if err := w.env.DB.SetFields(ctx, "attempts", learning.AttemptID(w.users["learner2"].ID, "sample-course", n),
				bson.D{{Key: "course_version", Value: "2025-06-01"}}); err != nil {
				t.Fatal(err)
			}
		}
		if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: submit %d", persona, resp.StatusCode)
		}
	}
	resp, body := admin.do("GET", "/admin/courses/sample-course/completions", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	for _, want := range []string{"2 completions", "Learner Person", "Learner2 Person", "learner2@example.org", "1 November 2026</a> <span class=\"tag tag-met\">Current</span>", "1 June 2025"} {
		if !strings.Contains(body, want) {
			t.Errorf("report does not show %q", want)
		}
	}
	_, body = admin.do("GET", "/admin/courses/sample-course/completions?version=2025-06-01", nil)
	if !strings.Contains(body, "1 completion of version 1 June 2025") || !strings.Contains(body, "Learner2 Person") || strings.Contains(body, ">Learner Person<") {
		t.Error("the report filtered to the earlier version does not show only learner2")
	}
	if resp, _ := admin.do("GET", "/admin/courses/sample-course/completions?version=1999-01-01", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a version nobody completed: got %d, want 404", resp.StatusCode)
	}
	resp, body = admin.do("GET", "/admin/courses/sample-course/completions.csv", nil)
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("CSV content type %q", resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("CSV: %d rows, %v; want a header and two completions", len(rows), err)
	}
	versions := map[string]string{rows[1][0]: rows[1][4], rows[2][0]: rows[2][4]}
	if versions["Learner Person"] != "2026-11-01" || versions["Learner2 Person"] != "2025-06-01" || rows[1][7] == "" {
		t.Fatalf("CSV rows: %q", rows[1:])
	}
}
