package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/testenv"
)

// pdfFile returns a PDF-looking file (the upload check reads the first
// bytes) holding text at its start and end, padded with pad random bytes.
func pdfFile(text string, pad int) []byte {
	noise := make([]byte, pad/2)
	_, _ = rand.Read(noise)
	return []byte("%PDF-1.4\n% " + text + "\n" + hex.EncodeToString(noise) + "\n% " + text + "\n%%EOF\n")
}

// filesWorld is an advocate with a DBS scan and one CPD entry per evidence
// file, all uploaded by the manager through the forms.
type filesWorld struct {
	*world
	id       string
	m        *client // the manager
	scan     []byte
	evidence [][]byte
	a        *compliance.Advocate
}

func newFilesWorld(t *testing.T, scan []byte, evidence ...[]byte) *filesWorld {
	w := &filesWorld{world: newWorld(t, sampleDir), scan: scan, evidence: evidence}
	w.id = w.createAdvocate("Elizabeth Fry", "elizabeth.fry@example.org")
	w.m = w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	fields["certificate_number"] = "004455667788"
	if resp, body := w.m.postMultipart("/manage/advocates/"+w.id+"/dbs", fields, "scan", "certificate.pdf", scan); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs with a scan: %d %s", resp.StatusCode, body)
	}
	for _, ev := range evidence {
		cpd := map[string]string{"date": "2026-10-01", "title": "Reading on care proceedings", "type": "reading", "hours": "2",
			"learnt": "How the court timetable works.", "impact": "Better advice to parents."}
		if resp, body := w.m.postMultipart("/manage/advocates/"+w.id+"/cpd", cpd, "evidence", "notes.pdf", ev); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cpd with evidence: %d %s", resp.StatusCode, body)
		}
	}
	w.reload()
	if len(w.a.DBS) != 1 || w.a.DBS[0].ScanKey == "" || len(w.a.CPD) != len(evidence) {
		t.Fatalf("records after the uploads: %+v", w.a)
	}
	return w
}

func (w *filesWorld) reload() {
	w.t.Helper()
	a, err := w.env.DB.Advocate(context.Background(), w.id)
	if err != nil {
		w.t.Fatal(err)
	}
	w.a = a
}

// evidenceURL is the manager's link to the evidence of the i-th CPD entry.
func (w *filesWorld) evidenceURL(i int) string {
	return "/manage/advocates/" + w.id + "/cpd/" + w.a.CPD[i].ID + "/evidence/0"
}

// raw returns an object as stored.
func (w *filesWorld) raw(key string) []byte {
	w.t.Helper()
	r, _, err := w.env.Blob.Open(context.Background(), key)
	if err != nil {
		w.t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// put stores an object as it is, bypassing the app's encryption.
func (w *filesWorld) put(key string, b []byte, contentType string) {
	w.t.Helper()
	if err := w.env.Blob.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), contentType); err != nil {
		w.t.Fatal(err)
	}
}

// exportFiles has the advocate download their data and returns the files in it.
func (w *filesWorld) exportFiles() map[string][]byte {
	return w.download(w.client(w.srv, w.sessionFor(w.id)))
}

