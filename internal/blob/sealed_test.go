package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"testing"

	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func mustSealed(tb testing.TB) (*blob.Sealed, *blob.Store) {
	tb.Helper()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		tb.Fatal(err)
	}
	env := testenv.New(tb)
	return blob.NewSealed(env.Blob, box.Files()), env.Blob
}

// reader returns a function that reads what an Open returns, whole.
func reader(tb testing.TB) func(io.ReadCloser, int64, error) []byte {
	return func(r io.ReadCloser, size int64, err error) []byte {
		tb.Helper()
		return readAll(tb, r, size, err)
	}
}

func readAll(tb testing.TB, r io.ReadCloser, size int64, err error) []byte {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(len(b)) != size {
		tb.Fatalf("read %d bytes; Open said %d", len(b), size)
	}
	return b
}

func TestSealedStoresCiphertextAndOpensPlaintext(t *testing.T) {
	s, raw := mustSealed(t)
	ctx := context.Background()
	read := reader(t)
	data := append([]byte("%PDF-1.4 needle-sealed-7781 "), make([]byte, 200<<10)...)
	if err := s.Put(ctx, "evidence/a/1", bytes.NewReader(data), int64(len(data)), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	stored := read(raw.Open(ctx, "evidence/a/1"))
	if bytes.Contains(stored, []byte("needle-sealed-7781")) || !secrets.IsSealedFile(stored) {
		t.Fatal("the object is stored in plain")
	}
	for _, legacy := range []bool{false, true} {
		if got := read(s.Open(ctx, "evidence/a/1", legacy)); !bytes.Equal(got, data) {
			t.Fatalf("legacy %v: got %d bytes, want the %d stored", legacy, len(got), len(data))
		}
	}
	if _, _, err := s.Open(ctx, "evidence/a/missing", true); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("missing key: got %v, want ENOTFOUND", err)
	}
	// Copied under another key, it does not open.
	if err := raw.Put(ctx, "evidence/a/2", bytes.NewReader(stored), int64(len(stored)), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(ctx, "evidence/a/2", true); err == nil {
		t.Fatal("an object copied under another key opened")
	}
}

func TestSealedPlainObjectsOpenOnlyAsLegacyAndSealInPlace(t *testing.T) {
	s, raw := mustSealed(t)
	ctx := context.Background()
	read := reader(t)
	plain := []byte("\x89PNG needle-plain-9902")
	if err := raw.Put(ctx, "dbs-scans/a/1", bytes.NewReader(plain), int64(len(plain)), "image/png"); err != nil {
		t.Fatal(err)
	}
	if got := read(s.Open(ctx, "dbs-scans/a/1", true)); !bytes.Equal(got, plain) {
		t.Fatal("a plain object does not open as legacy")
	}
	if _, _, err := s.Open(ctx, "dbs-scans/a/1", false); err == nil {
		t.Fatal("a plain object opened where a sealed one is expected")
	}
	for i, want := range []bool{true, true} { // sealing twice: the second finds it sealed
		if ok, err := s.SealLegacy(ctx, "dbs-scans/a/1"); err != nil || ok != want {
			t.Fatalf("SealLegacy #%d: %v, %v", i+1, ok, err)
		}
	}
	if stored := read(raw.Open(ctx, "dbs-scans/a/1")); bytes.Contains(stored, []byte("needle-plain-9902")) {
		t.Fatal("still plain after SealLegacy")
	}
	if got := read(s.Open(ctx, "dbs-scans/a/1", false)); !bytes.Equal(got, plain) {
		t.Fatal("the sealed object does not open to the original")
	}
	if ok, err := s.SealLegacy(ctx, "dbs-scans/a/missing"); ok || err != nil {
		t.Fatalf("SealLegacy of a missing key: %v, %v; want false, nil", ok, err)
	}
}
