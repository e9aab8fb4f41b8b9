package learning_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func newService(t *testing.T) *learning.Service {
	t.Helper()
	e := testenv.New(t)
	c, probs := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
	if len(courses.Errors(probs)) > 0 {
		t.Fatal(probs)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return learning.NewService(e.DB, learning.NewCatalogue([]*courses.Course{c}), func() time.Time { return now }, nil)
}

func TestProgressThroughTheLessonsWithTheCache(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.Enrol(ctx, "u1", "sample-course"); err != nil {
		t.Fatal(err)
	}
	for i, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		_, _, p, err := s.ViewLesson(ctx, "u1", "sample-course", l)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done != i {
			t.Fatalf("viewing %s: %d done, want %d", l, p.Done, i)
		}
		p, err = s.CompleteLesson(ctx, "u1", "sample-course", l)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done != i+1 {
			t.Fatalf("after completing %s: %d done, want %d", l, p.Done, i+1)
		}
	}
}
