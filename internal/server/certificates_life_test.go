package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestCertificateLifeAfterIssue: the PDF's metadata; a learner who changes
// their name asks for a copy in the new name and an admin reissues it; the
// course's ZIP holds the stored file; a renewal prompt appears in the last
// 60 days before expiry.
func TestCertificateLifeAfterIssue(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	code := w.certifiedLearner()
	learner := w.client(w.srv, w.session("learner"))
	admin := w.client(w.srv, w.session("admin"))

	t.Run("PDFMetadata", func(t *testing.T) {
		testenv.NeedCommand(t, "pdfinfo", "poppler-utils")
		_, pdf := learner.do("GET", "/certificates/"+code+"/download", nil)
		path := filepath.Join(t.TempDir(), "c.pdf")
		if err := os.WriteFile(path, []byte(pdf), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdfinfo", path).Output()
		if err != nil {
			t.Fatalf("pdfinfo: %v", err)
		}
		info := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				info[k] = strings.TrimSpace(v)
			}
		}
		if info["Title"] != "Certificate "+code+": Sample course for tests" || info["Author"] != "Family Advocacy Service" ||
			info["Subject"] != "Learner Person completed Sample course for tests (version 2026-11-01)" || info["Pages"] != "1" {
			t.Errorf("PDF metadata: title %q, author %q, subject %q, pages %q", info["Title"], info["Author"], info["Subject"], info["Pages"])
		}
	})

	t.Run("CopyInANewName", func(t *testing.T) {
		if resp, _ := learner.post("/account/profile", url.Values{"name": {"Learner Newname"}, "email": {"learner@example.org"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("change name: %d", resp.StatusCode)
		}
		learner = w.client(w.srv, w.session("learner"))
		_, page := learner.do("GET", "/my/certificates", nil)
		if !strings.Contains(page, `action="/my/certificates/`+code+`/reissue-request"`) {
			t.Fatal("My certificates does not offer a copy in the new name")
		}
		if resp, _ := learner.post("/my/certificates/"+code+"/reissue-request", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("request: %d", resp.StatusCode)
		}
		if _, page := admin.do("GET", "/admin/certificates", nil); !strings.Contains(page, code) || !strings.Contains(page, "Learner Newname") {
			t.Fatal("the admin's certificates page does not list the request")
		}
		if resp, _ := admin.post("/admin/certificates/"+code+"/reissue", url.Values{"reason": {"name changed"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reissue: %d", resp.StatusCode)
		}
		c, _ := w.env.DB.Certificate(ctx, code)
		if c.Name != "Learner Newname" || c.ReissueRequest != nil || c.Revision != 2 {
			t.Fatalf("after the reissue: name %q, request %v, revision %d", c.Name, c.ReissueRequest, c.Revision)
		}
	})

	t.Run("CourseZip", func(t *testing.T) {
		resp, body := admin.do("GET", "/admin/courses/sample-course/certificates.zip", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("zip: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
		if err != nil || len(zr.File) != 1 {
			t.Fatalf("zip: %v, %d files", err, len(zr.File))
		}
		rc, _ := zr.File[0].Open()
		got, _ := io.ReadAll(rc)
		rc.Close()
		stored, _, _ := w.env.Blob.Open(ctx, certificates.ObjectKey(code))
		want, _ := io.ReadAll(stored)
		stored.Close()
		if !bytes.Equal(got, want) {
			t.Fatal("the ZIP's file is not the stored certificate")
		}
	})

	t.Run("RenewalPrompt", func(t *testing.T) {
		if _, page := learner.do("GET", "/my/certificates", nil); strings.Contains(page, "Renew it by taking the course again") {
			t.Fatal("a renewal prompt a year before expiry")
		}
		w.advance(365*24*time.Hour - 59*24*time.Hour) // 59 days before the certificate expires
		learner = w.client(w.srv, w.session("learner"))
		if _, page := learner.do("GET", "/my/certificates", nil); !strings.Contains(page, "Renew it by taking the course again") || !strings.Contains(page, `href="/courses/sample-course"`) {
			t.Fatal("no renewal prompt 59 days before expiry")
		}
	})
}

// TestPresignedDownloadMode: with LMS_CERTIFICATE_DELIVERY=presign, a
// download redirects to a short-lived storage URL that serves the file.
func TestPresignedDownloadMode(t *testing.T) {
	w := newWorld(t, sampleDir)
	w.config = func(c *config.Config) { c.CertificateDelivery = "presign" }
	w.srv, w.svc = w.newInstance()
	code := w.certifiedLearner()
	resp, _ := w.client(w.srv, w.session("learner")).do("GET", "/certificates/"+code+"/download", nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusTemporaryRedirect || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("presign mode: %d to %q", resp.StatusCode, loc)
	}
	r, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !bytes.HasPrefix(b, []byte("%PDF-")) || !strings.Contains(r.Header.Get("Content-Disposition"), "certificate-"+code+".pdf") {
		t.Fatalf("the presigned URL: %d, %q, starts %q", r.StatusCode, r.Header.Get("Content-Disposition"), b[:min(8, len(b))])
	}
	if resp, _ := w.client(w.srv, w.session("learner2")).do("GET", "/certificates/"+code+"/download", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another learner in presign mode: %d, want 403", resp.StatusCode)
	}
}
