package server_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/family-advocacy/lms/internal/testenv"
)

// TestNothingSecretIsReadableAtRest fills the app through its flows as its
// users would — a DBS check with a scan, a reference with notes, CPD
// evidence, a password reset, failed sign-ins with an email address — and
// then searches the raw database files (with the write-ahead log) and
// MinIO's data directory: none of the secrets is there in plain text.
func TestNothingSecretIsReadableAtRest(t *testing.T) {
	w, smtp := newMailWorld(t)
	ctx := context.Background()
	id := w.createAdvocate("Mary Carpenter", "mary.carpenter@example.org")
	m := w.client(w.srv, w.session("manager"))
	suffix := testenv.RandomHex(6)
	var (
		dbsNumber     = "0071" + "83" + "290451" // 12 digits, as on a certificate
		scanWord      = "needlescan" + suffix
		evidenceWord  = "needleevidence" + suffix
		referenceNote = "needle-reference-note-" + suffix
		throttleEmail = "needle.throttle." + suffix + "@example.org"
	)
	fields := maps.Clone(dbsFields)
	fields["certificate_number"] = dbsNumber
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "scan", "certificate.pdf", pdfFile(scanWord, 4000)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"Rosa Parks"}, "relationship": {"Former line manager"},
		"contact": {"rosa@example.org"}, "received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "notes": {referenceNote}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference: %d", resp.StatusCode)
	}
	cpd := map[string]string{"date": "2026-10-01", "title": "Reading on care proceedings", "type": "reading", "hours": "2",
		"learnt": "How the court timetable works.", "impact": "Better advice to parents."}
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/cpd", cpd, "evidence", "notes.pdf", pdfFile(evidenceWord, 4000)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cpd: %d %.300s", resp.StatusCode, body)
	}
	token := w.requestReset(smtp, "learner@example.org")
	anon := w.client(w.srv, "")
	for i := 0; i < 3; i++ {
		if resp, _ := anon.post("/login", url.Values{"email": {throttleEmail}, "password": {"not the password"}}); resp.StatusCode == http.StatusSeeOther {
			t.Fatal("a wrong password signed in")
		}
	}
	// Control objects, so that a search that cannot find anything fails:
	// a plain object in the bucket, and an email address the database keeps.
	control := "needlecontrol" + suffix
	if err := w.env.Blob.Put(ctx, "control/"+suffix+".txt", bytes.NewReader([]byte(control)), int64(len(control)), "text/plain"); err != nil {
		t.Fatal(err)
	}
	secrets := []string{dbsNumber, token, referenceNote, throttleEmail, evidenceWord, scanWord}
	if found := testenv.GrepDataDir(t, append(secrets, "mary.carpenter@example.org")); len(found) != 1 || found[0] != "mary.carpenter@example.org" {
		t.Fatalf("the database files hold %q (want only the control, the advocate's email address)", found)
	}
	if found := testenv.GrepMinioDir(t, append(secrets, control)); len(found) != 1 || found[0] != control {
		t.Fatalf("MinIO's data directory holds %q (want only the control object)", found)
	}
}
