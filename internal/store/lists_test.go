package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

type payload struct {
	N int `bson:"n"`
}

func keys(rows []store.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
	}
	return out
}

// TestListPagesInOrderAcrossBucketsAndShards fills a list whose rows fall
// in many buckets and shards and reads it back page by page, both ways.
func TestListPagesInOrderAcrossBucketsAndShards(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	for _, desc := range []bool{false, true} {
		t.Run(fmt.Sprintf("desc=%v", desc), func(t *testing.T) {
			l := e.DB.TestingList(fmt.Sprintf("t-order-%v", desc), 2, 3, desc)
			var want []string
			for i := 0; i < 95; i++ {
				k := fmt.Sprintf("%03d", (i*37)%95) // added out of order
				if err := l.Add(ctx, "k"+k, k, payload{N: i}); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 95; i++ {
				want = append(want, fmt.Sprintf("k%03d", i))
			}
			if desc {
				slices.Reverse(want)
			}
			var got []string
			for off := 0; off < 100; off += 10 {
				rows, total, err := l.Page(ctx, off, 10)
				if err != nil {
					t.Fatal(err)
				}
				if total != 95 {
					t.Fatalf("total %d, want 95", total)
				}
				got = append(got, keys(rows)...)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("pages gave\n%v\nwant\n%v", got, want)
			}
			// A scan from the middle starts there.
			var from []string
			start := want[40]
			if err := l.Scan(ctx, start[1:], func(r store.Row) (bool, error) {
				from = append(from, r.Key)
				return len(from) < 5, nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(from, want[40:45]) {
				t.Fatalf("scan from %s: %v, want %v", start, from, want[40:45])
			}
		})
	}
}

// TestListAddIsIdempotentAndRemoveCounts adds the same row twice, replaces
// its payload, removes it twice, and checks the count and payload.
func TestListAddIsIdempotentAndRemoveCounts(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	l := e.DB.TestingList("t-idem", 0, 1, false)
	for i := 0; i < 2; i++ {
		if err := l.Add(ctx, "a", "a", payload{N: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Add(ctx, "b", "b", payload{N: 2}); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, "a", "a", payload{N: 7}); err != nil {
		t.Fatal(err)
	}
	rows, total, err := l.Page(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var p payload
	if err := rows[0].Decode(&p); err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(rows) != 2 || p.N != 7 {
		t.Fatalf("got %d rows (total %d), first payload %d; want 2, 2, 7", len(rows), total, p.N)
	}
	for i := 0; i < 2; i++ {
		if err := l.Remove(ctx, "a", "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Count(ctx); err != nil || n != 1 {
		t.Fatalf("count after removing a: %d, %v; want 1", n, err)
	}
	if err := l.Remove(ctx, "b", "b"); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count after removing both: %d, %v; want 0", n, err)
	}
	// The emptied bucket document is gone.
	if n, err := e.DB.DB.Collection("lists").CountDocuments(ctx, bson.D{{Key: "_id", Value: "t-idem|/0"}}); err != nil || n != 0 {
		t.Fatalf("emptied bucket documents: %d, %v; want 0", n, err)
	}
}

// TestListConcurrentAddsCountEveryRowOnce has 24 writers add 10 rows each
// to one bucket, half of them the same rows, and checks the count.
func TestListConcurrentAddsCountEveryRowOnce(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	l := e.DB.TestingList("t-conc", 0, 1, false)
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for w := 0; w < 24; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				k := fmt.Sprintf("w%02d-%d", w, i)
				if w%2 == 1 {
					k = fmt.Sprintf("shared-%d", i) // the odd writers all add the same 10
				}
				if err := l.Add(ctx, k, k, payload{N: i}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := l.Count(ctx)
	rows, _, err2 := l.Page(ctx, 0, 1000)
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	if want := 12*10 + 10; n != want || len(rows) != want {
		t.Fatalf("count %d, rows %d; want %d", n, len(rows), want)
	}
}

// TestListRowWrittenBeforeACrashIsStillFound writes a row the way a crash
// right after it would leave it (no count in the directory) and checks that
// pages still find it and the next add corrects the count.
func TestListRowWrittenBeforeACrashIsStillFound(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	l := e.DB.TestingList("t-crash", 1, 1, false)
	if err := l.AddRowOnly(ctx, "x1", "x1", payload{N: 1}); err != nil {
		t.Fatal(err)
	}
	rows, _, err := l.Page(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(rows), []string{"x1"}) {
		t.Fatalf("rows %v, want [x1]", keys(rows))
	}
	if err := l.Add(ctx, "x2", "x2", payload{N: 2}); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Count(ctx); err != nil || n != 2 {
		t.Fatalf("count %d, %v; want 2", n, err)
	}
}

// TestListDropBucketAndDrop deletes one bucket, then the whole list.
func TestListDropBucketAndDrop(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	l := e.DB.TestingList("t-drop", 4, 2, false)
	for _, k := range []string{"2025a", "2025b", "2026a"} {
		if err := l.Add(ctx, k, k, payload{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.DropBucket(ctx, "2025"); err != nil {
		t.Fatal(err)
	}
	rows, total, err := l.Page(ctx, 0, 10)
	if err != nil || total != 1 || !slices.Equal(keys(rows), []string{"2026a"}) {
		t.Fatalf("after dropping 2025: %v (total %d, %v)", keys(rows), total, err)
	}
	if err := l.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.DB.DB.Collection("lists").CountDocuments(ctx, bson.D{}, options.Count().SetComment(testenv.TestOnly)); err != nil || n != 0 {
		t.Fatalf("documents left after Drop: %d, %v", n, err)
	}
}
