package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// person is someone with records in every part of the service.
type person struct {
	id, name, email string
	codes           []string
}

// fullPerson creates an advocate who has completed the sample course (an
// enrolment, attempts, a certificate, a CPD entry), added CPD with an
// evidence file, has a DBS check with a scan, a reference, a supervision,
// messages and notifications.
func (w *world) fullPerson(name, email string) *person {
	w.t.Helper()
	ctx := context.Background()
	p := &person{id: w.createAdvocate(name, email), name: name, email: email} // also emails a password link
	c := w.client(w.srv, w.sessionFor(p.id))
	c.post("/courses/sample-course/enrol", nil)
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		c.post("/courses/sample-course/lessons/"+l+"/complete", nil)
	}
	n, ids := w.paper(c)
	if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatal("submit")
	}
	if _, err := w.svc.Certs.Reconcile(ctx); err != nil {
		w.t.Fatal(err)
	}
	if resp, body := c.postMultipart("/my/compliance/cpd", map[string]string{"date": "2026-10-01", "title": "Reading about " + name + "'s cases", "type": "reading",
		"hours": "2", "learnt": "Things.", "impact": "More things."}, "evidence", "notes.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("cpd: %d %s", resp.StatusCode, body)
	}
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	if resp, body := m.postMultipart("/manage/advocates/"+p.id+"/dbs", fields, "scan", "scan.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	m.post("/manage/advocates/"+p.id+"/references", url.Values{"referee": {"Rosa Referee"}, "relationship": {"Former manager"}, "contact": {"r@example.org"},
		"received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "notes": {"Says " + name + " is reliable."}, "verified_directly": {"yes"}})
	m.post("/manage/advocates/"+p.id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}})
	// A notification for them, and one for the manager that names them.
	if _, err := w.env.DB.AddNotification(ctx, p.id, notify.Notification{ID: "n-" + p.id, At: w.clock(), Subject: "Your DBS check is due", Text: "Soon."}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.env.DB.AddNotification(ctx, w.users["manager"].ID, notify.Notification{ID: "m-" + p.id, At: w.clock(), Subject: "Overdue: " + name + "'s DBS check", Text: name + " is overdue."}); err != nil {
		w.t.Fatal(err)
	}
	certs, err := w.env.DB.CertificatesOfUser(ctx, p.id)
	if err != nil || len(certs) != 1 {
		w.t.Fatalf("certificates: %d, %v", len(certs), err)
	}
	p.codes = []string{certs[0].Code}
	return p
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	return out
}

