// Package privacy carries out people's rights over their data: a download
// of everything the service holds about them, erasure on request, and the
// retention jobs that delete records once their time is up. Every
// collection's relation to a person is declared once, in store.Holdings.
package privacy

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/store"
)

// Certificate policies on erasure.
const (
	KeepStatus = "keep-status" // the code still verifies (course, date, status) without the name
	Delete     = "delete"      // the code no longer verifies
)

// Service carries out exports, erasure and retention.
type Service struct {
	DB    *store.DB
	Blobs *blob.Store
	Audit *audit.Log
	Certs *certificates.Service // marks certificates whose holder is erased
	Now   func() time.Time
	Log   *slog.Logger

	ErasureCertificates string // KeepStatus or Delete
	RetainEndedAdvocate int    // months after a contract ends
	RetainOutbox        int    // days

	// PurgeScans deletes DBS certificate scans past their six months
	// (compliance.Service.PurgeScans).
	PurgeScans func(context.Context) (int, error)
}

// person gathers what identifies a user's records.
func (s *Service) person(ctx context.Context, u *auth.User) (store.Person, error) {
	certs, err := s.DB.CertificatesOfUser(ctx, u.ID)
	if err != nil {
		return store.Person{}, err
	}
	p := store.Person{UserID: u.ID, Email: u.Email}
	for _, c := range certs {
		p.CertificateCodes = append(p.CertificateCodes, c.Code)
	}
	return p, nil
}

// files lists the objects in storage that belong to a user: certificate
// PDFs, CPD evidence and DBS scans, with the name each has in an export.
func (s *Service) files(ctx context.Context, p store.Person) ([][2]string, error) {
	var out [][2]string
	for _, code := range p.CertificateCodes {
		out = append(out, [2]string{"certificates/" + code + ".pdf", "files/certificates/" + code + ".pdf"})
	}
	a, err := s.DB.Advocate(ctx, p.UserID)
	if errs.Is(err, errs.ENOTFOUND) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range a.CPD {
		for i, ev := range e.Evidence {
			out = append(out, [2]string{ev.Key, fmt.Sprintf("files/cpd-evidence/%s-%d-%s", e.ID, i+1, safeName(ev.Name))})
		}
	}
	for _, d := range a.DBS {
		if d.ScanKey != "" {
			out = append(out, [2]string{d.ScanKey, "files/dbs-scans/" + d.ID + path.Ext(d.ScanKey)})
		}
	}
	return out, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

const readme = `This file holds every record Family Advocacy Learning keeps about you,
as of %s.

data/<collection>.json  one JSON array per kind of record (extended JSON:
                        dates are {"$date": ...}); collections holding
                        nothing about you are left out
files/                  your certificate PDFs, CPD evidence and DBS scans

Left out on purpose: your password hash, two-factor secrets and the
identifiers of your sign-in sessions, which say nothing about you but would
weaken your account if this file were lost. Encrypted fields (DBS
certificate numbers, notes) are shown as stored, encrypted.

Our privacy notice says what we keep, why and for how long:
%s/pages/privacy
`

// Export writes a ZIP of everything held about the user to w, one record
// and one file at a time (nothing is held whole in memory).
func (s *Service) Export(ctx context.Context, u *auth.User, baseURL string, w io.Writer) error {
	p, err := s.person(ctx, u)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	now := s.Now()
	hdr := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	}
	f, err := hdr("README.txt")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, readme, now.In(compliance.London).Format("2 January 2006 15:04"), baseURL)
	for _, h := range store.Holdings {
		if h.Filter == nil {
			continue
		}
		n, err := s.DB.CountPersonal(ctx, h, p)
		if err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		f, err := hdr("data/" + h.Collection + ".json")
		if err != nil {
			return err
		}
		sep := "[\n"
		if err := s.DB.EachPersonalDoc(ctx, h, p, func(doc []byte) error {
			if _, err := io.WriteString(f, sep); err != nil {
				return err
			}
			sep = ",\n"
			_, err := f.Write(doc)
			return err
		}); err != nil {
			return err
		}
		if _, err := io.WriteString(f, "\n]\n"); err != nil {
			return err
		}
	}
	files, err := s.files(ctx, p)
	if err != nil {
		return err
	}
	for _, fl := range files {
		r, _, err := s.Blobs.Open(ctx, fl[0])
		if errs.Is(err, errs.ENOTFOUND) {
			continue // e.g. a DBS scan already deleted after six months
		}
		if err != nil {
			return err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fl[1], Method: zip.Store, Modified: now})
		if err == nil {
			_, err = io.Copy(f, r)
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return s.Audit.Record(ctx, audit.Event{ActorID: u.ID, Actor: u.Name, OrgID: u.OrgID, Action: "user.export", Target: "user:" + u.ID})
}
