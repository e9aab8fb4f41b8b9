//go:build unix && !linux

package blob

import (
	"os"
	"syscall"
)

// childProcAttr puts the MinIO child in its own process group, so a
// terminal's Ctrl-C reaches only us. Only Linux can also make it die when
// this process is killed; elsewhere a killed app leaves MinIO running until
// it is stopped by hand (an orderly stop always stops it).
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminate asks the child to stop.
func terminate(p *os.Process) { _ = p.Signal(syscall.SIGTERM) }
