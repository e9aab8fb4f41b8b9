package auth

import (
	"strings"
	"testing"
	"time"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, email, name string
		wantOK          bool
		wantMsg         string
	}{
		{"", "", "", false, "Enter a password"},
		{"short-one", "", "", false, "at least 12"},
		{"correct horse battery staple", "", "", true, ""},
		{"password1234", "", "", false, "too common"},
		{"Password1234!", "", "", false, "too common"},
		{"monkeymonkeymonkey", "", "", false, "too common"},
		{"123456789012", "", "", false, "too common"},
		{"qwertyuiopas", "", "", false, "too common"},
		{"aaaaaaaaaaaaaaa", "", "", false, "too common"},
		{"sam.jones2026", "sam.jones@example.org", "", false, "email"},
		{"SamanthaJones1", "", "Samantha Jones", false, "name"},
		{"Zoë walks the dog at dawn", "zoe@example.org", "Zoë Ørsted", true, ""},
		{strings.Repeat("x", 257), "", "", false, "256"},
	}
	for _, tt := range tests {
		msg := CheckPassword(tt.pw, tt.email, tt.name)
		if (msg == "") != tt.wantOK || !strings.Contains(msg, tt.wantMsg) {
			t.Errorf("CheckPassword(%q): got %q, want ok=%v containing %q", tt.pw, msg, tt.wantOK, tt.wantMsg)
		}
	}
}

func TestHashAndVerifyPassword(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: got %s", h)
	}
	if strings.Contains(h, "horse") {
		t.Fatal("hash contains the password")
	}
	if !VerifyPassword(h, "correct horse battery staple") {
		t.Fatal("right password rejected")
	}
	if VerifyPassword(h, "correct horse battery stapler") {
		t.Fatal("wrong password accepted")
	}
	if HashPassword("same") == HashPassword("same") {
		t.Fatal("hashes of one password are equal: salt missing")
	}
	if VerifyPassword("garbage", "x") {
		t.Fatal("malformed hash accepted")
	}
}

func TestLockDurationGrowsToTheCap(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for past, w := range want {
		if got := lockDuration(past); got != w {
			t.Errorf("lockDuration(%d): got %v, want %v", past, got, w)
		}
	}
}

func TestNormaliseEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"  Sam@Example.ORG ": true,
		"sam@example":        false,
		"not an email":       false,
		"a b@example.org":    false,
		"sam@example.org":    true,
	} {
		got, ok := NormaliseEmail(in)
		if ok != want {
			t.Errorf("NormaliseEmail(%q): ok %v, want %v", in, ok, want)
		}
		if ok && got != strings.ToLower(strings.TrimSpace(in)) {
			t.Errorf("NormaliseEmail(%q) = %q", in, got)
		}
	}
}
