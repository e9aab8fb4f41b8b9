//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock takes (or converts to) a shared or exclusive lock on f, saying so
// if it has to wait.
func flock(f *os.File, exclusive bool, what string) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		fmt.Fprintf(os.Stderr, "lmsbench: another run is using %s; waiting to %s it\n", f.Name(), what)
		err = syscall.Flock(int(f.Fd()), how)
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return nil
}
