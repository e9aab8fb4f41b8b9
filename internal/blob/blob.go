// Package blob stores files (certificates, evidence, scans) in an
// S3-compatible object store through minio-go.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/family-advocacy/lms/internal/errs"
)

// Store is one bucket of an object store.
type Store struct {
	Client   *minio.Client
	Bucket   string
	Endpoint string
	// Restarting, when set, reports that the (managed) server is down and
	// being restarted: Ping then fails at once.
	Restarting func() bool
}

// Open connects to endpoint with the given keys and makes sure bucket exists.
func Open(ctx context.Context, endpoint, accessKey, secretKey string, useSSL bool, bucket string) (*Store, error) {
	client, err := minio.New(endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:     useSSL,
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("object storage %s: %w", endpoint, err)
	}
	s := &Store{Client: client, Bucket: bucket, Endpoint: endpoint}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		err = s.EnsureBucket(cctx)
		// A MinIO server that has just started answers "not initialized"
		// for a moment after its liveness probe turns green.
		if err != nil && minio.ToErrorResponse(err).Code == "XMinioServerNotInitialized" && cctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		return nil, fmt.Errorf("object storage %s: %w", endpoint, shortErr(err))
	}
	return s, nil
}

// EnsureBucket creates the bucket when it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.Client.BucketExists(ctx, s.Bucket)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	err = s.Client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{})
	if err != nil && minio.ToErrorResponse(err).Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return err
}

// Ping checks that the bucket is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if s.Restarting != nil && s.Restarting() {
		return errs.E(errs.EUNAVAILABLE, "restarting")
	}
	ok, err := s.Client.BucketExists(ctx, s.Bucket)
	if err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, shortErr(err), "unreachable")
	}
	if !ok {
		return errs.E(errs.EUNAVAILABLE, "the bucket %q does not exist", s.Bucket)
	}
	return nil
}

// Put stores size bytes from r under key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	// The payload is not hashed for the request signature (UNSIGNED-PAYLOAD):
	// it saves work on both ends, and the server still checks the MD5 it computes.
	_, err := s.Client.PutObject(ctx, s.Bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType, DisableContentSha256: true})
	if err != nil {
		return unavailable(fmt.Errorf("blob: put %s: %w", key, err))
	}
	return nil
}

// Open opens the object under key and returns it with its size. A missing
// key is ENOTFOUND.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	obj, err := s.Client.GetObject(ctx, s.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, unavailable(fmt.Errorf("blob: get %s: %w", key, err))
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, 0, errs.Wrap(errs.ENOTFOUND, err, "file not found")
		}
		return nil, 0, unavailable(fmt.Errorf("blob: stat %s: %w", key, err))
	}
	return obj, st.Size, nil
}

// Delete removes the object under key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.Client.RemoveObject(ctx, s.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return unavailable(fmt.Errorf("blob: delete %s: %w", key, err))
	}
	return nil
}

// PresignGet returns a URL that downloads key for the next ttl, with the
// given file name.
func (s *Store) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	params := url.Values{}
	params.Set("response-content-disposition", fmt.Sprintf("attachment; filename=%q", filename))
	u, err := s.Client.PresignedGetObject(ctx, s.Bucket, key, ttl, params)
	if err != nil {
		return "", fmt.Errorf("blob: presign %s: %w", key, err)
	}
	return u.String(), nil
}

// List calls fn for every key under prefix.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	for obj := range s.Client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return unavailable(fmt.Errorf("blob: list %s: %w", prefix, obj.Err))
		}
		if err := fn(obj.Key, obj.Size); err != nil {
			return err
		}
	}
	return nil
}

// unavailable marks err EUNAVAILABLE when the object store did not answer
// (refused, reset, timed out, or a server error of its own), so a person is
// told to try again in a moment instead of being shown a failure.
func unavailable(err error) error {
	var nerr net.Error
	var opErr *net.OpError
	code := minio.ToErrorResponse(err).StatusCode
	if errors.As(err, &nerr) || errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) || code == 503 || code == 500 ||
		minio.ToErrorResponse(err).Code == "XMinioServerNotInitialized" {
		return errs.Wrap(errs.EUNAVAILABLE, err, "File storage is not answering at the moment. Please try again in a moment.")
	}
	return err
}

func shortErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}
