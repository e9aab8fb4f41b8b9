package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
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
// in many prefixes, each split into several buckets, and reads it back
// page by page, both ways.
func TestListPagesInOrderAcrossBucketsAndShards(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	defer store.SetListSplit(200)()
	for _, desc := range []bool{false, true} {
		t.Run(fmt.Sprintf("desc=%v", desc), func(t *testing.T) {
			l := e.DB.TestingList(fmt.Sprintf("t-order-%v", desc), 2, desc)
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
			if n, err := l.Buckets(ctx); err != nil || n < 20 {
				t.Fatalf("%d buckets (%v): the list did not split", n, err)
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
	l := e.DB.TestingList("t-idem", 0, false)
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
	if err := e.DB.DB.Collection("lists").FindOne(ctx, bson.D{{Key: "_id", Value: "t-idem|"}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("the emptied bucket document: %v; want it gone", err)
	}
}

// TestListConcurrentAddsCountEveryRowOnce has 24 writers add 10 rows each
// to one list, half of them the same rows, while its buckets split under
// them, and checks that every row is there once, in order, and counted.
func TestListConcurrentAddsCountEveryRowOnce(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	defer store.SetListSplit(300)()
	l := e.DB.TestingList("t-conc", 0, false)
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
	if !slices.IsSorted(keys(rows)) {
		t.Fatalf("rows out of order: %v", keys(rows))
	}
	if b, err := l.Buckets(ctx); err != nil || b < 10 {
		t.Fatalf("%d buckets (%v): the list did not split", b, err)
	}
	// Removing every row, concurrently, leaves nothing counted or listed.
	var rwg sync.WaitGroup
	rerrs := make(chan error, len(rows))
	for _, r := range rows {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			rerrs <- l.Remove(ctx, r.Key, r.Sort)
		}()
	}
	rwg.Wait()
	close(rerrs)
	for err := range rerrs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := l.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count after removing all: %d, %v", n, err)
	}
	if rows, _, err := l.Page(ctx, 0, 1000); err != nil || len(rows) != 0 {
		t.Fatalf("rows after removing all: %v, %v", keys(rows), err)
	}
}

// TestListRowWrittenBeforeACrashIsStillFound writes a row the way a crash
// right after it would leave it (no count in the directory) and checks that
// pages still find it and the next add corrects the count.
func TestListRowWrittenBeforeACrashIsStillFound(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	l := e.DB.TestingList("t-crash", 1, false)
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
	l := e.DB.TestingList("t-drop", 4, false)
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

// TestListSplitInterruptedByACrash stops a split at each of its steps and
// checks that readers see every row once meanwhile, that the next write
// finishes or tidies it, and that no row is lost or doubled.
func TestListSplitInterruptedByACrash(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	defer store.SetListSplit(1 << 20)() // no split but the one made here
	for stage := 1; stage <= 3; stage++ {
		t.Run(fmt.Sprint("stage ", stage), func(t *testing.T) {
			l := e.DB.TestingList(fmt.Sprint("t-split-", stage), 0, false)
			var want []string
			for i := 0; i < 20; i++ {
				k := fmt.Sprintf("r%02d", i)
				want = append(want, k)
				if err := l.Add(ctx, k, k, payload{N: i}); err != nil {
					t.Fatal(err)
				}
			}
			check := func(when string, want []string) {
				t.Helper()
				rows, total, err := l.Page(ctx, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(keys(rows), want) || total != len(want) {
					t.Fatalf("%s: rows %v (total %d), want %v", when, keys(rows), total, want)
				}
				var scanned []string
				if err := l.Scan(ctx, "", func(r store.Row) (bool, error) { scanned = append(scanned, r.Key); return true, nil }); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(scanned, want) {
					t.Fatalf("%s: scan %v, want %v", when, scanned, want)
				}
			}
			if err := l.CrashSplit(ctx, "", stage); err != nil {
				t.Fatal(err)
			}
			check("after the crash", want)
			// The next write of the list finishes the split (or tidies it).
			if err := l.Remove(ctx, "r15", "r15"); err != nil {
				t.Fatal(err)
			}
			want = slices.DeleteFunc(want, func(k string) bool { return k == "r15" })
			check("after a removal", want)
			if err := l.Add(ctx, "r05", "r05", payload{N: 99}); err != nil {
				t.Fatal(err)
			}
			check("after an add", want)
			n, err := l.Buckets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if stage > 1 && n != 2 {
				t.Fatalf("%d buckets after the split was finished, want 2", n)
			}
			// No copy is left behind: the documents hold each row once.
			var held int
			cur, err := e.DB.DB.Collection("lists").Find(ctx, bson.D{}, options.Find().SetComment(testenv.TestOnly))
			if err != nil {
				t.Fatal(err)
			}
			var docs []struct {
				ID string `bson:"_id"`
				N  int    `bson:"n"`
			}
			if err := cur.All(ctx, &docs); err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				if strings.HasPrefix(d.ID, fmt.Sprint("t-split-", stage, "|")) {
					held += d.N
				}
			}
			if held != len(want) {
				t.Fatalf("the buckets hold %d rows, want %d", held, len(want))
			}
		})
	}
}