func TestEvidenceAndScansAreEncryptedAtRestAndDownloadUnchanged(t *testing.T) {
	scan := pdfFile("DBS certificate number 004455667788 issued to Elizabeth Fry", 2<<10)
	small := pdfFile("needle-evidence-kingfisher-5521", 1<<10)
	large := pdfFile("needle-evidence-heron-8830", 300<<10) // several chunks, and not inline in MinIO's metadata
	w := newFilesWorld(t, scan, small, large)

	// Downloaded through the app, each file is what was uploaded, with the
	// size the page shows.
	adv := w.client(w.srv, w.sessionFor(w.id))
	for i, want := range [][]byte{small, large} {
		for _, c := range []struct {
			who    *client
			target string
		}{{w.m, w.evidenceURL(i)}, {adv, "/my/compliance/cpd/" + w.a.CPD[i].ID + "/evidence/0"}} {
			resp, body := c.who.do("GET", c.target, nil)
			if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("GET %s: %d, %s, %d bytes; want the %d bytes uploaded", c.target, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(want))
			}
		}
		// A file number that is not one is no file (it used to serve file 0).
		for _, n := range []string{"abc", "00", "-0", "1"} {
			if resp, _ := w.m.do("GET", strings.TrimSuffix(w.evidenceURL(i), "0")+n, nil); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("evidence %q: %d, want 404", n, resp.StatusCode)
			}
		}
		if ev := w.a.CPD[i].Evidence[0]; ev.Size != int64(len(want)) || !ev.Sealed {
			t.Fatalf("evidence record: size %d, sealed %v; want %d, true", ev.Size, ev.Sealed, len(want))
		}
	}
	if !w.a.DBS[0].ScanSealed {
		t.Fatal("the scan is not marked sealed")
	}
	// The advocate's data download holds the files decrypted.
	files := w.exportFiles()
	if got := files["files/dbs-scans/"+w.a.DBS[0].ID]; !bytes.Equal(got, scan) {
		t.Fatalf("the scan in the data download: %d bytes, want the %d uploaded", len(got), len(scan))
	}
	n := 0
	for name, b := range files {
		if strings.HasPrefix(name, "files/cpd-evidence/") && (bytes.Equal(b, small) || bytes.Equal(b, large)) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d evidence files in the data download are as uploaded, want 2", n)
	}

	// MinIO's data directory holds none of it in plain: not the files, the
	// words in them, nor the data download that copies them.
	needles := []string{"004455667788", "needle-evidence-kingfisher-5521", "needle-evidence-heron-8830",
		string(scan), string(small), string(large[len(large)/2 : len(large)/2+64]), "Reading on care proceedings"}
	if found := testenv.GrepMinioDir(t, needles); len(found) > 0 {
		t.Fatalf("plain text in MinIO's data directory: %.80q", found)
	}
	// (The grep reads the objects: a plain one is found.)
	w.put("control/plain.txt", []byte("needle-control-object-3141"), "text/plain")
	if found := testenv.GrepMinioDir(t, []string{"needle-control-object-3141"}); len(found) != 1 {
		t.Fatal("the grep of MinIO's data directory does not find a plain object")
	}
	// Stored with the app's header, as an opaque type.
	if key := w.a.CPD[0].Evidence[0].Key; !bytes.HasPrefix(w.raw(key), []byte("LMSe\x01")) {
		t.Fatalf("%s does not start with the encryption header", key)
	}
}

func TestSwappedAlteredOrPlainReplacedFilesAreRefused(t *testing.T) {
	scan := pdfFile("DBS certificate number 004455667788", 1<<10)
	one, two := pdfFile("needle-evidence-one-1111", 1<<10), pdfFile("needle-evidence-two-2222", 1<<10)
	w := newFilesWorld(t, scan, one, two)
	ctx := context.Background()
	k1, k2 := w.a.CPD[0].Evidence[0].Key, w.a.CPD[1].Evidence[0].Key
	r1, r2 := w.raw(k1), w.raw(k2)
	refused := func(what string, i int) {
		t.Helper()
		resp, body := w.m.do("GET", w.evidenceURL(i), nil)
		if resp.StatusCode < 500 || strings.Contains(body, "needle-evidence") {
			t.Fatalf("%s: got %d with %d bytes; want an error and no file", what, resp.StatusCode, len(body))
		}
	}
	// Two objects' contents swapped in storage: neither is served as the other.
	w.put(k1, r2, "application/octet-stream")
	w.put(k2, r1, "application/octet-stream")
	refused("swapped (first)", 0)
	refused("swapped (second)", 1)
	// Put back, they download again.
	w.put(k1, r1, "application/octet-stream")
	w.put(k2, r2, "application/octet-stream")
	if resp, body := w.m.do("GET", w.evidenceURL(0), nil); resp.StatusCode != 200 || body != string(one) {
		t.Fatalf("restored: %d", resp.StatusCode)
	}
	// One byte changed (the content type in the header, then the data).
	for _, at := range []int{22, len(r1) - 1} {
		bad := bytes.Clone(r1)
		bad[at] ^= 1
		w.put(k1, bad, "application/octet-stream")
		refused("altered", 0)
	}
	// A plain file put where a sealed one was is not served either.
	w.put(k1, two, "application/pdf")
	refused("replaced by a plain file", 0)
	// The scan swapped for an evidence file: the data download is not built.
	w.put(w.a.DBS[0].ScanKey, r2, "application/octet-stream")
	c := w.client(w.srv, w.sessionFor(w.id))
	if resp, _ := c.post("/account/export", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("asking for a download: %d", resp.StatusCode)
	}
	if n, err := w.svc.Rights.RunExports(ctx); n != 0 {
		t.Fatalf("the data download was built with a swapped scan: %d, %v", n, err)
	}
}

