//go:build windows

package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// flock takes a shared or exclusive lock on f, saying so if it has to
// wait. Windows cannot convert a lock in place, so a shared lock is let go
// before an exclusive one is taken (the caller checks the cache again
// after taking it).
func flock(f *os.File, exclusive bool, what string) error {
	h := windows.Handle(f.Fd())
	all := ^uint32(0)
	var flags uint32
	if exclusive {
		flags = windows.LOCKFILE_EXCLUSIVE_LOCK
		_ = windows.UnlockFileEx(h, 0, all, all, new(windows.Overlapped))
	}
	err := windows.LockFileEx(h, flags|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, all, all, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		fmt.Fprintf(os.Stderr, "lmsbench: another run is using %s; waiting to %s it\n", f.Name(), what)
		err = windows.LockFileEx(h, flags, 0, all, all, new(windows.Overlapped))
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return nil
}
