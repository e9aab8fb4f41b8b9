package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Files encrypts files kept in object storage (DBS certificate scans, CPD
// evidence, data downloads) with AES-256-GCM, in the app, before upload.
//
// Format, version 1 (all of the header is authenticated):
//
//	"LMSe"        4 bytes   magic: no PDF, JPEG, PNG or ZIP starts so, which
//	                        is how a file stored in plain by an older version
//	                        is told apart
//	0x01          1 byte    version
//	nonce        16 bytes   random per object; the object's AES-256 key is
//	                        HKDF-SHA-256(files key, nonce, "lms file object key v1")
//	n             1 byte    length of the content type
//	content type  n bytes
//	chunks                  the plaintext in 64 KiB chunks (one, empty, for an
//	                        empty file), each sealed with AES-256-GCM: nonce =
//	                        chunk number (11 bytes, big-endian) | 1 on the last
//	                        chunk, 0 before; additional data = the header |
//	                        the object key
//
// The object key in the additional data means a file copied or moved under
// another key does not open; the last-chunk flag means a truncated file does
// not either. The files key is derived from the secret key by HKDF with its
// own label, apart from the field-encryption and keyed-hash keys.
type Files struct {
	key []byte
}

const (
	fileMagic   = "LMSe"
	fileVersion = 1
	fileNonce   = 16
	fileChunk   = 64 << 10
	fileTag     = 16
	fileFixed   = len(fileMagic) + 1 + fileNonce + 1 // header before the content type
)

// ErrFileTampered is returned for a sealed file that does not authenticate:
// another key, or a file altered, truncated or moved in storage.
var ErrFileTampered = errors.New("secrets: file cannot be decrypted (wrong key, or altered or moved in storage)")

func newFiles(key []byte) *Files {
	k, err := hkdf.Key(sha256.New, key, nil, "lms file encryption v1", KeySize)
	if err != nil {
		panic(err) // only for lengths HKDF cannot give
	}
	return &Files{key: k}
}

// Files returns the cipher for files in object storage.
func (b *Box) Files() *Files { return b.files }

// IsSealedFile reports whether a file starting with head (at least 4
// bytes) was sealed by Files rather than stored in plain.
func IsSealedFile(head []byte) bool { return bytes.HasPrefix(head, []byte(fileMagic)) }

// SealedFileSize is the size of a sealed file of n bytes.
func SealedFileSize(contentType string, n int64) int64 {
	return int64(fileFixed+len(contentType)) + n + chunks(n)*fileTag
}

func chunks(n int64) int64 { return max(1, (n+fileChunk-1)/fileChunk) }

// Seal returns a reader of the sealed form of the n bytes r yields, to be
// stored under objectKey, and its size. It reads r as it is read; a
// reader shorter than n fails the read.
func (f *Files) Seal(objectKey, contentType string, r io.Reader, n int64) (io.Reader, int64, error) {
	if len(contentType) > 255 || n < 0 {
		return nil, 0, fmt.Errorf("secrets: cannot seal a file of type %q, %d bytes", contentType, n)
	}
	nonce := make([]byte, fileNonce)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, 0, err
	}
	hdr := make([]byte, 0, fileFixed+len(contentType))
	hdr = append(hdr, fileMagic...)
	hdr = append(hdr, fileVersion)
	hdr = append(hdr, nonce...)
	hdr = append(hdr, byte(len(contentType)))
	hdr = append(hdr, contentType...)
	aead, err := f.objectAEAD(nonce)
	if err != nil {
		return nil, 0, err
	}
	s := &sealReader{aead: aead, aad: append(bytes.Clone(hdr), objectKey...), src: r, left: n, out: hdr}
	return s, SealedFileSize(contentType, n), nil
}

