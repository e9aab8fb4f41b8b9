// Package secrets holds the application's secret key and uses it to encrypt
// sensitive fields at rest (AES-256-GCM) and to derive keyed hashes.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of the secret key in bytes.
const KeySize = 32

// LoadKey decodes a base64 key, or, when encoded is empty, reads the key file
// (creating it with mode 0600 on first use). created reports a new key.
func LoadKey(encoded, keyFile string) (key []byte, created bool, err error) {
	if encoded != "" {
		key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("LMS_SECRET_KEY must be %d random bytes in base64 (e.g. `openssl rand -base64 32`)", KeySize)
		}
		return key, false, nil
	}
	b, err := os.ReadFile(keyFile)
	if err == nil {
		key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("secret key file %s is damaged", keyFile)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// Box encrypts and authenticates values with keys derived from the secret key.
type Box struct {
	aead  cipher.AEAD
	mac   []byte
	files *Files
}

// NewBox returns a Box for the secret key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes", KeySize)
	}
	encKey := derive(key, "lms field encryption v1")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, mac: derive(key, "lms keyed hash v1"), files: newFiles(key)}, nil
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Seal encrypts plaintext bound to context (e.g. "dbs.certificate_number:<id>"),
// returning "v1:" + base64(nonce|ciphertext). The empty string stays empty.
func (b *Box) Seal(plaintext, context string) string {
	if plaintext == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		panic(err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal with the same context.
func (b *Box) Open(sealed, context string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("secrets: unknown ciphertext version")
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", errors.New("secrets: malformed ciphertext")
	}
	pt, err := b.aead.Open(nil, data[:b.aead.NonceSize()], data[b.aead.NonceSize():], []byte(context))
	if err != nil {
		return "", errors.New("secrets: cannot decrypt (wrong key or tampered value)")
	}
	return string(pt), nil
}

// Hash returns a keyed hash (HMAC-SHA-256, base64url) of value for purpose:
// used for lookups that must not reveal the value (e.g. tokens).
func (b *Box) Hash(purpose, value string) string {
	m := hmac.New(sha256.New, b.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
