// Package testenv is the shared test harness: one embedded FerretDB and one
// MinIO server per test binary, started on first use, and a fresh database
// and bucket for every test. Nothing is mocked.
//
// Every package that uses it has
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/store"
)

var shared struct {
	mu      sync.Mutex
	dir     string
	ferret  *store.Embedded
	minio   *blob.Server
	dbErr   error
	blobErr error
}

// Main runs the tests and stops the shared servers afterwards. Every
// command the tests' databases were sent is checked by store.CheckQuery:
// a query that is neither a point operation, nor a read of a bounded
// collection, nor served by a declared index fails the run.
func Main(m *testing.M) int {
	code := m.Run()
	if bad := badQueries(); len(bad) > 0 {
		fmt.Fprintln(os.Stderr, "testenv: these queries would scan a collection that grows with people or time (see internal/store/indexes.go):")
		for _, b := range bad {
			fmt.Fprintln(os.Stderr, "  "+b)
		}
		if code == 0 {
			code = 1
		}
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.minio != nil {
		shared.minio.Stop()
	}
	if shared.ferret != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		shared.ferret.Stop(ctx)
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

func sharedDir() (string, error) {
	if shared.dir == "" {
		d, err := os.MkdirTemp("", "lms-test-")
		if err != nil {
			return "", err
		}
		shared.dir = d
	}
	return shared.dir, nil
}

// Logger returns a logger that writes to the test log.
func Logger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// MongoURI returns the URI of the shared embedded FerretDB, starting it on
// first use.
func MongoURI(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ferret == nil && shared.dbErr == nil {
		dir, err := sharedDir()
		if err == nil {
			quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
			shared.ferret, err = store.StartEmbedded(filepath.Join(dir, "db"), quiet)
		}
		shared.dbErr = err
	}
	if shared.dbErr != nil {
		tb.Fatalf("embedded FerretDB: %v", shared.dbErr)
	}
	return shared.ferret.URI
}

// Minio returns the shared MinIO server, starting it on first use.
func Minio(tb testing.TB) *blob.Server {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.minio == nil && shared.blobErr == nil {
		shared.blobErr = startMinio()
	}
	if shared.blobErr != nil {
		tb.Fatalf("MinIO: %v", shared.blobErr)
	}
	return shared.minio
}

func startMinio() error {
	dir, err := sharedDir()
	if err != nil {
		return err
	}
	bin := filepath.Join(RepoRoot(), "bin", "minio")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s is missing: run `make minio` (make test does this first)", bin)
	}
	creds := blob.Credentials{AccessKey: "test" + RandomHex(6), SecretKey: RandomHex(20)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	shared.minio, err = blob.StartServer(context.Background(), bin, filepath.Join(dir, "minio"), creds, quiet)
	return err
}

// Env is one test's own database and bucket on the shared servers.
type Env struct {
	DB     *store.DB
	Blob   *blob.Store
	DBName string
	Bucket string

	MongoURI       string
	MinioEndpoint  string
	MinioAccessKey string
	MinioSecretKey string
}

// MongoDBEnv names the variable that points the tests at a MongoDB server
// instead of the embedded FerretDB (make test-store MONGODB_URI=…).
const MongoDBEnv = "LMS_TEST_MONGODB_URI"

// OnMongoDB reports whether the tests run against a MongoDB server.
func OnMongoDB() bool { return os.Getenv(MongoDBEnv) != "" }

// New returns a fresh database and bucket for the test, dropped when it ends.
func New(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	uri := os.Getenv(MongoDBEnv)
	if uri == "" {
		uri = MongoURI(tb)
	}
	srv := Minio(tb)
	e := &Env{
		DBName:         "t_" + RandomHex(6),
		Bucket:         "t-" + RandomHex(6),
		MongoURI:       uri,
		MinioEndpoint:  srv.Endpoint,
		MinioAccessKey: srv.AccessKey,
		MinioSecretKey: srv.SecretKey,
	}
	// With the SQLite directory, the store behaves as it does embedded in
	// the app: writes take turns, _id indexes, Compact.
	opts := store.ConnectOptions{Monitor: queryMonitor}
	if !OnMongoDB() {
		opts.SQLiteDir = DataDir(tb)
	}
	db, err := store.ConnectWith(ctx, uri, e.DBName, opts)
	if err != nil {
		tb.Fatalf("connect to the database: %v", err)
	}
	if OnMongoDB() {
		if err := db.EnsureSchema(ctx); err != nil {
			tb.Fatalf("schema on MongoDB: %v", err)
		}
	}
	e.DB = db
	b, err := blob.Open(ctx, srv.Endpoint, srv.AccessKey, srv.SecretKey, false, e.Bucket)
	if err != nil {
		tb.Fatalf("open MinIO bucket: %v", err)
	}
	e.Blob = b
	tb.Cleanup(func() {
		_ = db.DB.Drop(context.Background())
		db.Close(context.Background())
	})
	return e
}

// DataDir returns the directory holding the shared FerretDB's SQLite files.
// A test that needs them is skipped when the tests run on MongoDB.
func DataDir(tb testing.TB) string {
	tb.Helper()
	if OnMongoDB() {
		tb.Skipf("skipped: reads the embedded database's files, and %s points the tests at MongoDB", MongoDBEnv)
	}
	MongoURI(tb)
	return filepath.Join(shared.dir, "db")
}

// RepoRoot returns the module's root directory (where go.mod is).
func RepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// RandomHex returns 2n random hex characters.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// GrepDataDir searches every file of the shared FerretDB's SQLite data
// (including its write-ahead log) for each needle, after a checkpoint, and
// returns the needles found.
func GrepDataDir(tb testing.TB, needles []string) []string {
	tb.Helper()
	dir := DataDir(tb)
	var found []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var all []byte
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	for _, n := range needles {
		if n != "" && strings.Contains(string(all), n) {
			found = append(found, n)
		}
	}
	return found
}

// MinioDataDir returns the directory the shared MinIO server keeps its
// objects in.
func MinioDataDir(tb testing.TB) string {
	tb.Helper()
	Minio(tb)
	return filepath.Join(shared.dir, "minio")
}

// GrepMinioDir searches every file under the shared MinIO server's data
// directory (every bucket, and MinIO's own files) for each needle, and
// returns the needles found.
func GrepMinioDir(tb testing.TB, needles []string) []string {
	tb.Helper()
	var found []string
	seen := map[string]bool{}
	err := filepath.WalkDir(MinioDataDir(tb), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) { // removed meanwhile (a temporary file)
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range needles {
			if n != "" && !seen[n] && strings.Contains(string(b), n) {
				seen[n] = true
				found = append(found, n)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return found
}

// NeedCommand makes sure the command name (from the Debian package pkg) is
// on PATH; see missing for what happens when it is not.
func NeedCommand(tb testing.TB, name, pkg string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		missing(tb, name, pkg)
	}
}

// missing fails the test when CI=true (.ci/run installs every tool, so a
// missing one is a defect there) and skips it elsewhere, saying how to
// install what is missing.
func missing(tb testing.TB, what, pkg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is missing (CI=true): .ci/run must install the Debian package %s", what, pkg)
	}
	tb.Skipf("skipped: %s is missing; install it with `sudo apt-get install -y %s`", what, pkg)
}
