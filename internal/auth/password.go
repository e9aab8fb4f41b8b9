package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 12

//go:embed common-passwords.txt
var commonPasswordsText []byte

var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 8000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[w] = struct{}{}
		}
	}
	return m
}()

// CheckPassword returns a message for the user when the password is not
// acceptable, or "" when it is. email and name, when known, must not be the
// substance of the password.
func CheckPassword(pw, email, name string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return "Enter a password"
	case n < MinPasswordLength:
		return fmt.Sprintf("Password must be at least %d characters – a few unrelated words make a good one", MinPasswordLength)
	case n > 256:
		return "Password must be 256 characters or fewer"
	}
	if isCommonPassword(pw) {
		return "This password is too common and easy to guess; choose another"
	}
	low := strings.ToLower(pw)
	if local, _, ok := strings.Cut(email, "@"); ok && len(local) >= 4 && strings.Contains(low, local) && utf8.RuneCountInString(strings.ReplaceAll(low, local, "")) < 8 {
		return "Password must not be based on your email address"
	}
	if nm := strings.ToLower(strings.ReplaceAll(name, " ", "")); len(nm) >= 4 && strings.Contains(strings.ReplaceAll(low, " ", ""), nm) && utf8.RuneCountInString(pw)-utf8.RuneCountInString(nm) < 8 {
		return "Password must not be based on your name"
	}
	return ""
}

// isCommonPassword reports whether pw is on the bundled list of common
// passwords, possibly with a simple suffix (digits or symbols), repeated, or
// a keyboard or digit run.
func isCommonPassword(pw string) bool {
	low := strings.ToLower(pw)
	if _, ok := commonPasswords[low]; ok {
		return true
	}
	// "password1234!", "Summer2026!!": a listed word plus digits and symbols.
	base := strings.TrimRightFunc(low, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	if _, ok := commonPasswords[base]; ok && base != "" {
		return true
	}
	// A listed word repeated: "monkeymonkey".
	for size := 3; size <= len(low)/2; size++ {
		if len(low)%size == 0 && strings.Repeat(low[:size], len(low)/size) == low {
			if _, ok := commonPasswords[low[:size]]; ok {
				return true
			}
		}
	}
	// One character repeated, or a run like 123456789012 or qwertyuiop.
	if strings.Count(low, low[:1]) == len(low) || isRun(low) {
		return true
	}
	return false
}

var runs = []string{"0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn"}

func isRun(s string) bool {
	for _, r := range runs {
		if strings.Contains(r, s) || strings.Contains(reverse(r), s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword reports whether pw matches a hash made by HashPassword.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when an account does not exist, so that a
// sign-in takes the same time whether or not the email is known.
var dummyHash = HashPassword("not a real password, only for timing")
