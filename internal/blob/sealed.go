package blob

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/secrets"
)

// Sealed is a Store whose objects are encrypted in the app before upload
// and decrypted on download (secrets.Files: AES-256-GCM, a key per object,
// the object key and content type authenticated), so the object store
// holds no plaintext of them. DBS scans, CPD evidence and data downloads
// go through it; certificates, public by design, do not.
type Sealed struct {
	store *Store
	files *secrets.Files
}

// NewSealed returns st sealing its objects with files.
func NewSealed(st *Store, files *secrets.Files) *Sealed { return &Sealed{store: st, files: files} }

// sealedType is the stored content type of a sealed object; its own
// travels, authenticated, in its header.
const sealedType = "application/octet-stream"

// Put encrypts size bytes from r and stores them under key.
func (s *Sealed) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	sr, n, err := s.files.Seal(key, contentType, r, size)
	if err != nil {
		return fmt.Errorf("blob: seal %s: %w", key, err)
	}
	return s.store.Put(ctx, key, sr, n, sealedType)
}

// Open opens the object under key and returns its plaintext and the
// plaintext's size. With legacy, an object stored in plain by a version
// that did not encrypt files (it has no header) is returned as it is;
// without, it is refused. A missing key is ENOTFOUND. An object that does
// not authenticate is refused: one moved from another key, or whose first
// 64 KiB were altered, here, before any of it is returned; one altered
// further on, by the read that reaches that part (callers that must not
// serve part of a file read it whole first).
func (s *Sealed) Open(ctx context.Context, key string, legacy bool) (io.ReadCloser, int64, error) {
	obj, size, err := s.store.Open(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	br := bufio.NewReader(obj)
	head, _ := br.Peek(4)
	if !secrets.IsSealedFile(head) {
		if !legacy {
			obj.Close()
			return nil, 0, errs.Wrap(errs.EINTERNAL, fmt.Errorf("blob: %s is stored in plain but should be encrypted", key), "This file cannot be read.")
		}
		return readCloser{br, obj}, size, nil
	}
	pt, _, n, err := s.files.Open(key, br, size)
	if err != nil {
		obj.Close()
		return nil, 0, errs.Wrap(errs.EINTERNAL, fmt.Errorf("blob: open %s: %w", key, err), "This file cannot be read.")
	}
	return readCloser{pt, obj}, n, nil
}

// Delete removes the object under key; a missing key is not an error.
func (s *Sealed) Delete(ctx context.Context, key string) error { return s.store.Delete(ctx, key) }

// SealLegacy encrypts in place an object stored in plain by an older
// version, keeping its content type. It reports whether the object under
// key is now sealed: true when it was already; false when it is missing,
// or changed while this ran (the write is conditional on the object read,
// so a file deleted or replaced meanwhile is not brought back).
func (s *Sealed) SealLegacy(ctx context.Context, key string) (bool, error) {
	obj, err := s.store.Client.GetObject(ctx, s.store.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return false, fmt.Errorf("blob: get %s: %w", key, err)
	}
	defer obj.Close()
	st, err := obj.Stat()
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return false, nil
		}
		return false, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	plain, err := io.ReadAll(obj)
	if err != nil {
		return false, fmt.Errorf("blob: read %s: %w", key, err)
	}
	if secrets.IsSealedFile(plain) {
		return true, nil
	}
	sr, n, err := s.files.Seal(key, st.ContentType, bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		return false, fmt.Errorf("blob: seal %s: %w", key, err)
	}
	opts := minio.PutObjectOptions{ContentType: sealedType, DisableContentSha256: true}
	opts.SetMatchETag(st.ETag)
	if _, err := s.store.Client.PutObject(ctx, s.store.Bucket, key, sr, n, opts); err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "PreconditionFailed", "NoSuchKey":
			return false, nil
		}
		return false, fmt.Errorf("blob: put %s: %w", key, err)
	}
	return true, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