func TestDownloadMyDataHoldsEveryRecordAboutThePersonAndNothingAboutOthers(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	ivy := w.fullPerson("Ivy Exportington", "ivy.exportington@example.org")
	kit := w.fullPerson("Kit Otherperson", "kit.otherperson@example.org")

	// Every collection the code has written to on the way (this database
	// starts empty, without the schema) says what it holds about people,
	// so a new collection cannot be left out of the export unnoticed.
	names, err := w.env.DB.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 15 {
		t.Fatalf("only %d collections written: %v", len(names), names)
	}
	for _, name := range names {
		if _, ok := store.HoldingOf(name); !ok {
			t.Errorf("collection %s is used but has no Holding in store.Holdings", name)
		}
	}
	u, _ := w.env.DB.User(ctx, ivy.id)
	p := store.Person{UserID: ivy.id, Email: u.Email, CertificateCodes: ivy.codes}
	counts := map[string]int{}
	for _, h := range store.Holdings {
		n, err := w.env.DB.CountPersonal(ctx, h, p)
		if err != nil {
			t.Fatal(err)
		}
		counts[h.Collection] = n
	}
	c := w.client(w.srv, w.sessionFor(ivy.id))
	counts["sessions"]++ // the session downloading it
	resp, body := c.do("GET", "/account/export", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	files := unzip(t, []byte(body))

	// Every collection that holds records about Ivy is in the file, with
	// every one of those records.
	want := []string{"users", "user_emails", "sessions", "password_resets", "outbox", "notifications", "enrolments", "attempts", "submissions",
		"certificates", "certificate_claims", "certificate_revisions", "certificate_hashes", "audit_events", "advocates", "compliance_rollups"}
	for _, h := range store.Holdings {
		n := counts[h.Collection]
		data, ok := files["data/"+h.Collection+".json"]
		if n == 0 {
			if ok {
				t.Errorf("%s: in the file but Ivy has no records there", h.Collection)
			}
			continue
		}
		var docs []map[string]any
		if err := json.Unmarshal(data, &docs); err != nil {
			t.Fatalf("%s: %v", h.Collection, err)
		}
		if len(docs) != n {
			t.Errorf("%s: %d records in the file, %d in the database", h.Collection, len(docs), n)
		}
	}
	for _, coll := range want {
		if _, ok := files["data/"+coll+".json"]; !ok {
			t.Errorf("the export has no %s (the fixture should have put records there)", coll)
		}
	}
	// The files: certificate, CPD evidence and DBS scan.
	var pdfs, images int
	for name, b := range files {
		switch {
		case strings.HasPrefix(name, "files/certificates/") && bytes.HasPrefix(b, []byte("%PDF")):
			pdfs++
		case (strings.HasPrefix(name, "files/cpd-evidence/") || strings.HasPrefix(name, "files/dbs-scans/")) && bytes.Equal(b, pngBytes()):
			images++
		}
	}
	if pdfs != 1 || images != 2 {
		t.Fatalf("files in the export: %d certificate PDFs, %d evidence/scan images; names %v", pdfs, images, keys(files))
	}
	// Nothing about Kit, and no secrets.
	for name, b := range files {
		for _, needle := range []string{kit.id, kit.name, kit.email, kit.codes[0], "password_hash", "argon2id"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s contains %q", name, needle)
			}
		}
	}
	if !bytes.Contains(files["data/users.json"], []byte(ivy.email)) || !bytes.Contains(files["data/advocates.json"], []byte("Reading about Ivy Exportington")) {
		t.Fatal("the export lacks Ivy's own details")
	}

	// The manager who kept both records downloads theirs: its audit trail
	// says what they did, but nothing about the people they did it to.
	// (Messages sent to the manager stay as they were received.)
	_, body = w.client(w.srv, w.session("manager")).do("GET", "/account/export", nil)
	files = unzip(t, []byte(body))
	audit := files["data/audit_events.json"]
	if !bytes.Contains(audit, []byte("reference.create")) {
		t.Fatal("the manager's export does not list the actions they took")
	}
	for _, needle := range []string{ivy.id, ivy.name, ivy.email, kit.id, kit.name, kit.email, "Rosa Referee"} {
		if bytes.Contains(audit, []byte(needle)) {
			t.Errorf("the manager's audit trail contains %q", needle)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestErasureLeavesNoPersonalDataInTheDatabaseOrStorage(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	eve := w.fullPerson("Eve Erasable", "eve.erasable@example.org")
	kit := w.fullPerson("Kit Keepable", "kit.keepable@example.org")
	admin := w.client(w.srv, w.session("admin"))

	// The dry run says what will happen and changes nothing.
	_, page := admin.do("GET", "/admin/users/"+eve.id+"/erase", nil)
	for _, want := range []string{"This is a dry run", "files deleted from storage", "records deleted from enrolments", "certificates kept for verification without the name"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the erasure plan lacks %q", want)
		}
	}
	if u, _ := w.env.DB.User(ctx, eve.id); u.Name != "Eve Erasable" || u.Disabled {
		t.Fatal("the dry run changed the account")
	}
	// A wrong confirmation is refused, keeping what was typed.
	resp, page := admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {"someone@else.org"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `value="someone@else.org"`) {
		t.Fatalf("wrong confirmation: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {eve.email}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}

	needles := []string{eve.name, eve.email, strings.ToLower(eve.name)}
	// The database, through the driver: every document of every collection.
	names, err := w.env.DB.DB.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, coll := range names {
		cur, err := w.env.DB.DB.Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			doc, _ := bson.MarshalExtJSON(cur.Current, false, false)
			for _, n := range needles {
				if strings.Contains(strings.ToLower(string(doc)), strings.ToLower(n)) {
					t.Errorf("%s still holds %q: %.300s", coll, n, doc)
				}
			}
		}
	}
	rollups, _ := w.env.DB.Rollups(ctx)
	for _, ru := range rollups {
		if _, ok := ru.Rows[eve.id]; ok {
			t.Error("the compliance dashboard still has Eve's row")
		}
		if _, ok := ru.Rows[kit.id]; !ok {
			t.Error("Kit's dashboard row went too")
		}
	}
	// The database's files on disk.
	if found := testenv.GrepDataDir(t, needles); len(found) > 0 {
		dbgFiles(t, needles)
		t.Errorf("the database files still contain %v", found)
	}
	// Object storage: nothing of Eve's; Kit's files are still there.
	var eveObjects, kitObjects int
	_ = w.env.Blob.List(ctx, "", func(key string, _ int64) error {
		r, _, err := w.env.Blob.Open(ctx, key)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if strings.Contains(key, eve.id) || strings.Contains(key, eve.codes[0]) || bytes.Contains(b, []byte(eve.name)) || bytes.Contains(b, []byte(eve.email)) {
			eveObjects++
		}
		if strings.Contains(key, kit.id) || strings.Contains(key, kit.codes[0]) {
			kitObjects++
		}
		return nil
	})
	if eveObjects != 0 || kitObjects != 3 {
		t.Fatalf("objects: %d of Eve's left, %d of Kit's (want 0 and 3)", eveObjects, kitObjects)
	}

	// The account is anonymised and cannot sign in; the certificate still
	// verifies, without the name.
	u, _ := w.env.DB.User(ctx, eve.id)
	if u.Name != "Erased user" || !u.Disabled || u.PasswordHash != "" || u.ErasedAt == nil {
		t.Fatalf("account after erasure: %+v", u)
	}
	_, page = w.client(w.srv, "").do("GET", "/verify/"+eve.codes[0], nil)
	if !strings.Contains(page, "This certificate is valid") || !strings.Contains(page, "Withheld") {
		t.Fatal("the certificate should still verify, without the name")
	}
	// Kit is untouched.
	if a, err := w.env.DB.Advocate(ctx, kit.id); err != nil || a.Name != kit.name || len(a.CPD) != 2 {
		t.Fatalf("Kit's record: %v", err)
	}
	// The audit log records the erasure, without naming Eve.
	if _, page := admin.do("GET", "/admin/audit?action=user.erase", nil); !strings.Contains(page, "user:"+eve.id) {
		t.Fatal("the erasure is not in the audit log")
	}
	// Erasing twice says so.
	if resp, _ := admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {u.Email}}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second erasure: %d", resp.StatusCode)
	}
}

// dbgFiles logs where in the database files each needle was found.
func dbgFiles(t *testing.T, needles []string) {
	dir := testenv.DataDir(t)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, n := range needles {
			if i := bytes.Index(b, []byte(n)); i >= 0 {
				lo := max(0, i-200)
				t.Logf("%s (%d bytes) has %q at %d: %q", e.Name(), len(b), n, i, b[lo:min(len(b), i+100)])
			}
		}
	}
}

