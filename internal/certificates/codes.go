package certificates

import (
	"crypto/rand"
	"errors"
	"strings"
)

// Certificate codes: 13 random characters (65 bits) from an alphabet
// without 0/O and 1/I, then a check character, shown in groups of four:
// "K7QX-M2PA-HW9D-R3".
const (
	codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ" // 32 symbols, 5 bits each
	codeRandom   = 13
)

// Errors from ParseCode.
var (
	ErrCodeFormat = errors.New("a certificate code has 14 letters and digits, like K7QX-M2PA-HW9D-R3")
	ErrCodeTypo   = errors.New("this code has a typing mistake: check each character against the certificate")
)

// NewCode returns a new random certificate code.
func NewCode() string {
	b := make([]byte, codeRandom)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	raw := make([]byte, 0, codeRandom+1)
	for _, x := range b {
		raw = append(raw, codeAlphabet[x&31]) // 256 is a multiple of 32: no bias
	}
	raw = append(raw, checkChar(raw))
	return format(string(raw))
}

// ParseCode normalises a code as typed (any case, spaces or hyphens) and
// checks it: ErrCodeFormat when it cannot be a code, ErrCodeTypo when the
// check character does not match.
func ParseCode(s string) (string, error) {
	var raw []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r < 128 && strings.IndexByte(codeAlphabet, byte(r)) >= 0:
			raw = append(raw, byte(r))
		case r == '0' || r == 'O' || r == '1' || r == 'I':
			return "", ErrCodeTypo // never used in codes
		default:
			return "", ErrCodeFormat
		}
	}
	if len(raw) != codeRandom+1 {
		return "", ErrCodeFormat
	}
	if checkChar(raw[:codeRandom]) != raw[codeRandom] {
		return "", ErrCodeTypo
	}
	return format(string(raw)), nil
}

// checkChar computes a Damm check character over GF(32), using the totally
// anti-symmetric quasigroup x∘y = 2x + y: it catches any one wrong character
// and any swap of two different neighbours (a Luhn mod 32 check misses some
// swaps, such as "Z2" for "2Z").
func checkChar(raw []byte) byte {
	interim := 0
	for _, c := range raw {
		interim = gfDouble(interim) ^ strings.IndexByte(codeAlphabet, c)
	}
	// The check c makes 2·interim + c = 0, so the whole code reduces to 0.
	return codeAlphabet[gfDouble(interim)]
}

// gfDouble multiplies by 2 in GF(32) with the polynomial x⁵ + x² + 1.
func gfDouble(x int) int {
	x <<= 1
	if x&32 != 0 {
		x ^= 0x25
	}
	return x
}

func format(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}
