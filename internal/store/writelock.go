package store

import (
	"context"
	"fmt"
)

// writeLock orders the embedded database's writes (see collection). It is
// a mutex whose Lock gives up when the caller's context ends, so a request
// whose deadline passes, or a job being shut down, does not wait on.
type writeLock struct{ ch chan struct{} }

func newWriteLock() *writeLock { return &writeLock{ch: make(chan struct{}, 1)} }

// Lock takes the lock, or returns the context's error once it ends.
func (l *writeLock) Lock(ctx context.Context) error {
	select {
	case l.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("store: waiting for the write lock: %w", ctx.Err())
	}
}

// Unlock releases the lock.
func (l *writeLock) Unlock() { <-l.ch }

// newListLocks returns the embedded database's per-list locks.
func newListLocks() *[64]writeLock {
	var ls [64]writeLock
	for i := range ls {
		ls[i] = writeLock{ch: make(chan struct{}, 1)}
	}
	return &ls
}

// HoldWrites takes the embedded database's write lock, as one long write
// would, until release is called: every other write waits, and gives up
// when its context ends. On MongoDB it holds nothing. (For tests of what
// waiting writers do, and for maintenance that must keep writers out.)
func (db *DB) HoldWrites(ctx context.Context) (release func(), err error) {
	if db.wmu == nil {
		return func() {}, nil
	}
	if err := db.wmu.Lock(ctx); err != nil {
		return nil, err
	}
	return db.wmu.Unlock, nil
}
