package compliance

import (
	"context"
	"fmt"
	"io"

	"github.com/family-advocacy/lms/internal/errs"
)

// Evidence files and DBS scans are encrypted in the app before upload (see
// blob.Sealed) and marked so on their record (Evidence.Sealed,
// DBSCheck.ScanSealed): a file so marked must decrypt under its own object
// key, so one swapped for another, or for a plain file, is refused. Files
// stored in plain by earlier versions still open until SealLegacyFiles has
// encrypted them.

// readFile reads a whole evidence file or scan, decrypted and checked.
func (s *Service) readFile(ctx context.Context, key string, legacy bool) ([]byte, error) {
	r, _, err := s.Blobs.Open(ctx, key, legacy)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxUpload+1))
	if err != nil {
		return nil, errs.Wrap(errs.EINTERNAL, fmt.Errorf("compliance: read %s: %w", key, err), "This file cannot be read.")
	}
	if len(b) > MaxUpload {
		return nil, errs.Wrap(errs.EINTERNAL, fmt.Errorf("compliance: %s is larger than any upload", key), "This file cannot be read.")
	}
	return b, nil
}

// SealLegacyFiles encrypts in place the evidence files and DBS scans that
// earlier versions stored in plain, and marks them sealed on their
// records, returning how many it marked. It is a one-off pass that may be
// stopped and run again (at every start-up): a record is marked only after
// its files are sealed, sealing a sealed file does nothing, and a file
// deleted meanwhile is not brought back. It reads each advocate once (a
// collection bounded by the organisation's size) and touches object
// storage only for files not yet marked.
func (s *Service) SealLegacyFiles(ctx context.Context) (int, error) {
	ids, err := s.db.AdvocateIDs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		a, err := s.db.Advocate(ctx, id)
		if errs.Is(err, errs.ENOTFOUND) {
			continue
		}
		if err != nil {
			return n, err
		}
		var plain []string
		for _, e := range a.CPD {
			for _, ev := range e.Evidence {
				if !ev.Sealed {
					plain = append(plain, ev.Key)
				}
			}
		}
		for _, d := range a.DBS {
			if d.ScanKey != "" && !d.ScanSealed {
				plain = append(plain, d.ScanKey)
			}
		}
		sealed := map[string]bool{}
		for _, key := range plain {
			ok, err := s.Blobs.SealLegacy(ctx, key)
			if err != nil {
				return n, err
			}
			if ok { // else missing, or changed meanwhile: the next run looks again
				sealed[key] = true
			}
		}
		if len(sealed) == 0 {
			continue
		}
		_, err = s.db.UpdateAdvocate(ctx, id, func(a *Advocate) error {
			for i := range a.CPD {
				for j := range a.CPD[i].Evidence {
					if ev := &a.CPD[i].Evidence[j]; sealed[ev.Key] {
						ev.Sealed = true
					}
				}
			}
			for i := range a.DBS {
				if d := &a.DBS[i]; d.ScanKey != "" && sealed[d.ScanKey] {
					d.ScanSealed = true
				}
			}
			return nil
		})
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return n, err
		}
		n += len(sealed)
	}
	return n, nil
}
