package blob

import (
	"os"
	"syscall"
)

// childProcAttr: Windows has no parent-death signal or process groups of
// this kind; the app stops MinIO itself on an orderly stop.
func childProcAttr() *syscall.SysProcAttr { return nil }

// terminate stops the child (Windows cannot deliver SIGTERM).
func terminate(p *os.Process) { _ = p.Kill() }
