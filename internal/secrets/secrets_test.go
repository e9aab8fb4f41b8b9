package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTripAndContextBinding(t *testing.T) {
	key, _, err := LoadKey("", filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal("001234567890", "dbs:1")
	if strings.Contains(sealed, "001234567890") {
		t.Fatalf("sealed value contains the plaintext: %s", sealed)
	}
	got, err := b.Open(sealed, "dbs:1")
	if err != nil || got != "001234567890" {
		t.Fatalf("Open: got %q, %v; want the plaintext", got, err)
	}
	if _, err := b.Open(sealed, "dbs:2"); err == nil {
		t.Fatal("Open with another context succeeded; want an error")
	}
	if b.Seal("x", "c") == b.Seal("x", "c") {
		t.Fatal("two seals of the same value are equal; want random nonces")
	}
}

func TestLoadKeyCreatesOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, created, err := LoadKey("", path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode: got %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadKey("", path)
	if err != nil || created || string(k1) != string(k2) {
		t.Fatalf("second load: created=%v err=%v same=%v", created, err, string(k1) == string(k2))
	}
	if _, _, err := LoadKey("not base64!", path); err == nil {
		t.Fatal("bad LMS_SECRET_KEY accepted")
	}
}
