package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestWorkQueueIsEmptyWhenThereIsNoWork puts, retries and finishes work and
// checks what the queue holds at each step.
func TestWorkQueueIsEmptyWhenThereIsNoWork(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if items, err := e.DB.Work(ctx, store.QueueMail, 100); err != nil || len(items) != 0 {
		t.Fatalf("new queue: %v, %v; want empty", items, err)
	}
	for _, k := range []string{"a", "b", "a"} {
		if err := e.DB.PutWork(ctx, store.QueueMail, k, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DB.RetryWork(ctx, store.QueueMail, "b", now.Add(time.Hour), "refused"); err != nil {
		t.Fatal(err)
	}
	items, err := e.DB.Work(ctx, store.QueueMail, 100)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(items, func(x, y store.WorkItem) int { return len(x.Key) - len(y.Key) + int(x.Key[0]) - int(y.Key[0]) })
	if len(items) != 2 || items[0].Key != "a" || items[1].Key != "b" || !items[1].Due.Equal(now.Add(time.Hour)) || items[1].Tries != 1 || items[1].Note != "refused" {
		t.Fatalf("queue holds %+v", items)
	}
	if !items[1].Created.Equal(now) {
		t.Fatalf("created %v moved on retry, want %v", items[1].Created, now)
	}
	for _, k := range []string{"a", "b", "b"} {
		if err := e.DB.DoneWork(ctx, store.QueueMail, k); err != nil {
			t.Fatal(err)
		}
	}
	if items, err := e.DB.Work(ctx, store.QueueMail, 100); err != nil || len(items) != 0 {
		t.Fatalf("after done: %v, %v; want empty", items, err)
	}
}

// TestSweepDeletesOnlyExpiredRecords creates sessions, a reset, a request
// counter and throttles expiring at different times and sweeps.
func TestSweepDeletesOnlyExpiredRecords(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	old := now.Add(-13 * time.Hour)
	sessions := []auth.Session{
		{ID: "s-old", UserID: "u1", Created: old, LastSeen: old, Expires: old.Add(auth.SessionAbsolute)},
		{ID: "s-live", UserID: "u1", Created: now, LastSeen: now, Expires: now.Add(auth.SessionAbsolute)},
	}
	for i := range sessions {
		if err := e.DB.InsertSession(ctx, &sessions[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DB.InsertReset(ctx, &auth.Reset{ID: "r-old", UserID: "u1", Created: old, Expires: old.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.CountHit(ctx, "verify:x", old, time.Minute); err != nil {
		t.Fatal(err)
	}
	// A throttle whose window passed a day ago, and one locked since (its
	// lock set after it was scheduled for deletion).
	set := func(key string, change func(th *auth.Throttle)) {
		t.Helper()
		if _, ok, err := e.DB.UpdateThrottle(ctx, key, func(th auth.Throttle, _ bool) (auth.Throttle, bool) { change(&th); return th, true }); err != nil || !ok {
			t.Fatalf("throttle %s: %v, %v", key, ok, err)
		}
	}
	for _, key := range []string{"acct:old", "acct:locked"} {
		set(key, func(th *auth.Throttle) { th.Failures, th.WindowStart = 1, now.Add(-25*time.Hour) })
	}
	set("acct:locked", func(th *auth.Throttle) { th.LockedUntil = now.Add(2 * time.Hour) })
	n, err := e.DB.SweepExpired(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("swept %d records, want 4 (old session, reset, counter, throttle)", n)
	}
	got, err := e.DB.UserSessions(ctx, "u1")
	if err != nil || len(got) != 1 || got[0].ID != "s-live" {
		t.Fatalf("sessions left: %+v, %v; want s-live", got, err)
	}
	if _, err := e.DB.Throttle(ctx, "acct:locked"); err != nil {
		t.Fatalf("the locked throttle was deleted: %v", err)
	}
	if _, err := e.DB.Throttle(ctx, "acct:old"); err == nil {
		t.Fatal("the old throttle is still there")
	}
	// Once its lock has run out, the next sweep takes it.
	if n, err := e.DB.SweepExpired(ctx, now.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("second sweep: %d, %v; want 1", n, err)
	}
	if _, err := e.DB.Throttle(ctx, "acct:locked"); err == nil {
		t.Fatal("the throttle outlived its lock")
	}
}
