package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestACourseDueForReviewIsListedAndItsOwnerToldOnce: a course whose
// review falls due within 30 days is on the admins' content review page,
// with who checked it and its statements waiting on commencement (which
// learners never see); its owner is emailed once, however often the daily
// job runs, until the review date changes.
func TestACourseDueForReviewIsListedAndItsOwnerToldOnce(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	course := filepath.Join(dir, "sample-course", "course.yaml")
	b, _ := os.ReadFile(course)
	b = append(b, "reviewed_by: Fay Lawyer (solicitor)\nreviewed_on: 2025-10-01\nreview_due: 2026-12-01\nowner: content@example.org\n"...)
	if err := os.WriteFile(course, b, 0o600); err != nil {
		t.Fatal(err)
	}
	lesson := filepath.Join(dir, "sample-course", "01-first-steps.md")
	b, _ = os.ReadFile(lesson)
	b = []byte(strings.Replace(string(b), "This is the first lesson", "<!-- pending-commencement: Sample Act 2026 s9 not yet in force -->\nThis is the first lesson", 1))
	if err := os.WriteFile(lesson, b, 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, dir) // today is 22 November 2026: due in 9 days
	ctx := context.Background()

	admin := w.client(w.srv, w.session("admin"))
	_, page := admin.do("GET", "/admin/content-review", nil)
	for _, want := range []string{"Sample course for tests", "Fay Lawyer (solicitor)", "Due in 9 days", "content@example.org", "Sample Act 2026 s9 not yet in force", "01-first-steps</a>, line 9"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the content review page lacks %q:\n%.3000s", want, page)
		}
	}
	learner := w.client(w.srv, w.session("learner"))
	if _, page := learner.do("GET", "/courses/sample-course", nil); !strings.Contains(page, "Legal content checked on 1 October 2025") {
		t.Fatalf("the course page does not say when its legal content was checked:\n%.2000s", page)
	}
	if _, page := learner.do("GET", "/courses/sample-course/lessons/01-first-steps", nil); strings.Contains(page, "pending-commencement") || strings.Contains(page, "Sample Act 2026") {
		t.Fatal("the lesson shows its review marker to learners")
	}

	reminders := func() int {
		admin := w.client(w.srv, w.session("admin")) // a fresh session each day
		_, page := admin.do("GET", "/admin/outbox?to=content@example.org", nil)
		return strings.Count(page, "Course review due: Sample course for tests")
	}
	for day := 0; day < 3; day++ {
		for range 2 {
			if _, err := w.svc.Remind.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := reminders(); n != 1 {
			t.Fatalf("day %d: %d review reminders in the outbox, want exactly 1", day, n)
		}
		w.advance(24 * time.Hour)
	}
	// Past the date (5 December) it is overdue on the page, and still
	// told only once.
	w.advance(10 * 24 * time.Hour)
	if _, err := w.svc.Remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := reminders(); n != 1 {
		t.Fatalf("after the review date: %d reminders, want 1", n)
	}
	admin = w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/content-review", nil); !strings.Contains(page, "Overdue by 4 days") {
		t.Fatalf("the overdue course is not shown overdue:\n%.3000s", page)
	}
}

// TestACourseWithNoOwnerTellsTheAdministrators: with no owner in the
// course and no LMS_CONTENT_OWNER, each administrator is told once.
func TestACourseWithNoOwnerTellsTheAdministrators(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	course := filepath.Join(dir, "sample-course", "course.yaml")
	b, _ := os.ReadFile(course)
	b = append(b, "reviewed_by: Fay Lawyer (solicitor)\nreviewed_on: 2025-10-01\nreview_due: 2026-12-01\n"...)
	if err := os.WriteFile(course, b, 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, dir)
	ctx := context.Background()
	for range 2 {
		if _, err := w.svc.Remind.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	admin := w.users["admin"]
	msgs, _, err := w.env.DB.Messages(ctx, admin.Email, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Subject == "Course review due: Sample course for tests" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the administrator got %d review reminders, want 1", n)
	}
	if msgs, _, _ := w.env.DB.Messages(ctx, w.users["manager"].Email, 0, 50); len(msgs) != 0 {
		for _, m := range msgs {
			if strings.HasPrefix(m.Subject, "Course review due") {
				t.Fatal("a manager who is not an administrator was told of the review")
			}
		}
	}
}
