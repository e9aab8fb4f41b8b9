package secrets

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func mustFiles(tb testing.TB) *Files {
	tb.Helper()
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	b, err := NewBox(key)
	if err != nil {
		tb.Fatal(err)
	}
	return b.Files()
}

func seal(tb testing.TB, f *Files, key, ct string, pt []byte) []byte {
	tb.Helper()
	r, n, err := f.Seal(key, ct, bytes.NewReader(pt), int64(len(pt)))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(len(b)) != n {
		tb.Fatalf("sealed size: got %d, want %d as announced", len(b), n)
	}
	return b
}

func open(f *Files, key string, sealed []byte) ([]byte, string, error) {
	r, ct, n, err := f.Open(key, bytes.NewReader(sealed), int64(len(sealed)))
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(r)
	if err == nil && int64(len(b)) != n {
		return nil, "", errors.New("size announced by Open differs from the plaintext")
	}
	return b, ct, err
}

func TestFilesRoundTripAtChunkBoundaries(t *testing.T) {
	f := mustFiles(t)
	for _, n := range []int{0, 1, fileChunk - 1, fileChunk, fileChunk + 1, 3*fileChunk + 17} {
		pt := make([]byte, n)
		_, _ = rand.Read(pt)
		sealed := seal(t, f, "evidence/a/1", "application/pdf", pt)
		if !IsSealedFile(sealed) {
			t.Fatalf("%d bytes: no header", n)
		}
		if n >= 16 && bytes.Contains(sealed, pt[:16]) {
			t.Fatalf("%d bytes: the sealed file holds the plaintext", n)
		}
		got, ct, err := open(f, "evidence/a/1", sealed)
		if err != nil || !bytes.Equal(got, pt) || ct != "application/pdf" {
			t.Fatalf("%d bytes: got %d bytes, %q, %v; want the plaintext", n, len(got), ct, err)
		}
	}
}

func TestFilesRefuseAnotherKeyTamperingAndTruncation(t *testing.T) {
	f := mustFiles(t)
	pt := bytes.Repeat([]byte("certificate 001234567890 "), 6000) // three chunks
	sealed := seal(t, f, "dbs-scans/a/1", "image/png", pt)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	cases := map[string]struct {
		key    string
		sealed []byte
	}{
		"AnotherObjectKey":     {"dbs-scans/a/2", sealed},
		"AnotherSecretKey":     {"dbs-scans/a/1", nil},
		"NonceChanged":         {"dbs-scans/a/1", flip(6)},
		"ContentTypeChanged":   {"dbs-scans/a/1", flip(fileFixed + 2)},
		"FirstChunkChanged":    {"dbs-scans/a/1", flip(fileFixed + 20)},
		"LastChunkChanged":     {"dbs-scans/a/1", flip(len(sealed) - 1)},
		"TruncatedAtAChunk":    {"dbs-scans/a/1", sealed[:fileFixed+len("image/png")+fileChunk+fileTag]},
		"TruncatedMidChunk":    {"dbs-scans/a/1", sealed[:len(sealed)-100]},
		"HeaderOnly":           {"dbs-scans/a/1", sealed[:fileFixed+len("image/png")]},
		"ChunksSwappedInPlace": {"dbs-scans/a/1", swapChunks(sealed, fileFixed+len("image/png"))},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ff := f
			if c.sealed == nil {
				c.sealed, ff = sealed, mustFiles(t)
			}
			if got, _, err := open(ff, c.key, c.sealed); err == nil {
				t.Fatalf("opened (%d bytes); want an error", len(got))
			}
		})
	}
	if _, _, err := open(f, "dbs-scans/a/1", []byte("%PDF-1.4 plain")); err == nil {
		t.Fatal("a plain file opened as sealed")
	}
}

// swapChunks swaps the first two chunks of a sealed file whose header is
// hdr bytes long.
func swapChunks(sealed []byte, hdr int) []byte {
	b := bytes.Clone(sealed)
	c := fileChunk + fileTag
	first := bytes.Clone(b[hdr : hdr+c])
	copy(b[hdr:], b[hdr+c:hdr+2*c])
	copy(b[hdr+c:], first)
	return b
}

func TestFilesKeyIsApartFromTheFieldKey(t *testing.T) {
	key := make([]byte, KeySize)
	b, _ := NewBox(key)
	if bytes.Equal(b.Files().key, key) || bytes.Equal(b.Files().key, derive(key, "lms field encryption v1")) || bytes.Equal(b.Files().key, b.mac) {
		t.Fatal("the files key is the secret key or another purpose's key")
	}
}