func TestPlainFilesFromEarlierVersionsDownloadAndAreEncryptedLater(t *testing.T) {
	scan := pdfFile("DBS certificate number 004455667788", 1<<10)
	ev := pdfFile("needle-evidence-legacy-4242", 100<<10)
	w := newFilesWorld(t, scan, ev)
	ctx := context.Background()
	// As an earlier version left them: plain objects, records not marked.
	evKey, scanKey := w.a.CPD[0].Evidence[0].Key, w.a.DBS[0].ScanKey
	w.put(evKey, ev, "application/pdf")
	w.put(scanKey, scan, "application/pdf")
	if _, err := w.env.DB.UpdateAdvocate(ctx, w.id, func(a *compliance.Advocate) error {
		a.CPD[0].Evidence[0].Sealed, a.DBS[0].ScanSealed = false, false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if resp, body := w.m.do("GET", w.evidenceURL(0), nil); resp.StatusCode != 200 || body != string(ev) {
			t.Fatalf("%s: evidence download %d, %d bytes; want the file", when, resp.StatusCode, len(body))
		}
		w.reload()
		if got := w.exportFiles()["files/dbs-scans/"+w.a.DBS[0].ID]; !bytes.Equal(got, scan) {
			t.Fatalf("%s: the scan in the data download is %d bytes, want the file", when, len(got))
		}
	}
	check("plain")

	// The one-off pass encrypts them in place and marks the records.
	if n, err := w.svc.Comply.SealLegacyFiles(ctx); err != nil || n != 2 {
		t.Fatalf("sealing: %d, %v; want 2", n, err)
	}
	w.reload()
	if !w.a.CPD[0].Evidence[0].Sealed || !w.a.DBS[0].ScanSealed {
		t.Fatal("the records are not marked sealed")
	}
	for _, key := range []string{evKey, scanKey} {
		if b := w.raw(key); !bytes.HasPrefix(b, []byte("LMSe\x01")) || bytes.Contains(b, []byte("needle-evidence-legacy-4242")) || bytes.Contains(b, []byte("004455667788")) {
			t.Fatalf("%s is still plain", key)
		}
	}
	check("sealed")
	if n, err := w.svc.Comply.SealLegacyFiles(ctx); err != nil || n != 0 {
		t.Fatalf("sealing again: %d, %v; want nothing to do", n, err)
	}
	// A file deleted meanwhile is not brought back, and is left unmarked.
	if _, err := w.env.DB.UpdateAdvocate(ctx, w.id, func(a *compliance.Advocate) error {
		a.CPD[0].Evidence[0].Sealed = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.env.Blob.Delete(ctx, evKey); err != nil {
		t.Fatal(err)
	}
	if n, err := w.svc.Comply.SealLegacyFiles(ctx); err != nil || n != 0 {
		t.Fatalf("sealing a deleted file: %d, %v", n, err)
	}
	if _, _, err := w.env.Blob.Open(ctx, evKey); err == nil {
		t.Fatal("sealing brought a deleted file back")
	}
}
