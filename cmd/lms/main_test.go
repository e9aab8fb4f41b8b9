package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/testenv"
)

var lmsBin string

// TestMain builds the real binary once; the tests run it as a process.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lms-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lmsBin = filepath.Join(dir, "lms")
	out, err := exec.Command("go", "build", "-o", lmsBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build lms: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running lms process.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// start runs `lms serve` in dir with exactly the given environment.
func start(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan error, 1)}
	p.cmd = exec.Command(lmsBin, "serve")
	p.cmd.Dir = dir
	p.cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, env...)
	p.cmd.Stdout = p
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("lms output:\n%s", p.output())
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code and how long it took.
func (p *proc) wait(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	begin := time.Now()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), time.Since(begin)
	case <-time.After(limit):
		t.Fatalf("lms did not exit within %s", limit)
		return -1, 0
	}
}

func waitReady(t *testing.T, p *proc, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("lms exited during start-up:\n%s", p.output())
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready within 90 s:\n%s", p.output())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// minioPIDs lists running minio processes serving under dataDir.
func minioPIDs(dataDir string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		c := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		if strings.Contains(c, "minio") && strings.Contains(c, dataDir) {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
				continue // a zombie is already dead
			}
			pids = append(pids, e.Name())
		}
	}
	return pids
}

var installationRE = regexp.MustCompile(`installation=([0-9a-f]+)`)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeOnEmbeddedStoresRestartsOnSameDataAndStopsCleanly(t *testing.T) {
	root := testenv.RepoRoot()
	if _, err := os.Stat(filepath.Join(root, "bin", "minio")); err != nil {
		t.Fatalf("bin/minio missing: run `make minio` first")
	}
	dataDir := t.TempDir()
	var firstInstallation, firstCreds string
	for run := 1; run <= 2; run++ {
		addr := freeAddr(t)
		p := start(t, root, "LMS_ADDR="+addr, "LMS_DATA_DIR="+dataDir)
		base := "http://" + addr
		waitReady(t, p, base)

		status, body := get(t, base+"/")
		if status != 200 || !strings.Contains(body, "Learning and standards") {
			t.Fatalf("run %d: GET /: status %d, want 200 with the home page", run, status)
		}
		if status, body := get(t, base+"/readyz"); status != 200 {
			t.Fatalf("run %d: /readyz: %d %s", run, status, body)
		}
		creds, err := os.ReadFile(filepath.Join(dataDir, "minio-credentials.json"))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(filepath.Join(dataDir, "minio-credentials.json")); st.Mode().Perm() != 0o600 {
			t.Errorf("credentials file mode: got %v, want 0600", st.Mode().Perm())
		}
		m := installationRE.FindStringSubmatch(p.output())
		if m == nil {
			t.Fatalf("run %d: no installation id in the log", run)
		}
		if run == 1 {
			firstInstallation, firstCreds = m[1], string(creds)
		} else {
			if m[1] != firstInstallation {
				t.Errorf("installation after restart: got %s, want %s (same database)", m[1], firstInstallation)
			}
			if string(creds) != firstCreds {
				t.Errorf("MinIO credentials changed after restart")
			}
		}
		if pids := minioPIDs(dataDir); len(pids) != 1 {
			t.Fatalf("run %d: minio processes for this data dir: got %v, want exactly one", run, pids)
		}

		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		code, took := p.wait(t, 15*time.Second)
		if code != 0 || took > 10*time.Second {
			t.Fatalf("run %d: SIGTERM: exit %d after %s, want 0 within 10 s", run, code, took)
		}
		if pids := minioPIDs(dataDir); len(pids) != 0 {
			t.Fatalf("run %d: minio left running after exit: %v", run, pids)
		}
		hint := strings.Contains(p.output(), "no administrator account exists; create one with: lms users create")
		if run == 1 {
			if !hint {
				t.Fatalf("run 1: no hint about creating the first admin")
			}
			// Create the first admin between the runs.
			cmd := exec.Command(lmsBin, "users", "create", "--email", "first.admin@example.org", "--name", "First Admin", "--role", "admin")
			cmd.Dir = root
			cmd.Env = []string{"PATH=/usr/bin:/bin", "LMS_DATA_DIR=" + dataDir}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Created First Admin <first.admin@example.org> with roles Learner, Administrator") || !strings.Contains(string(out), "Password (shown once") {
				t.Fatalf("users create: %v\n%s", err, out)
			}
		} else if hint {
			t.Fatalf("run 2: still asks for an admin after one was created")
		}
	}
}

