package lifecycle

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestStopCancelsAndWaitsForEveryGoroutine(t *testing.T) {
	g := New(context.Background())
	var finished atomic.Int64
	for range 5 {
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond) // tidying up after the cancel
			finished.Add(1)
			return ctx.Err()
		})
	}
	done, err := g.Stop(time.Second)
	if !done || err != nil || finished.Load() != 5 {
		t.Fatalf("Stop: done %v, err %v, finished %d; want all 5 finished and no error", done, err, finished.Load())
	}
	// Work offered after Stop began is not started (it is recorded and
	// resumed after the next start).
	started := false
	g.Go(func(context.Context) error { started = true; return nil })
	time.Sleep(20 * time.Millisecond)
	if started {
		t.Fatal("a goroutine started after Stop")
	}
}

func TestStopGivesUpAfterItsLimit(t *testing.T) {
	g := New(context.Background())
	release := make(chan struct{})
	g.Go(func(context.Context) error { <-release; return nil }) // ignores its context
	begin := time.Now()
	done, _ := g.Stop(50 * time.Millisecond)
	if done || time.Since(begin) > time.Second {
		t.Fatalf("Stop: done %v after %s; want false after about 50 ms", done, time.Since(begin))
	}
	close(release)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestAFailureStopsTheGroup(t *testing.T) {
	g := New(context.Background())
	boom := errors.New("storage keeps failing")
	cancelled := make(chan struct{})
	g.Go(func(ctx context.Context) error { <-ctx.Done(); close(cancelled); return ctx.Err() })
	g.Go(func(context.Context) error { return boom })
	select {
	case <-cancelled:
	case <-time.After(time.Second):
		t.Fatal("the others' context was not cancelled by the failure")
	}
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait: %v, want the failure", err)
	}
	if g.Context().Err() == nil {
		t.Fatal("the group's context is still live")
	}
}
