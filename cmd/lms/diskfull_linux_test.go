//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/testenv"
)

// TestReadyzFailsWhileTheDiskIsFull runs the server on a small file system
// of its own (a tmpfs, so mounting needs root), fills it, and sees /readyz
// say the database has no room, then recover once space is freed.
func TestReadyzFailsWhileTheDiskIsFull(t *testing.T) {
	if os.Geteuid() != 0 {
		// CI runs .ci/run as root, so there this test always runs.
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but not root: mounting the tmpfs this test fills needs root")
		}
		t.Skip("skipped: needs root to mount a small tmpfs; run as root (as CI does) to check /readyz with the disk full")
	}
	dataDir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1200m", "tmpfs", dataDir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs for the data directory: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dataDir).Run() })

	addr := freeAddr(t)
	base := "http://" + addr
	p := start(t, testenv.RepoRoot(), "LMS_ADDR="+addr, "LMS_DATA_DIR="+dataDir)
	waitReady(t, p, base)

	// Fill what is left, bar a few kilobytes.
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dataDir, &fs); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dataDir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(fs.Bavail)*fs.Bsize-64<<10); err != nil {
		t.Fatalf("fill the disk: %v", err)
	}
	f.Close()

	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := get(t, base+"/readyz")
		if status == 503 && strings.Contains(body, "database: no room left") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the disk full: %d %q; want 503 saying the database has no room", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		status, body := get(t, base+"/readyz")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after freeing space: %d %q; want 200", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
}