// lastLines returns the lines lms printed that are not log records.
func errorLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "lms:") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestStartupFailuresGiveOneReadableLine(t *testing.T) {
	root := testenv.RepoRoot()
	// A data directory that has run once, then had its database damaged:
	// pages in the middle of the file overwritten, as a failing disk does.
	used := t.TempDir()
	addr := freeAddr(t)
	p := start(t, root, "LMS_ADDR="+addr, "LMS_DATA_DIR="+used)
	waitReady(t, p, "http://"+addr)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("stopping the first run: exit %d", code)
	}
	damage := func(dir string) {
		f, err := os.OpenFile(filepath.Join(used, "db", "lms.sqlite"), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 64<<10), 3*4096); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.CopyFS(dir, os.DirFS(used)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		dir     string
		env     []string
		dataDir string           // default: a new temporary directory
		prepare func(dir string) // fills the data directory first
		want    string
	}{
		{name: "UnreachableMongoDB", dir: root, env: []string{"MONGODB_URI=mongodb://127.0.0.1:1"}, want: "lms: cannot reach MongoDB at mongodb://127.0.0.1:1"},
		{name: "UnreachableMinio", dir: root, env: []string{"MINIO_ENDPOINT=127.0.0.1:1", "MINIO_ACCESS_KEY=a", "MINIO_SECRET_KEY=b"}, want: "lms: cannot reach object storage at 127.0.0.1:1"},
		{name: "MissingMinioBinary", dir: t.TempDir(), want: "lms: MinIO server binary not found: run `make minio`"},
		// sysfs refuses new directories to everyone, root included.
		{name: "ReadOnlyDataDir", dir: root, dataDir: "/sys/lms-data", want: "lms: the data directory /sys/lms-data is read-only or this user may not write to it"},
		{name: "NewerDataFormat", dir: root, prepare: func(dir string) {
			if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("2\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "lms: the data directory %s was written by a newer version of lms (data format 2; this version reads format 1)"},
		{name: "DamagedDatabase", dir: root, prepare: damage, want: "lms: the embedded database in %s/db is damaged"},
		{name: "MinioDriveUnusable", dir: root, prepare: func(dir string) {
			sys := filepath.Join(dir, "minio", ".minio.sys")
			if err := os.MkdirAll(sys, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sys, "format.json"), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "lms: object storage: the MinIO server exited during start-up (minio said: FATAL Unable to use the drive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := tc.dataDir
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			if tc.prepare != nil {
				tc.prepare(dataDir)
			}
			if strings.Contains(tc.want, "%s") {
				tc.want = fmt.Sprintf(tc.want, dataDir)
			}
			env := append([]string{"LMS_ADDR=" + freeAddr(t), "LMS_DATA_DIR=" + dataDir}, tc.env...)
			p := start(t, tc.dir, env...)
			code, took := p.wait(t, 35*time.Second)
			out := p.output()
			if code == 0 || took > 30*time.Second {
				t.Fatalf("exit %d after %s; want non-zero within 30 s", code, took)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
				t.Fatalf("output has a stack trace:\n%s", out)
			}
			lines := errorLines(out)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Fatalf("error lines: got %q, want one starting %q", lines, tc.want)
			}
			// Nothing else shouts: MinIO's start-up chatter stays at DEBUG.
			if n := strings.Count(out, "level=WARN") + strings.Count(out, "level=ERROR"); n > 0 {
				t.Fatalf("%d warnings besides the error line:\n%s", n, out)
			}
			if pids := minioPIDs(dataDir); len(pids) != 0 {
				t.Fatalf("minio left running after a failed start: %v", pids)
			}
		})
	}
}

func TestCoursesValidate(t *testing.T) {
	root := testenv.RepoRoot()
	run := func(args ...string) (string, int) {
		cmd := exec.Command(lmsBin, args...)
		cmd.Dir = root
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	t.Run("TheCatalogueHasNoErrorsOrWarnings", func(t *testing.T) {
		out, code := run("courses", "validate", "content/courses")
		if code != 0 || !strings.Contains(out, "6 course(s) valid, 0 error(s), 0 warning(s)") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("DueListsCoursesPastTheirReviewAndPendingPoints", func(t *testing.T) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "sample-course")
		if err := os.CopyFS(dst, os.DirFS(filepath.Join(root, "courses", "testdata", "sample-course"))); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dst, "course.yaml"))
		os.WriteFile(filepath.Join(dst, "course.yaml"), append(b, "reviewed_by: Fay Lawyer\nreviewed_on: 2025-01-10\nowner: content@example.org\n"...), 0o644)
		b, _ = os.ReadFile(filepath.Join(dst, "02-second-steps.md"))
		os.WriteFile(filepath.Join(dst, "02-second-steps.md"), []byte(strings.Replace(string(b), "\n---\n", "\n---\n<!-- pending-commencement: Sample Act 2026 s4 -->\n", 1)), 0o644)
		out, code := run("courses", "validate", "--due", "--on", "2026-12-06", dir)
		for _, want := range []string{
			"1 course(s) valid, 0 error(s)",
			"review: sample-course: past its review date, 2026-01-10 (330 days ago); last checked: Fay Lawyer on 2025-01-10",
			"pending: " + dir + "/sample-course/02-second-steps.md:7: Sample Act 2026 s4",
			"1 course(s) due for review by 2027-01-05, 1 pending-commencement point(s)",
		} {
			if code != 0 || !strings.Contains(out, want) {
				t.Fatalf("exit %d; want %q in:\n%s", code, want, out)
			}
		}
		// Reviewed recently: not listed.
		if out, _ := run("courses", "validate", "--due", "--on", "2025-06-01", dir); strings.Contains(out, "review: ") {
			t.Fatalf("a course reviewed five months ago is listed:\n%s", out)
		}
	})
	t.Run("ABrokenCourseFailsWithFileAndLine", func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(root, "courses", "testdata", "sample-course")
		dst := filepath.Join(dir, "sample-course")
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dst, "assessment.yaml"))
		os.WriteFile(filepath.Join(dst, "assessment.yaml"), []byte(strings.Replace(string(b), "id: s2", "id: s1", 1)), 0o644)
		out, code := run("courses", "validate", dir)
		if code != 1 || !strings.Contains(out, dir+"/sample-course/assessment.yaml:16: error: question s1: duplicate id") || !strings.Contains(out, "warning: lesson has 56 words") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		// The server refuses to start on it, saying why, before starting anything.
		p := start(t, root, "LMS_COURSES_DIR="+dir, "LMS_ADDR="+freeAddr(t), "LMS_DATA_DIR="+t.TempDir())
		code, _ = p.wait(t, 30*time.Second)
		lines := errorLines(p.output())
		if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "the course catalogue has 1 problem(s)") || !strings.Contains(lines[0], "duplicate id") {
			t.Fatalf("serve on a broken catalogue: exit %d, %q", code, lines)
		}
	})
}