// Open reads the header of a sealed file of size bytes from r (stored
// under objectKey) and returns a reader of its plaintext, the content type
// sealed with it and the plaintext's size. The first chunk is checked
// before Open returns, so a file moved from another key fails here; a
// later chunk that does not authenticate fails the read that reaches it.
func (f *Files) Open(objectKey string, r io.Reader, size int64) (io.Reader, string, int64, error) {
	fixed := make([]byte, fileFixed)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return nil, "", 0, ErrFileTampered
	}
	if !IsSealedFile(fixed) {
		return nil, "", 0, errors.New("secrets: not a sealed file")
	}
	if v := fixed[len(fileMagic)]; v != fileVersion {
		return nil, "", 0, fmt.Errorf("secrets: sealed file version %d is not known to this version of the app", v)
	}
	ct := make([]byte, fixed[fileFixed-1])
	if _, err := io.ReadFull(r, ct); err != nil {
		return nil, "", 0, ErrFileTampered
	}
	body := size - int64(fileFixed+len(ct))
	n := body - ((body+fileChunk+fileTag-1)/(fileChunk+fileTag))*fileTag
	if body < fileTag || n < 0 || chunks(n)*fileTag+n != body {
		return nil, "", 0, ErrFileTampered
	}
	aead, err := f.objectAEAD(fixed[len(fileMagic)+1 : len(fileMagic)+1+fileNonce])
	if err != nil {
		return nil, "", 0, err
	}
	o := &openReader{aead: aead, aad: append(append(fixed, ct...), objectKey...), src: r, left: body}
	if err := o.next(); err != nil {
		return nil, "", 0, err
	}
	return o, string(ct), n, nil
}

// objectAEAD returns AES-256-GCM under the key of the object with nonce.
func (f *Files) objectAEAD(nonce []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, f.key, nonce, "lms file object key v1", KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the GCM nonce of chunk i.
func chunkNonce(i uint64, last bool) []byte {
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[3:11], i)
	if last {
		nonce[11] = 1
	}
	return nonce
}

// sealReader yields the header, then each chunk sealed as it is read.
type sealReader struct {
	aead cipher.AEAD
	aad  []byte
	src  io.Reader
	left int64 // plaintext bytes still to read
	i    uint64
	done bool
	out  []byte // sealed bytes not yet read
	buf  []byte
}

func (s *sealReader) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.done {
			return 0, io.EOF
		}
		k := min(s.left, fileChunk)
		if s.buf == nil {
			s.buf = make([]byte, 0, min(s.left, fileChunk)+fileTag)
		}
		pt := s.buf[:k]
		if _, err := io.ReadFull(s.src, pt); err != nil {
			return 0, fmt.Errorf("secrets: sealing a file: %w", err)
		}
		s.left -= k
		s.done = s.left == 0
		s.out = s.aead.Seal(pt[:0], chunkNonce(s.i, s.done), pt, s.aad)
		s.i++
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// openReader yields the plaintext of each chunk once it authenticates.
type openReader struct {
	aead cipher.AEAD
	aad  []byte
	src  io.Reader
	left int64 // sealed bytes still to read
	i    uint64
	out  []byte // plaintext not yet read
	buf  []byte
	err  error
}

// next reads and opens the next chunk.
func (o *openReader) next() error {
	k := min(o.left, fileChunk+fileTag)
	if o.buf == nil {
		o.buf = make([]byte, k)
	}
	ct := o.buf[:k]
	if _, err := io.ReadFull(o.src, ct); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return ErrFileTampered
		}
		return err
	}
	o.left -= k
	pt, err := o.aead.Open(ct[:0], chunkNonce(o.i, o.left == 0), ct, o.aad)
	if err != nil {
		return ErrFileTampered
	}
	o.i++
	o.out = pt
	return nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.out) == 0 {
		if o.err != nil {
			return 0, o.err
		}
		if o.left == 0 {
			return 0, io.EOF
		}
		if o.err = o.next(); o.err != nil {
			return 0, o.err
		}
	}
	n := copy(p, o.out)
	o.out = o.out[n:]
	return n, nil
}
