package certificates_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
)

// TestErasedHolderIsNotPrintedAgain: a reissue left pending when the
// holder's data is erased is closed by the reconciler without printing a
// file, so neither the name nor a PDF comes back.
func TestErasedHolderIsNotPrintedAgain(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	c := f.issued(t, f.user.ID)
	// What erasure leaves, with a reissue of revision 1 still pending.
	if err := f.env.DB.UpdateCertificate(ctx, c.Code, certificates.CertificateUpdate{Name: new(""), NameErased: new(true), PendingRevision: new(1)}); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Blob.Delete(ctx, certificates.ObjectKey(c.Code)); err != nil {
		t.Fatal(err)
	}
	if n, err := f.newService().Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v; want the pending reissue closed", n, err)
	}
	if _, _, err := f.env.Blob.Open(ctx, certificates.ObjectKey(c.Code)); err == nil {
		t.Fatal("the reconciler printed the erased holder's certificate again")
	}
	got, _ := f.env.DB.Certificate(ctx, c.Code)
	if got.Name != "" || got.PendingRevision != 0 || got.Status != certificates.StatusIssued {
		t.Fatalf("after reconcile: name %q, pending %d, status %s", got.Name, got.PendingRevision, got.Status)
	}
	if n, _ := f.newService().Reconcile(ctx); n != 0 {
		t.Fatalf("a second reconcile did %d things, want 0", n)
	}
}

// TestReissueRacingErasureLeavesNoName: the holder is erased while a
// reissue is between storing its file and recording it. The reissue finds
// the erasure mark and deletes its file and its revision, so no copy of the
// name survives in the bucket or the revisions.
func TestReissueRacingErasureLeavesNoName(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	c := f.issued(t, f.user.ID)
	racing := f.newService()
	racing.FaultAfterPut = func(code string) error {
		return f.eraseHolder(ctx, code) // what erasure does meanwhile
	}
	if _, err := racing.Reissue(ctx, c.Code, "typo in the name", f.admin); !errs.Is(err, errs.ECONFLICT) {
		t.Fatalf("reissue during erasure: %v, want a conflict", err)
	}
	if _, _, err := f.env.Blob.Open(ctx, certificates.ObjectKey(c.Code)); err == nil {
		t.Fatal("the reissue left its file, with the erased name, in the bucket")
	}
	if _, err := f.env.DB.Revision(ctx, c.Code, 2); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("revision 2 with the name is still recorded: %v", err)
	}
	if got, _ := f.env.DB.Certificate(ctx, c.Code); got.Name != "" || !got.NameErased || got.Revision != 1 {
		t.Fatalf("certificate after the race: name %q, erased %v, revision %d", got.Name, got.NameErased, got.Revision)
	}
}

// TestBulkReissueRacingErasureLeavesNoName: one holder is erased while a
// bulk reissue of their course is between storing their new file and
// recording it. When the batch is recorded, the job finds the mark and
// withdraws that revision — file, revision record and name — while the
// other certificates are reissued as usual.
func TestBulkReissueRacingErasureLeavesNoName(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	other := f.addUser(t, "other@example.org", "Other Learner", auth.RoleLearner)
	erased, kept := f.issued(t, f.user.ID), f.issued(t, other.ID)
	f.advance(time.Hour)
	racing := f.newService()
	racing.FaultAfterPut = func(code string) error {
		if code != erased.Code {
			return nil
		}
		return f.eraseHolder(ctx, code) // what erasure does meanwhile
	}
	job, err := racing.StartBulkReissue(ctx, "sample-course", "corrected title", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	waitForJob(t, racing, job.ID)
	if _, _, err := f.env.Blob.Open(ctx, certificates.ObjectKey(erased.Code)); err == nil {
		t.Fatal("the bulk reissue left the erased holder's new file in the bucket")
	}
	if _, err := f.env.DB.Revision(ctx, erased.Code, 2); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("revision 2 with the erased name is still recorded: %v", err)
	}
	if got, _ := f.env.DB.Certificate(ctx, erased.Code); got.Name != "" || !got.NameErased || got.Revision != 1 {
		t.Fatalf("erased holder's certificate after the job: name %q, erased %v, revision %d", got.Name, got.NameErased, got.Revision)
	}
	if got, _ := f.env.DB.Certificate(ctx, kept.Code); got.Name != other.Name || got.Revision != 2 || got.SHA256 != sha(f.object(t, kept.Code)) {
		t.Fatalf("the other certificate after the job: name %q, revision %d", got.Name, got.Revision)
	}
}

// TestCourseZipLeavesOutErasedHolders: a course's ZIP holds every issued
// certificate's file except those of erased holders, whose files are gone.
func TestCourseZipLeavesOutErasedHolders(t *testing.T) {
	testRenderer(t)
	f := newFixture(t)
	ctx := context.Background()
	other := f.addUser(t, "kept@example.org", "Kept Learner", auth.RoleLearner)
	erased, kept := f.issued(t, f.user.ID), f.issued(t, other.ID)
	if err := f.eraseHolder(ctx, erased.Code); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.certs.WriteCourseZip(ctx, "sample-course", &buf); err != nil {
		t.Fatalf("course ZIP with an erased holder: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != certificates.FileName(kept) {
		names := []string{}
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		t.Fatalf("ZIP holds %v, want only %s", names, certificates.FileName(kept))
	}
	rc, _ := zr.File[0].Open()
	body, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(body, f.object(t, kept.Code)) {
		t.Fatal("the ZIP's file is not the stored certificate")
	}
}

// eraseHolder does to a certificate what erasure does under the keep-status
// policy: marks it erased, without the name, and deletes its file.
func (f *fixture) eraseHolder(ctx context.Context, code string) error {
	if err := f.env.DB.UpdateCertificate(ctx, code, certificates.CertificateUpdate{Name: new(""), NameErased: new(true)}); err != nil {
		return err
	}
	return f.env.Blob.Delete(ctx, certificates.ObjectKey(code))
}
