// Package lifecycle owns the process's background work: the periodic jobs,
// the jobs people start (a bulk reissue, a data download) and the mail
// workers all run in one Group, whose context shutdown cancels and which
// shutdown waits for before the stores close.
package lifecycle

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Group runs goroutines under one context. The first error a goroutine
// returns (other than its context ending) cancels the context for all and
// is returned by Wait.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	err      error
	stopping bool
}

// New returns a group whose context is derived from parent.
func New(parent context.Context) *Group {
	ctx, cancel := context.WithCancel(parent)
	return &Group{ctx: ctx, cancel: cancel}
}

// Context is the group's context: cancelled by Stop, by parent, or by the
// first error. A nil group's is never cancelled.
func (g *Group) Context() context.Context {
	if g == nil {
		return context.Background()
	}
	return g.ctx
}

// Go runs fn in a goroutine the group owns. fn must return soon after its
// context ends. An error it returns, unless the context had ended, stops
// the group. Once Stop has begun, fn is not started (all work started this
// way is recorded first and resumed after the next start). A nil group
// runs fn on its own, with a context never cancelled (for one-off commands
// and tests, which wait in other ways).
func (g *Group) Go(fn func(ctx context.Context) error) {
	if g == nil {
		go func() { _ = fn(context.Background()) }()
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(g.ctx); err != nil && g.ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			g.mu.Lock()
			if g.err == nil {
				g.err = err
			}
			g.mu.Unlock()
			g.cancel()
		}
	}()
}

// Stop cancels the group's context and waits for its goroutines, at most
// for limit (0: no limit); it reports false when some were still running.
func (g *Group) Stop(limit time.Duration) (bool, error) {
	g.mu.Lock()
	g.stopping = true
	g.mu.Unlock()
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	if limit > 0 {
		select {
		case <-done:
		case <-time.After(limit):
			return false, g.Err()
		}
	}
	<-done
	return true, g.Err()
}

// Wait waits for the group's goroutines and returns the first error.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Err returns the first error so far, or nil.
func (g *Group) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
