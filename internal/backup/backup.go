// Package backup copies the embedded stores — the SQLite files of the
// embedded database and the objects of the bucket — to a directory, and
// back into an empty data directory.
//
// A backup is taken while the server runs. The database copy is one
// SQLite read transaction (VACUUM INTO), so it is consistent; the objects
// are copied after it, and only those stored before the copy began. The
// app writes a record before the file it points to, so every object in a
// backup stored before the copy has its record in it; a record whose file
// came later is in the state a crash between the two leaves, which the
// app's reconcilers finish.
//
// Layout of a backup directory:
//
//	MANIFEST.json      what is in it, with a SHA-256 of every file; written last
//	db/<name>.sqlite   the database files
//	objects/<key>      the bucket's objects, as stored (sealed ones stay sealed)
//	secret.key         the data directory's key, when it has one
package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/family-advocacy/lms/internal/blob"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// Layout is the version of the backup directory's layout.
const Layout = 1

const manifestFile = "MANIFEST.json"

// Manifest says what a backup holds.
type Manifest struct {
	Layout     int       `json:"layout"`
	DataFormat int       `json:"data_format"` // of the data directory it came from
	TakenAt    time.Time `json:"taken_at"`    // when the database copy began
	Database   []File    `json:"database"`
	Objects    []Object  `json:"objects"`
	SecretKey  bool      `json:"secret_key"` // secret.key is in the backup
	// Skipped counts objects left out: stored after the database copy
	// began, or deleted before they could be copied.
	Skipped int `json:"skipped_objects"`
}

// File is one database file.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Object is one object of the bucket.
type Object struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	SHA256      string `json:"sha256"`
}

// Workers is how many objects are copied at once.
const Workers = 4

