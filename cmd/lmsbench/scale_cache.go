package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/family-advocacy/lms/internal/store"
)

// scaleVersion names the generator's output: bump it whenever the
// generator changes what it writes, so older caches are not used. The
// store's layout (store.Layout) is part of a cache's name too: a cache made
// before the store changed how it keeps its lists is made again.
const scaleVersion = 3 // 2: course evaluations; 3: their tallies

// scaleCache is one generated organisation kept between runs, in
// <root>/scale-<n>-v<version>-layout<store layout>:
//
//	<dir>/data/       the app's data directory (db/, minio/, secret.key, ...)
//	<dir>/scale.json  what the bench needs to know about it (scaleMeta)
//	<dir>/complete    written last: the generation finished
//	<dir>.lock        taken to use the cache, and alone to make it
type scaleCache struct {
	dir string
	n   int
}

// scaleCacheFor returns the cache of an organisation of n learners: under
// LMSBENCH_CACHE if set, else under $HOME/.cache/lmsbench.
func scaleCacheFor(n int) (scaleCache, error) {
	root := os.Getenv("LMSBENCH_CACHE")
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return scaleCache{}, fmt.Errorf("no cache directory (set LMSBENCH_CACHE): %w", err)
		}
		root = filepath.Join(base, "lmsbench")
	}
	return scaleCache{dir: filepath.Join(root, fmt.Sprintf("scale-%d-v%d-layout%d", n, scaleVersion, store.Layout)), n: n}, nil
}

func (c scaleCache) dataDir() string  { return filepath.Join(c.dir, "data") }
func (c scaleCache) metaFile() string { return filepath.Join(c.dir, "scale.json") }
func (c scaleCache) marker() string   { return filepath.Join(c.dir, "complete") }

// usable returns the cache's description if a finished generation of
// this size and version is in it.
func (c scaleCache) usable() (*scaleMeta, bool) {
	for _, f := range []string{c.marker(), filepath.Join(c.dataDir(), "db"), filepath.Join(c.dataDir(), "minio")} {
		if _, err := os.Stat(f); err != nil {
			return nil, false
		}
	}
	m, err := c.readMeta()
	if err != nil || m.Version != scaleVersion || m.Learners != c.n {
		return nil, false
	}
	return m, true
}

// checkout copies the cached data directory into dst (an empty directory),
// generating it first if the cache has none. A lock file beside the cache
// keeps runs from generating the same cache at once, or one run from
// deleting a cache while another copies it.
func (c scaleCache) checkout(dst string) (*scaleMeta, error) {
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(c.dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close() // and so unlocked
	m, ok := (*scaleMeta)(nil), false
	if err := flock(lock, false, "use"); err != nil {
		return nil, err
	}
	if m, ok = c.usable(); !ok {
		// Generate, unless another run did while this one waited.
		if err := flock(lock, true, "generate"); err != nil {
			return nil, err
		}
		if m, ok = c.usable(); !ok {
			if m, err = generateScale(c); err != nil {
				return nil, err
			}
		}
	} else {
		fmt.Fprintf(os.Stderr, "lmsbench: using the cached organisation of %d learners in %s (generated in %s)\n", c.n, c.dir, m.Took)
	}
	start := time.Now()
	if err := copyTree(c.dataDir(), dst); err != nil {
		return nil, fmt.Errorf("copying the cache: %w", err)
	}
	fmt.Fprintf(os.Stderr, "lmsbench: copied %.2f GB of data in %s\n", float64(m.Bytes)/1e9, time.Since(start).Round(100*time.Millisecond))
	return m, nil
}

// scaleMeta is what the generator records for the bench: when the data
// was made and who the people are whose pages and rights are measured.
type scaleMeta struct {
	Version   int       `json:"version"`
	Learners  int       `json:"learners"`
	Anchor    time.Time `json:"anchor"`     // "now" for the generated history
	Finished  time.Time `json:"finished"`   // the server's clock when generation ended: bench runs start from here
	Took      string    `json:"took"`       // how long generation took
	Documents int       `json:"documents"`  // documents written by the loader
	Bytes     int64     `json:"data_bytes"` // size of the data directory

	MainOrg      string   `json:"main_org"`
	PartnerOrg   string   `json:"partner_org"`
	Admin        string   `json:"admin"`
	Manager      string   `json:"manager"`
	Advocate     string   `json:"advocate"`      // an advocate of the main organisation
	ExportUser   string   `json:"export_user"`   // 5 completed courses with real certificates
	EraseUser    string   `json:"erase_user"`    // the same, to be erased
	Codes        []string `json:"codes"`         // certificate codes to verify
	FileCode     string   `json:"file_code"`     // a certificate whose PDF is stored (the export subject's)
	Writers      []string `json:"writers"`       // learners with 5 untouched enrolments
	SearchWord   string   `json:"search_word"`   // a surname, for the user search
	SearchEmail  string   `json:"search_email"`  // the export subject's address, for the user and outbox filters
	ActorName    string   `json:"actor_name"`    // part of a manager's name, for the audit filter
	OldVersion   string   `json:"old_version"`   // an older course version people completed
	CompletionOf string   `json:"completion_of"` // a course slug for the completions page
}

func (c scaleCache) readMeta() (*scaleMeta, error) {
	b, err := os.ReadFile(c.metaFile())
	if err != nil {
		return nil, err
	}
	var m scaleMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", c.metaFile(), err)
	}
	return &m, nil
}

func (c scaleCache) writeMeta(m *scaleMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.metaFile(), b, 0o600)
}

// copyTree copies the directory src to dst (which must not exist),
// keeping file modes. The cache is only read: every run gets a copy.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			return copyFile(path, to, info.Mode().Perm())
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		}
		return nil // sockets and the like: nothing to keep
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range on Linux
		out.Close()
		return err
	}
	return out.Close()
}

// treeSize returns the bytes of the regular files under dir.
func treeSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// sizeName is how figure names carry the organisation's size: 100k, 10k, 1k.
func sizeName(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
