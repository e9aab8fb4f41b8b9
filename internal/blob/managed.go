package blob

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoBinary is returned when the MinIO server binary cannot be found.
var ErrNoBinary = errors.New("MinIO server binary not found: run `make minio` to build ./bin/minio, or set MINIO_ENDPOINT to use an existing server")

// Server is a MinIO server process started by this process. Supervise
// restarts it whenever it exits.
type Server struct {
	Endpoint  string // host:port on loopback; the same across restarts
	AccessKey string
	SecretKey string

	bin, dataDir string
	log          *slog.Logger

	mu         sync.Mutex
	cmd        *exec.Cmd     // the current child
	exited     chan struct{} // closed when the current child has exited
	restarting bool
	stopped    bool
}

// Credentials are the managed server's root keys, kept in the data dir.
type Credentials struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// FindBinary returns the path of the MinIO server: explicit when set, else
// ./bin/minio, else minio on PATH.
func FindBinary(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("LMS_MINIO_BIN=%s: %w", explicit, ErrNoBinary)
		}
		return explicit, nil
	}
	if st, err := os.Stat(filepath.Join("bin", "minio")); err == nil && !st.IsDir() {
		return filepath.Abs(filepath.Join("bin", "minio"))
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", ErrNoBinary
}

// LoadOrCreateCredentials reads the root keys from path, creating them (mode
// 0600) on first use.
func LoadOrCreateCredentials(path string) (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
			return c, fmt.Errorf("object storage credentials %s are unreadable; delete the file to generate new ones (data stored with the old ones will be unreachable)", path)
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	c = Credentials{AccessKey: "lms" + randomHex(8), SecretKey: randomHex(24)}
	b, _ = json.Marshal(c)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return c, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return c, err
	}
	return c, nil
}

// StartServer starts bin serving dataDir on a random loopback port with the
// given root keys, and waits until it reports healthy. On any failure the
// process is stopped before returning.
func StartServer(ctx context.Context, bin, dataDir string, creds Credentials, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("object storage: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Endpoint: fmt.Sprintf("127.0.0.1:%d", port), AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
			bin: bin, dataDir: dataDir, log: log}
		if lastErr = s.start(ctx); lastErr == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// start starts a child on s.Endpoint and waits until it is healthy.
func (s *Server) start(ctx context.Context) error {
	cport, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "server", s.dataDir,
		"--address", s.Endpoint,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", cport),
		"--quiet", "--anonymous")
	cmd.Env = append(minimalEnv(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	)
	// Where the system allows, the child dies with us even if we are killed,
	// and gets its own process group so a terminal's Ctrl-C reaches only us;
	// we stop it ourselves (see procattr_*.go).
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("object storage: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	// Until it is healthy, what MinIO prints is detail (a failed start can
	// print pages of it): kept at DEBUG, and the line that says why — its
	// first FATAL or ERROR line, else its last — goes into the error.
	// Once it serves, anything it prints is worth a warning.
	var serving atomic.Bool
	tail := make(chan string, 1)
	go func() {
		last, why := "", ""
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			last = line
			if why == "" && (strings.Contains(line, "FATAL") || strings.Contains(line, "ERROR")) {
				why = line
			}
			if serving.Load() {
				s.log.Warn("minio", "line", line)
			} else {
				s.log.Debug("minio", "line", line)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		if why == "" {
			why = last
		}
		tail <- why
	}()
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := s.waitHealthy(ctx, exited, 60*time.Second); err != nil {
		s.Stop()
		select {
		case last := <-tail:
			if last != "" {
				err = fmt.Errorf("%w (minio said: %s)", err, last)
			}
		case <-time.After(time.Second):
		}
		return err
	}
	serving.Store(true)
	return nil
}

func (s *Server) waitHealthy(ctx context.Context, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + s.Endpoint + "/minio/health/ready"
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("object storage: the MinIO server exited during start-up")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("object storage: the MinIO server did not become healthy within %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Supervision: how a child that exits is restarted.
const (
	restartFirstWait = 250 * time.Millisecond
	restartMaxWait   = 10 * time.Second
	// A child that served this long counts as healthy: the next exit
	// starts the back-off again.
	restartStable = time.Minute
	// MaxRestartFailures is how many restarts in a row may fail (the child
	// does not become healthy, or exits again within restartStable) before
	// Supervise gives up.
	MaxRestartFailures = 5
)

// ErrStorageFailing is returned by Supervise when the MinIO server keeps
// failing: the process should exit so that its service manager restarts it.
var ErrStorageFailing = errors.New("object storage: the managed MinIO server keeps exiting and could not be restarted; see the MinIO lines above")

// Supervise restarts the server whenever it exits, with back-off, logging
// each restart, until ctx ends (it returns nil then, leaving the server to
// Stop). After MaxRestartFailures failed restarts in a row it returns
// ErrStorageFailing.
func (s *Server) Supervise(ctx context.Context) error {
	failures, wait := 0, restartFirstWait
	startedAt := time.Now()
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-exited:
		}
		if s.isStopped() {
			return nil
		}
		code := -1
		if st := s.processState(); st != nil {
			code = st.ExitCode()
		}
		s.setRestarting(true)
		if time.Since(startedAt) >= restartStable {
			failures, wait = 0, restartFirstWait
		}
		for {
			failures++
			if failures > MaxRestartFailures {
				s.log.Error("the MinIO server keeps failing; stopping so the service manager can restart the app", "failures", failures-1)
				return ErrStorageFailing
			}
			s.log.Warn("the MinIO server exited; restarting it", "exit_code", code, "attempt", failures, "in", wait.String())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(wait*2, restartMaxWait)
			err := s.start(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				break
			}
			s.log.Warn("restarting the MinIO server failed", "attempt", failures, "err", err)
		}
		startedAt = time.Now()
		s.setRestarting(false)
		s.log.Info("the MinIO server is running again", "endpoint", s.Endpoint, "pid", s.PID())
	}
}

// Restarting reports whether the server is down and being restarted.
func (s *Server) Restarting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarting
}

func (s *Server) setRestarting(v bool) {
	s.mu.Lock()
	s.restarting = v
	s.mu.Unlock()
}

func (s *Server) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

func (s *Server) processState() *os.ProcessState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.ProcessState
}

// Stop terminates the server for good: SIGTERM, then SIGKILL after 1.5 s
// (MinIO's writes are crash-safe, and a stop must finish within 10 s). It
// waits for the process to exit; Supervise does not restart it.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.stopped = true
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	terminate(cmd.Process)
	select {
	case <-exited:
	case <-time.After(1500 * time.Millisecond):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Exited is closed when the current server process has exited.
func (s *Server) Exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited
}

// PID returns the current server process's id.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

func minimalEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
