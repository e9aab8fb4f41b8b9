package certificates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// State is what verification says of a certificate.
type State string

// Verification states.
const (
	StateValid     State = "valid"
	StateExpired   State = "expired"
	StateRevoked   State = "revoked"
	StatePreparing State = "preparing"
	StateReplaced  State = "replaced" // only for an uploaded file of an older revision
)

// StateOf returns a certificate's state at now.
func StateOf(c *Certificate, now time.Time) State {
	switch {
	case c.Revoked != nil:
		return StateRevoked
	case c.Status != StatusIssued:
		return StatePreparing
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return StateExpired
	}
	return StateValid
}

// Verify looks a typed code up.
func (s *Service) Verify(ctx context.Context, typed string) (*Certificate, State, error) {
	code, err := ParseCode(typed)
	if err != nil {
		return nil, "", errs.Wrap(errs.EINVALID, err, "%s", capitalise(err.Error()))
	}
	c, err := s.Get(ctx, code)
	if err != nil {
		return nil, "", err
	}
	return c, StateOf(c, s.Now()), nil
}

// FileCheck is the result of checking an uploaded PDF.
type FileCheck struct {
	Ours        bool // issued by us and unaltered
	Certificate *Certificate
	State       State // of the certificate; StateReplaced for an older revision
}

// VerifyFile checks whether r is a PDF we issued, unaltered.
func (s *Service) VerifyFile(ctx context.Context, r io.Reader) (*FileCheck, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(r, 5<<20)); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rec, err := s.store.Hash(ctx, sum)
	if errs.Is(err, errs.ENOTFOUND) {
		return &FileCheck{}, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := s.store.Certificate(ctx, rec.Code)
	if errs.Is(err, errs.ENOTFOUND) { // still being issued: nobody has had this file yet
		return &FileCheck{}, nil
	}
	if err != nil {
		return nil, err
	}
	fc := &FileCheck{Ours: true, Certificate: c, State: StateOf(c, s.Now())}
	// A reissue that prints the same bytes (same name, same second) keeps
	// the first revision's hash record: the file is current if it is the
	// certificate's current file.
	if rec.Revision != c.Revision && sum != c.SHA256 && fc.State != StateRevoked {
		fc.State = StateReplaced
	}
	return fc, nil
}

// Allow counts a request against a per-key limit per minute; ETOOMANY over
// it. The key (e.g. "verify:" and the client's address) is stored as a
// keyed hash.
func (s *Service) Allow(ctx context.Context, key string, perMinute int) error {
	n, err := s.store.CountHit(ctx, s.Box.Hash("rate limit key", key), s.Now(), time.Minute)
	if err != nil {
		return err
	}
	if n > perMinute {
		return errs.E(errs.ETOOMANY, "Too many checks from your connection. Please wait a minute and try again.")
	}
	return nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
