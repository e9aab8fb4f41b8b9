package certificates

import (
	"context"

	"github.com/family-advocacy/lms/internal/errs"
)

// EraseHolderName marks certificates whose holder is being erased: the name
// goes, the record stays for verification, and no pending reissue prints a
// file again (a reissue running meanwhile finds the mark and undoes what it
// made). Erasure calls it before it deletes the files. A certificate that
// no longer exists needs no mark.
func (s *Service) EraseHolderName(ctx context.Context, codes []string) error {
	for _, code := range codes {
		err := s.store.UpdateCertificate(ctx, code, CertificateUpdate{Name: new(""), NameErased: new(true), PendingRevision: new(0)})
		if err != nil && !errs.Is(err, errs.ENOTFOUND) {
			return err
		}
	}
	return nil
}
