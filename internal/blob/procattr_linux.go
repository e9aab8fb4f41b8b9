package blob

import (
	"os"
	"syscall"
)

// childProcAttr makes the MinIO child die with this process, even when it
// is killed, and puts it in its own process group, so a terminal's Ctrl-C
// reaches only us.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// terminate asks the child to stop.
func terminate(p *os.Process) { _ = p.Signal(syscall.SIGTERM) }