func TestRetentionDeletesEndedAdvocatesRecordsAfterThePeriodWithADryRunFirst(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	ron := w.fullPerson("Ron Retained", "ron.retained@example.org")
	if _, err := w.svc.Comply.UpdateProfile(ctx, w.users["manager"], ron.id, compliance.ProfileForm{Profession: "other-advocate", Status: "ended",
		ContractStart: "2026-01-05", ManagerID: w.users["manager"].ID}); err != nil {
		t.Fatal(err)
	}
	admin := w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/retention", nil); !strings.Contains(page, "Nothing is due for deletion") {
		t.Fatal("nothing should be due the day the contract ends")
	}
	// Six years later (72 months by default) the record is due; the dry run lists it.
	w.advance(time.Duration(6*366) * 24 * time.Hour)
	admin = w.client(w.srv, w.session("admin")) // a new day, a new sign-in
	_, page := admin.do("GET", "/admin/retention", nil)
	if !strings.Contains(page, "Compliance record of Ron Retained (2 CPD entries, 2 files)") || !strings.Contains(page, "copies of emails") {
		t.Fatalf("the dry run does not list the record and the old emails: %.3000s", page)
	}
	if _, err := w.env.DB.Advocate(ctx, ron.id); err != nil {
		t.Fatal("the dry run deleted the record")
	}
	if resp, _ := admin.post("/admin/retention", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("run: %d", resp.StatusCode)
	}
	if _, err := w.env.DB.Advocate(ctx, ron.id); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("the record is still there: %v", err)
	}
	n := 0
	_ = w.env.Blob.List(ctx, "evidence/"+ron.id+"/", func(string, int64) error { n++; return nil })
	if n != 0 {
		t.Fatal("the evidence files are still there")
	}
	if _, page := admin.do("GET", "/admin/retention", nil); !strings.Contains(page, "Nothing is due for deletion") {
		t.Fatal("after the run, nothing should be left to delete")
	}
	// The account itself (a learner) stays, with its certificate.
	if u, err := w.env.DB.User(ctx, ron.id); err != nil || u.Name != "Ron Retained" {
		t.Fatal("the retention job removed the account")
	}
}