// Take backs up the embedded database in dataDir/db and every object of bs
// into dir, which must be empty or not exist. Progress lines go to out.
func Take(ctx context.Context, dataDir string, dataFormat int, bs *blob.Store, dir string, out io.Writer) (*Manifest, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	m := &Manifest{Layout: Layout, DataFormat: dataFormat}
	dbDir := filepath.Join(dataDir, "db")
	names, err := filepath.Glob(filepath.Join(dbDir, "*.sqlite"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no embedded database in %s: is LMS_DATA_DIR the server's data directory?", dbDir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	m.TakenAt = time.Now().UTC()
	for _, name := range names {
		f, err := copyDatabase(ctx, name, filepath.Join(dir, "db", filepath.Base(name)))
		if err != nil {
			return nil, err
		}
		m.Database = append(m.Database, f)
		fmt.Fprintf(out, "database %s: %.1f MB\n", f.Name, float64(f.Size)/1e6)
	}

	if key, err := os.ReadFile(filepath.Join(dataDir, "secret.key")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "secret.key"), key, 0o600); err != nil {
			return nil, err
		}
		m.SecretKey = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	objects, skipped, err := copyObjects(ctx, bs, m.TakenAt, filepath.Join(dir, "objects"), out)
	if err != nil {
		return nil, err
	}
	m.Objects, m.Skipped = objects, skipped
	if err := writeJSON(filepath.Join(dir, manifestFile), m); err != nil {
		return nil, err
	}
	return m, nil
}

// copyDatabase copies one SQLite file as one read transaction, while the
// server may be writing to it.
func copyDatabase(ctx context.Context, src, dst string) (File, error) {
	conn, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=busy_timeout(30000)")
	if err != nil {
		return File{}, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return File{}, fmt.Errorf("copying the database %s: %w", src, err)
	}
	sum, size, err := hashFile(dst)
	if err != nil {
		return File{}, err
	}
	return File{Name: filepath.Base(src), Size: size, SHA256: sum}, nil
}

// copyObjects copies every object stored before cutoff into dir.
func copyObjects(ctx context.Context, bs *blob.Store, cutoff time.Time, dir string, out io.Writer) ([]Object, int, error) {
	var (
		mu      sync.Mutex
		objects []Object
		skipped int
		done    int
	)
	g, gctx := errgroup.WithContext(ctx)
	keys := make(chan minio.ObjectInfo)
	g.Go(func() error {
		defer close(keys)
		for obj := range bs.Client.ListObjects(gctx, bs.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err != nil {
				return fmt.Errorf("listing the bucket: %w", obj.Err)
			}
			if !obj.LastModified.Before(cutoff) {
				mu.Lock()
				skipped++
				mu.Unlock()
				continue
			}
			select {
			case keys <- obj:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range Workers {
		g.Go(func() error {
			for obj := range keys {
				o, err := copyObject(gctx, bs, obj.Key, dir)
				if errors.Is(err, errGone) {
					mu.Lock()
					skipped++
					mu.Unlock()
					continue
				}
				if err != nil {
					return err
				}
				mu.Lock()
				objects = append(objects, o)
				done++
				if done%1000 == 0 {
					fmt.Fprintf(out, "objects: %d copied\n", done)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	sort.Slice(objects, func(i, j int) bool { return objects[i].Key < objects[j].Key })
	fmt.Fprintf(out, "objects: %d copied, %d newer than the database copy or deleted meanwhile left out\n", len(objects), skipped)
	return objects, skipped, nil
}

var errGone = errors.New("object deleted meanwhile")

func copyObject(ctx context.Context, bs *blob.Store, key, dir string) (Object, error) {
	path, err := objectPath(dir, key)
	if err != nil {
		return Object{}, err
	}
	r, err := bs.Client.GetObject(ctx, bs.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Object{}, fmt.Errorf("reading %s: %w", key, err)
	}
	defer r.Close()
	info, err := r.Stat()
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return Object{}, errGone
	}
	if err != nil {
		return Object{}, fmt.Errorf("reading %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Object{}, err
	}
	sum, size, err := writeHashed(path, r)
	if err != nil {
		return Object{}, fmt.Errorf("copying %s: %w", key, err)
	}
	return Object{Key: key, Size: size, ContentType: info.ContentType, SHA256: sum}, nil
}

// ReadManifest reads and checks a backup's manifest.
func ReadManifest(dir string, dataFormat int) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a finished backup (it has no %s)", dir, manifestFile)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the backup's %s is damaged: %w", manifestFile, err)
	}
	if m.Layout > Layout || m.DataFormat > dataFormat {
		return nil, fmt.Errorf("the backup in %s was taken by a newer version of lms (layout %d, data format %d): restore it with that version", dir, m.Layout, m.DataFormat)
	}
	if len(m.Database) == 0 {
		return nil, fmt.Errorf("the backup in %s holds no database", dir)
	}
	return &m, nil
}

// RestoreFiles copies the backup's database files and secret key into
// dataDir, checking each against the manifest.
func RestoreFiles(m *Manifest, dir, dataDir string) error {
	if err := os.MkdirAll(filepath.Join(dataDir, "db"), 0o700); err != nil {
		return err
	}
	for _, f := range m.Database {
		if f.Name != filepath.Base(f.Name) || !strings.HasSuffix(f.Name, ".sqlite") {
			return fmt.Errorf("the backup names a database file %q", f.Name)
		}
		if err := copyChecked(filepath.Join(dir, "db", f.Name), filepath.Join(dataDir, "db", f.Name), f.SHA256); err != nil {
			return err
		}
		// A WAL left by an earlier, interrupted restore is not this copy's.
		for _, side := range []string{"-wal", "-shm"} {
			_ = os.Remove(filepath.Join(dataDir, "db", f.Name+side))
		}
	}
	if m.SecretKey {
		b, err := os.ReadFile(filepath.Join(dir, "secret.key"))
		if err != nil {
			return fmt.Errorf("the backup's secret.key: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, "secret.key"), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// RestoreObjects puts the backup's objects into bs, checking each against
// the manifest. An object already there with the same size is left (a
// restore that was interrupted is run again).
func RestoreObjects(ctx context.Context, m *Manifest, dir string, bs *blob.Store, out io.Writer) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(Workers)
	var mu sync.Mutex
	done := 0
	for _, o := range m.Objects {
		g.Go(func() error {
			if info, err := bs.Client.StatObject(gctx, bs.Bucket, o.Key, minio.StatObjectOptions{}); err == nil && info.Size == o.Size {
				return nil
			}
			path, err := objectPath(filepath.Join(dir, "objects"), o.Key)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("the backup's copy of %s: %w", o.Key, err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != o.SHA256 {
				return fmt.Errorf("the backup's copy of %s is damaged (its SHA-256 differs from the manifest's)", o.Key)
			}
			if _, err := bs.Client.PutObject(gctx, bs.Bucket, o.Key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{ContentType: o.ContentType}); err != nil {
				return fmt.Errorf("storing %s: %w", o.Key, err)
			}
			mu.Lock()
			done++
			if done%1000 == 0 {
				fmt.Fprintf(out, "objects: %d of %d restored\n", done, len(m.Objects))
			}
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// objectPath is where key lives under dir; keys that would leave dir are
// refused.
func objectPath(dir, key string) (string, error) {
	clean := filepath.ToSlash(filepath.Clean("/" + key))[1:]
	if key == "" || clean != key || strings.Contains(key, `\`) {
		return "", fmt.Errorf("object key %q cannot be a file name", key)
	}
	return filepath.Join(dir, filepath.FromSlash(key)), nil
}

// emptyDir makes sure dir exists and is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty: back up into a new directory", dir)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// writeHashed writes r to path, synced, and returns its SHA-256 and size.
func writeHashed(path string, r io.Reader) (string, int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// copyChecked copies src to dst (through a temporary file renamed into
// place) and checks its SHA-256.
func copyChecked(src, dst, want string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("the backup's %s: %w", filepath.Base(src), err)
	}
	defer in.Close()
	tmp := dst + ".restoring"
	sum, _, err := writeHashed(tmp, in)
	if err != nil {
		return err
	}
	if sum != want {
		_ = os.Remove(tmp)
		return fmt.Errorf("the backup's %s is damaged (its SHA-256 differs from the manifest's)", filepath.Base(src))
	}
	return os.Rename(tmp, dst)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
