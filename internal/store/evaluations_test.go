package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestEvaluationRowsKeepEveryConcurrentWrite: 30 learners of one shard
// document write at once, each twice (two parts of their row, also at
// once); every part of every row is kept, lessons only grow, a row deleted
// goes alone, and the follow-up day lists add, remove and drop.
func TestEvaluationRowsKeepEveryConcurrentWrite(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	enrolled := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	const doc = "sample-course/2026-11/3"
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for i := range 30 {
		pid := fmt.Sprintf("p%02d", i)
		org := "org-a"
		for _, u := range []impact.Update{
			{Enrolled: enrolled, Org: &org, Lessons: 2},
			{Enrolled: enrolled, Lessons: 1, Before: &impact.Ratings{At: enrolled, Confidence: []int{1 + i%5, 2}}},
		} {
			wg.Add(1)
			go func() { defer wg.Done(); errc <- e.DB.UpdateEvaluation(ctx, doc, pid, u) }()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := e.DB.EvaluationDoc(ctx, doc)
	if err != nil || len(rows) != 30 {
		t.Fatalf("rows: %d, %v", len(rows), err)
	}
	for i := range 30 {
		r := rows[fmt.Sprintf("p%02d", i)]
		if r.Org != "org-a" || r.Lessons != 2 || r.Before == nil || r.Before.Confidence[0] != 1+i%5 || !r.Enrolled.Equal(enrolled) {
			t.Fatalf("row %d lost a write: %+v", i, r)
		}
	}
	if err := e.DB.DeleteEvaluation(ctx, doc, "p07"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Evaluation(ctx, doc, "p07"); err == nil {
		t.Fatal("the deleted row is still there")
	}
	if r, err := e.DB.Evaluation(ctx, doc, "p08"); err != nil || r.Before == nil {
		t.Fatalf("a neighbour of the deleted row: %+v, %v", r, err)
	}
	if err := e.DB.DeleteEvaluation(ctx, "no/such/doc", "p01"); err != nil {
		t.Fatalf("deleting from a document that does not exist: %v", err)
	}

	for _, id := range []string{"u1/c", "u2/c", "u1/c"} {
		if err := e.DB.AddFollowUpDue(ctx, "2027-02-20", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DB.RemoveFollowUpDue(ctx, "2027-02-20", "u2/c"); err != nil {
		t.Fatal(err)
	}
	if ids, err := e.DB.FollowUpsDue(ctx, "2027-02-20"); err != nil || len(ids) != 1 || ids[0] != "u1/c" {
		t.Fatalf("follow-ups due: %v, %v", ids, err)
	}
	if err := e.DB.DropFollowUpDay(ctx, "2027-02-20"); err != nil {
		t.Fatal(err)
	}
	if ids, err := e.DB.FollowUpsDue(ctx, "2027-02-20"); err != nil || len(ids) != 0 {
		t.Fatalf("after dropping the day: %v, %v", ids, err)
	}
}
