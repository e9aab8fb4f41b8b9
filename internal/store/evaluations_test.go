package store_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	// The tally kept beside the rows, after concurrent writes, a change of
	// answers and a deletion, is the one made from the rows.
	passed, other := enrolled.Add(time.Hour), "org-b"
	if err := e.DB.UpdateEvaluation(ctx, doc, "p09", impact.Update{Enrolled: enrolled, Org: &other, Passed: &passed, Attempts: 2,
		First:  &impact.First{Answers: map[string][]int{"q1": {2, 0}, "q2": {1}}},
		After:  &impact.After{Ratings: impact.Ratings{At: passed, Confidence: []int{4, 5}}, Helpful: 5, Different: "sealed"},
		Before: &impact.Ratings{At: enrolled, Confidence: []int{2, 2}}}); err != nil {
		t.Fatal(err)
	}
	rows, _ = e.DB.EvaluationDoc(ctx, doc)
	kept, err := e.DB.EvaluationTally(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := impact.TallyOf(rows); !sameBSON(t, kept, want) {
		t.Fatalf("the kept tally %+v\nis not the rows' %+v", kept.Orgs["org-a"], want.Orgs["org-a"])
	}
	if kept.Orgs["org-a"].Enrolled != 28 || kept.Orgs["org-b"].Enrolled != 1 || kept.Orgs["org-b"].Answers["q1"]["0,2"] != 1 || len(kept.Orgs["org-b"].Comments) != 1 {
		t.Fatalf("the tally: %+v %+v", kept.Orgs["org-a"], kept.Orgs["org-b"])
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

// sameBSON says whether two tallies are the same once through BSON (nil
// and empty maps alike; map order aside).
func sameBSON(t *testing.T, a, b *impact.Tally) bool {
	t.Helper()
	round := func(v *impact.Tally) *impact.Tally {
		raw, err := bson.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out impact.Tally
		if err := bson.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	return reflect.DeepEqual(round(a), round(b))
}
