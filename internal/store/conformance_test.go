package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/testenv"
)

// These tests are the store's promises that must hold on either engine:
// of many concurrent attempts at something that may happen once, exactly
// one succeeds; concurrent changes to one document are all kept or
// reported. `make test` runs them on the embedded FerretDB, and
// `make test-store MONGODB_URI=…` on a MongoDB.

const racers = 16

// race runs fn in racers goroutines at once and returns how many returned
// true, failing the test on any error.
func race(t *testing.T, fn func(i int) (bool, error)) int {
	t.Helper()
	var won atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errc := make(chan error, racers)
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := fn(i)
			if err != nil {
				errc <- err
				return
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	return int(won.Load())
}

func TestOneInstanceTakesALease(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var winner atomic.Int64
	won := race(t, func(i int) (bool, error) {
		ok, err := e.DB.TakeLease(ctx, "daily", fmt.Sprintf("instance-%d", i), "2026-11-25", now, now.Add(15*time.Minute))
		if ok {
			winner.Store(int64(i))
		}
		return ok, err
	})
	if won != 1 {
		t.Fatalf("%d instances took the lease, want 1", won)
	}
	// While it runs, nobody else takes it.
	if won := race(t, func(i int) (bool, error) {
		return e.DB.TakeLease(ctx, "daily", fmt.Sprintf("other-%d", i), "2026-11-25", now.Add(time.Minute), now.Add(16*time.Minute))
	}); won != 0 {
		t.Fatalf("%d instances took a lease that was held", won)
	}
	// Finished for the day: nobody takes it again that day, even once the
	// lease has run out; the next day one instance does.
	if err := e.DB.FinishLease(ctx, "daily", fmt.Sprintf("instance-%d", winner.Load()), "2026-11-25", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	if won := race(t, func(i int) (bool, error) {
		return e.DB.TakeLease(ctx, "daily", fmt.Sprintf("other-%d", i), "2026-11-25", later, later.Add(time.Minute))
	}); won != 0 {
		t.Fatalf("%d instances took a job already done today", won)
	}
	if won := race(t, func(i int) (bool, error) {
		return e.DB.TakeLease(ctx, "daily", fmt.Sprintf("next-%d", i), "2026-11-26", later, later.Add(time.Minute))
	}); won != 1 {
		t.Fatalf("%d instances took the next day's lease, want 1", won)
	}
}

func TestOneAttemptClaimsAMessage(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := e.DB.InsertMessage(ctx, &notify.Message{ID: "m1", To: "a@example.org", Subject: "s", Status: notify.StatusQueued, NextTry: now, Created: now}); err != nil {
		t.Fatal(err)
	}
	won := race(t, func(int) (bool, error) {
		m, err := e.DB.ClaimMessage(ctx, "m1", now, now.Add(2*time.Minute))
		return m != nil, err
	})
	if won != 1 {
		t.Fatalf("%d attempts claimed the message, want 1", won)
	}
	// The delivery queue waits for the claim's lease to run out.
	due, err := e.DB.DueMessages(ctx, now.Add(time.Minute), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("due during the lease: %v, %v", due, err)
	}
	if due, err := e.DB.DueMessages(ctx, now.Add(3*time.Minute), 10); err != nil || len(due) != 1 {
		t.Fatalf("due after the lease: %v, %v", due, err)
	}
}

func TestOneClaimPerCompletion(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	won := race(t, func(i int) (bool, error) {
		err := e.DB.InsertClaim(ctx, &certificates.Claim{Key: "u1/course/1", Code: fmt.Sprintf("CODE%d", i), At: time.Now()})
		if errs.Is(err, errs.ECONFLICT) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("%d claims inserted, want 1", won)
	}
}

func TestARecoveryCodeAndATOTPStepWorkOnce(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	u := &auth.User{ID: "u-rec", Email: "rec@example.org", Name: "Rec Person", Roles: []auth.Role{auth.RoleLearner}, RecoveryHashes: []string{"h1", "h2"}}
	if err := e.DB.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if won := race(t, func(int) (bool, error) { return e.DB.UseRecoveryCode(ctx, u.ID, "h1") }); won != 1 {
		t.Fatalf("a recovery code was accepted %d times, want 1", won)
	}
	won := race(t, func(int) (bool, error) {
		err := e.DB.UseTOTPStep(ctx, u.ID, 1000)
		if errs.Is(err, errs.ECONFLICT) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("a TOTP step was accepted %d times, want 1", won)
	}
	if err := e.DB.UseTOTPStep(ctx, u.ID, 999); !errs.Is(err, errs.ECONFLICT) {
		t.Fatalf("an earlier step after a later one: %v, want ECONFLICT", err)
	}
	if err := e.DB.UseTOTPStep(ctx, u.ID, 1001); err != nil {
		t.Fatalf("the next step: %v", err)
	}
}

func TestAnEmailIsTakenOverOnce(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := e.DB.ClaimEmail(ctx, "x@example.org", "dangling", now); err != nil {
		t.Fatal(err)
	}
	won := race(t, func(i int) (bool, error) {
		err := e.DB.TakeOverEmail(ctx, "x@example.org", "dangling", fmt.Sprintf("new-%d", i), now)
		if errs.Is(err, errs.ECONFLICT) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("%d took the address over, want 1", won)
	}
}

// TestConcurrentChangesToOneRecordAreAllKept has writers add CPD entries to
// one advocate at once: every change the store accepted is there, and any
// it did not is reported as a conflict (never lost silently).
func TestConcurrentChangesToOneRecordAreAllKept(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	if err := e.DB.InsertAdvocate(ctx, &compliance.Advocate{ID: "adv1", Name: "Ada", OrgID: "org"}); err != nil {
		t.Fatal(err)
	}
	var conflicts atomic.Int64
	won := race(t, func(i int) (bool, error) {
		_, err := e.DB.UpdateAdvocate(ctx, "adv1", func(a *compliance.Advocate) error {
			a.CPD = append(a.CPD, compliance.CPDEntry{ID: fmt.Sprintf("e%d", i), Title: "entry"})
			return nil
		})
		if errs.Is(err, errs.ECONFLICT) {
			conflicts.Add(1)
			return false, nil
		}
		return err == nil, err
	})
	a, err := e.DB.Advocate(ctx, "adv1")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.CPD) != won || won+int(conflicts.Load()) != racers || won == 0 {
		t.Fatalf("%d entries kept, %d accepted, %d conflicts; want kept = accepted, accepted + conflicts = %d", len(a.CPD), won, conflicts.Load(), racers)
	}
}

// TestConcurrentNotificationsAreAllKept adds distinct notifications to one
// inbox at once, and one of them many times.
func TestConcurrentNotificationsAreAllKept(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	var conflicts atomic.Int64
	won := race(t, func(i int) (bool, error) {
		id := fmt.Sprintf("n%d", i)
		if i%2 == 1 {
			id = "same"
		}
		added, err := e.DB.AddNotification(ctx, "u1", notify.Notification{ID: id, At: time.Now(), Subject: id})
		if errs.Is(err, errs.ECONFLICT) {
			conflicts.Add(1)
			return false, nil
		}
		return added, err
	})
	in, err := e.DB.Inbox(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Items) != won || won > racers/2+1 || int(conflicts.Load())+won < racers/2+1 {
		t.Fatalf("%d kept, %d added, %d conflicts", len(in.Items), won, conflicts.Load())
	}
}

// TestRequestCountersCountEveryHit hits one key from every racer at once,
// twice each, and other keys in the same window, and checks each key's
// count, and that a new window starts again at one.
func TestRequestCountersCountEveryHit(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 30, 10, 0, time.UTC)
	var highest atomic.Int64
	race(t, func(i int) (bool, error) {
		for j := 0; j < 2; j++ {
			n, err := e.DB.CountHit(ctx, "verify:203.0.113.9", now, time.Minute)
			if err != nil {
				return false, err
			}
			for {
				h := highest.Load()
				if int64(n) <= h || highest.CompareAndSwap(h, int64(n)) {
					break
				}
			}
		}
		_, err := e.DB.CountHit(ctx, fmt.Sprintf("verify:198.51.100.%d", i), now, time.Minute)
		return true, err
	})
	if got := highest.Load(); got != 2*racers {
		t.Fatalf("the shared key counted %d hits, want %d", got, 2*racers)
	}
	if n, err := e.DB.CountHit(ctx, "verify:198.51.100.3", now.Add(20*time.Second), time.Minute); err != nil || n != 2 {
		t.Fatalf("another key: %d, %v; want its own count, 2", n, err)
	}
	if n, err := e.DB.CountHit(ctx, "verify:203.0.113.9", now.Add(time.Minute), time.Minute); err != nil || n != 1 {
		t.Fatalf("next window: %d, %v; want 1", n, err)
	}
}

// TestThrottleGrantsExactlyItsLimit takes attempts on one throttle from
// every racer at once, with a limit below the racers: exactly the limit
// are granted, on a throttle that does not exist yet (its creation races
// too) and on one part used already, and the one that reaches the limit
// locks it.
func TestThrottleGrantsExactlyItsLimit(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 30, 10, 0, time.UTC)
	limit := auth.Limit{Max: 5, Window: time.Hour}
	take := func(key string) func(int) (bool, error) {
		return func(int) (bool, error) {
			_, ok, err := e.DB.UpdateThrottle(ctx, key, limit.Reserve(now))
			return ok, err
		}
	}
	if won := race(t, take("acct:new")); won != limit.Max {
		t.Fatalf("new throttle: %d of %d attempts granted, want %d", won, racers, limit.Max)
	}
	th, err := e.DB.Throttle(ctx, "acct:new")
	if err != nil || th.Failures != limit.Max || !th.LockedUntil.After(now) {
		t.Fatalf("after the race: %+v, %v; want %d attempts and locked", th, err, limit.Max)
	}
	for range 2 {
		if _, ok, err := e.DB.UpdateThrottle(ctx, "acct:used", limit.Reserve(now.Add(-time.Minute))); err != nil || !ok {
			t.Fatalf("first attempts: %v, %v", ok, err)
		}
	}
	if won := race(t, take("acct:used")); won != limit.Max-2 {
		t.Fatalf("part-used throttle: %d of %d attempts granted, want %d", won, racers, limit.Max-2)
	}
}
