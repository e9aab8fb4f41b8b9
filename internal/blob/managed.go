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
	"syscall"
	"time"
)

// ErrNoBinary is returned when the MinIO server binary cannot be found.
var ErrNoBinary = errors.New("MinIO server binary not found: run `make minio` to build ./bin/minio, or set MINIO_ENDPOINT to use an existing server")

// Server is a MinIO server process started and supervised by this process.
type Server struct {
	Endpoint  string // host:port on loopback
	AccessKey string
	SecretKey string

	cmd    *exec.Cmd
	exited chan struct{}
	log    *slog.Logger
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
		s, err := startOnce(ctx, bin, dataDir, creds, log)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOnce(ctx context.Context, bin, dataDir string, creds Credentials, log *slog.Logger) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "server", dataDir,
		"--address", addr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", cport),
		"--quiet", "--anonymous")
	cmd.Env = append(minimalEnv(),
		"MINIO_ROOT_USER="+creds.AccessKey,
		"MINIO_ROOT_PASSWORD="+creds.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	)
	// The child dies with us even if we are killed, and gets its own process
	// group so a terminal's Ctrl-C reaches only us; we stop it ourselves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("object storage: start %s: %w", bin, err)
	}
	s := &Server{Endpoint: addr, AccessKey: creds.AccessKey, SecretKey: creds.SecretKey, cmd: cmd, exited: make(chan struct{}), log: log}
	tail := make(chan string, 1)
	go func() {
		last := ""
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			last = line
			log.Warn("minio", "line", line)
		}
		_, _ = io.Copy(io.Discard, stderr)
		tail <- last
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		s.Stop()
		select {
		case last := <-tail:
			if last != "" {
				err = fmt.Errorf("%w (minio said: %s)", err, last)
			}
		case <-time.After(time.Second):
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + s.Endpoint + "/minio/health/ready"
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.exited:
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

// Stop terminates the server: SIGTERM, then SIGKILL after 1.5 s (MinIO's
// writes are crash-safe, and a stop must finish within 10 s). It waits for
// the process to exit.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(1500 * time.Millisecond):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Exited is closed when the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// PID returns the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

func minimalEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "LANG"} {
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
