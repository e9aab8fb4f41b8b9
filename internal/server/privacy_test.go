package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/privacy"
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
	// An access request they made, answered: it names them.
	admin := w.users["admin"]
	r, err := w.svc.Rights.LogRightsRequest(ctx, admin, privacy.RightsForm{Kind: privacy.RightsAccess, Requester: name, Contact: email, How: "email",
		Received: "2026-11-02", Email: email})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, st := range []string{privacy.RightsIdentityChecked, privacy.RightsDone} {
		if _, err := w.svc.Rights.SetRightsStatus(ctx, admin, r.ID, st, "Sent "+name+" their download"); err != nil {
			w.t.Fatal(err)
		}
	}
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	if resp, body := m.postMultipart("/manage/advocates/"+p.id+"/dbs", fields, "scan", "scan.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	m.post("/manage/advocates/"+p.id+"/references", url.Values{"referee": {"Rosa Referee"}, "relationship": {"Former manager"}, "contact": {"r@example.org"},
		"received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "notes": {"Says " + name + " is reliable."}, "verified_directly": {"yes"}})
	m.post("/manage/advocates/"+p.id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}})
	// A notification for them; and for their manager an escalation, by
	// email and in their notifications, that names them (as the reminder
	// job sends: About says whom it names).
	if _, err := w.env.DB.AddNotification(ctx, p.id, notify.Notification{ID: "n-" + p.id, At: w.clock(), Subject: "Your DBS check is due", Text: "Soon."}); err != nil {
		w.t.Fatal(err)
	}
	mgr := w.users["manager"]
	if _, err := w.env.DB.AddNotification(ctx, mgr.ID, notify.Notification{ID: "m-" + p.id, At: w.clock(), Subject: "Overdue: " + name + "'s DBS check",
		Text: name + " is overdue.", About: []string{p.id}}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.svc.Mail.Send(ctx, notify.Message{ID: "esc-" + p.id, To: mgr.Email, UserID: mgr.ID, About: []string{p.id}, Kind: "escalation",
		Subject: "Overdue: " + name + "'s DBS check", Text: name + " (" + email + ") has not had a DBS check.", HTML: "<p>" + html.EscapeString(name) + " is overdue.</p>"}); err != nil {
		w.t.Fatal(err)
	}
	// A place on a live session others book too, with access needs, and a
	// calendar feed link made anew.
	ses := w.sharedLiveSession()
	if resp, body := c.post("/live/"+ses+"/book", url.Values{"access": {"A ramp for " + name}}); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("live booking: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := c.post("/my/live/feed/reset", nil); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("feed reset: %d", resp.StatusCode)
	}
	certs, err := w.svc.Certs.ForUser(ctx, p.id)
	if err != nil || len(certs) != 1 {
		w.t.Fatalf("certificates: %d, %v", len(certs), err)
	}
	p.codes = []string{certs[0].Code}
	return p
}

// sharedLiveSession returns the world's live session, setting it up the
// first time.
func (w *world) sharedLiveSession() string {
	w.t.Helper()
	ctx := context.Background()
	up, err := w.svc.Live.Upcoming(ctx, 10)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range up {
		if s.Title == "Shared live session" {
			return s.ID
		}
	}
	day := w.clock().AddDate(0, 0, 20).Format(time.DateOnly)
	s, err := w.svc.Live.Create(ctx, w.users["admin"], "", live.SessionForm{Title: "Shared live session", Date: day, StartTime: "09:30", EndTime: "12:30",
		Mode: live.InPerson, Venue: "Hall", Capacity: "20"})
	if err != nil {
		w.t.Fatal(err)
	}
	return s.ID
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

// held counts, by searching every collection (a test-only scan, the
// oracle the index is checked against), the documents about a person:
// what the data download must hold, and erasure remove.
func (w *world) held(p *person) map[string]int {
	w.t.Helper()
	ctx := context.Background()
	u, err := w.env.DB.User(ctx, p.id)
	if err != nil {
		w.t.Fatal(err)
	}
	uid, email := p.id, u.Email
	codes := bson.A{}
	for _, c := range p.codes {
		codes = append(codes, c)
	}
	filters := map[string]bson.D{
		"users":                 {{Key: "_id", Value: uid}},
		"user_emails":           {{Key: "$or", Value: bson.A{bson.D{{Key: "user_id", Value: uid}}, bson.D{{Key: "_id", Value: email}}}}},
		"totp_steps":            {{Key: "_id", Value: uid}},
		"throttle":              {{Key: "_id", Value: w.svc.Auth.AccountThrottleKey(email)}},
		"sessions":              {{Key: "user_id", Value: uid}},
		"password_resets":       {{Key: "user_id", Value: uid}},
		"outbox":                {{Key: "$or", Value: bson.A{bson.D{{Key: "user_id", Value: uid}}, bson.D{{Key: "to", Value: email}}}}},
		"notifications":         {{Key: "_id", Value: uid}},
		"enrolments":            {{Key: "user_id", Value: uid}},
		"attempts":              {{Key: "user_id", Value: uid}},
		"submissions":           {{Key: "user_id", Value: uid}},
		"certificates":          {{Key: "user_id", Value: uid}},
		"certificate_claims":    {{Key: "_id", Value: bson.Regex{Pattern: "^" + uid + "/"}}},
		"certificate_revisions": {{Key: "code", Value: bson.D{{Key: "$in", Value: codes}}}},
		"certificate_hashes":    {{Key: "code", Value: bson.D{{Key: "$in", Value: codes}}}},
		"jobs":                  {{Key: "by", Value: uid}},
		"audit_events": {{Key: "$or", Value: bson.A{bson.D{{Key: "actor_id", Value: uid}},
			bson.D{{Key: "target", Value: bson.D{{Key: "$in", Value: bson.A{"user:" + uid, "advocate:" + uid}}}}}}}},
		"advocates":          {{Key: "_id", Value: uid}},
		"compliance_rollups": nil, // rows are one value per organisation: see below
		"live_sessions":      nil, // bookings are one value per session: see below
		"live_feeds":         {{Key: "_id", Value: uid}},
		"dbs_scans":          {{Key: "advocate_id", Value: uid}},
		"exports":            {{Key: "user_id", Value: uid}},
		"rights_requests":    {{Key: "user_id", Value: uid}},
	}
	out := map[string]int{}
	for _, h := range store.Holdings {
		if h.Found == "" {
			continue
		}
		f, ok := filters[h.Collection]
		if !ok {
			w.t.Fatalf("the test does not know how to search %s for a person's records: add it to held", h.Collection)
		}
		if h.Collection == "live_sessions" {
			up, err := w.svc.Live.Upcoming(ctx, 100)
			if err != nil {
				w.t.Fatal(err)
			}
			for _, s := range up {
				if s.Bookings[uid] != nil {
					out[h.Collection]++
				}
			}
			continue
		}
		if h.Collection == "compliance_rollups" {
			// Every organisation's dashboard, decoded: how many hold a row
			// for the person.
			for _, o := range w.orgIDs() {
				if ru, err := w.env.DB.Rollup(ctx, o); err == nil {
					if _, ok := ru.Rows[uid]; ok {
						out[h.Collection]++
					}
				}
			}
			continue
		}
		n, err := w.env.DB.DB.Collection(h.Collection).CountDocuments(ctx, f, options.Count().SetComment(testenv.TestOnly))
		if err != nil {
			w.t.Fatal(err)
		}
		out[h.Collection] = int(n)
	}
	return out
}

var downloadLink = regexp.MustCompile(`href="(/account/export/[0-9a-f]+/download)"`)

// download asks for a data download as the client's user, runs the
// background builder and downloads the file from the link on the page.
func (w *world) download(c *client) map[string][]byte {
	w.t.Helper()
	if resp, _ := c.post("/account/export", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/export" {
		w.t.Fatalf("asking for a download: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n, err := w.svc.Rights.RunExports(context.Background()); err != nil || n != 1 {
		w.t.Fatalf("building the download: %d built, %v", n, err)
	}
	return w.fetchDownload(c)
}

// fetchDownload downloads the newest ready file from the download page.
func (w *world) fetchDownload(c *client) map[string][]byte {
	w.t.Helper()
	_, page := c.do("GET", "/account/export", nil)
	m := downloadLink.FindStringSubmatch(page)
	if m == nil {
		w.t.Fatalf("no download link on the page: %.2000s", page)
	}
	resp, body := c.do("GET", m[1], nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		w.t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return unzip(w.t, []byte(body))
}

// checkDownload checks that files hold every record about p that counts
// says there is (and no others), p's files, and nothing about other.
func checkDownload(t *testing.T, files map[string][]byte, counts map[string]int, p, other *person) {
	t.Helper()
	for _, h := range store.Holdings {
		n := counts[h.Collection]
		data, ok := files["data/"+h.Collection+".json"]
		if n == 0 {
			if ok {
				t.Errorf("%s: in the file but %s has no records there", h.Collection, p.name)
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
	// Nothing about the other person, and no secrets.
	for name, b := range files {
		for _, needle := range []string{other.id, other.name, other.email, other.codes[0], "password_hash", "argon2id"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s contains %q", name, needle)
			}
		}
	}
	if !bytes.Contains(files["data/users.json"], []byte(p.email)) || !bytes.Contains(files["data/advocates.json"], []byte("Reading about "+p.name)) {
		t.Fatalf("the export lacks %s's own details", p.name)
	}
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
	c := w.client(w.srv, w.sessionFor(ivy.id))
	// The page offers a download; asking for one shows its progress, with
	// a progress bar, until the background builder has made it.
	if _, page := c.do("GET", "/account/export", nil); !strings.Contains(page, "Prepare a download of my data") {
		t.Fatal("the page does not offer a download")
	}
	if resp, _ := c.post("/account/export", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("asking for a download: %d", resp.StatusCode)
	}
	_, page := c.do("GET", "/account/export", nil)
	if !strings.Contains(page, `<progress id="export-progress"`) || !strings.Contains(page, `data-refresh="3"`) || !strings.Contains(page, "Check again") ||
		strings.Contains(page, `http-equiv="refresh"`) || strings.Contains(page, "Prepare a download") {
		t.Fatalf("the page does not show the download being prepared: %.3000s", page)
	}
	// Without JavaScript, the person may ask the page to refresh itself.
	if _, page := c.do("GET", "/account/export?auto=on", nil); !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "Stop updating it") {
		t.Fatal("the page cannot be asked to refresh itself")
	}
	// Asking again while it is prepared starts no second one.
	c.post("/account/export", nil)
	counts := w.held(ivy) // everything about Ivy, found by searching
	if n, err := w.svc.Rights.RunExports(ctx); err != nil || n != 1 {
		t.Fatalf("building: %d, %v", n, err)
	}
	files := w.fetchDownload(c)
	checkDownload(t, files, counts, ivy, kit)
	for _, coll := range []string{"users", "user_emails", "sessions", "password_resets", "outbox", "notifications", "enrolments", "attempts", "submissions",
		"certificates", "certificate_claims", "certificate_revisions", "certificate_hashes", "audit_events", "advocates", "compliance_rollups", "dbs_scans", "exports"} {
		if _, ok := files["data/"+coll+".json"]; !ok {
			t.Errorf("the export has no %s (the fixture should have put records there)", coll)
		}
	}
	// Ivy was told, by email and in her notifications, with a link.
	msgs, _, err := w.env.DB.Messages(ctx, ivy.email, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, m := range msgs {
		if m.Subject == "Your data download is ready" && strings.Contains(m.Text, "http://lms.test/account/export") {
			told++
		}
	}
	if told != 1 {
		t.Errorf("%d emails say the download is ready, want 1", told)
	}
	if _, page := c.do("GET", "/notifications", nil); !strings.Contains(page, "Your data download is ready") {
		t.Error("no notification says the download is ready")
	}
	// The download is audited, and only Ivy may have it.
	_, page = c.do("GET", "/account/export", nil)
	m := downloadLink.FindStringSubmatch(page)
	for _, who := range []string{"learner", "admin"} {
		if resp, _ := w.client(w.srv, w.session(who)).do("GET", m[1], nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s downloading Ivy's data: got %d, want 404", who, resp.StatusCode)
		}
	}
	if evs, _, err := w.svc.Audit.Events(ctx, audit.Query{Action: "user.export", Target: "user:" + ivy.id}); err != nil || len(evs) != 1 {
		t.Errorf("user.export events: %d, %v", len(evs), err)
	}

	// The manager who kept both records downloads theirs: its audit trail
	// says what they did, but nothing about the people they did it to.
	// (Messages sent to the manager stay as they were received.)
	files = w.download(w.client(w.srv, w.session("manager")))
	trail := files["data/audit_events.json"]
	if !bytes.Contains(trail, []byte("reference.create")) {
		t.Fatal("the manager's export does not list the actions they took")
	}
	for _, needle := range []string{ivy.id, ivy.name, ivy.email, kit.id, kit.name, kit.email, "Rosa Referee"} {
		if bytes.Contains(trail, []byte(needle)) {
			t.Errorf("the manager's audit trail contains %q", needle)
		}
	}
}

// TestInterruptedDataDownloadIsFinishedByTheNextRun stops the builder
// part-way (its context cancelled, as at a shutdown) and checks that the
// next run builds the whole file.
func TestInterruptedDataDownloadIsFinishedByTheNextRun(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	una := w.fullPerson("Una Interrupted", "una.interrupted@example.org")
	kit := w.fullPerson("Kit Otherperson", "kit.otherperson@example.org")
	c := w.client(w.srv, w.sessionFor(una.id))
	if resp, _ := c.post("/account/export", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("asking for a download: %d", resp.StatusCode)
	}
	counts := w.held(una)
	stopped, cancel := context.WithCancel(ctx)
	written := 0
	w.svc.Rights.AfterExportRecord = func(_ string, done int) {
		written = done
		if done == 5 {
			cancel()
		}
	}
	if _, err := w.svc.Rights.RunExports(stopped); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped run: %v, want context.Canceled", err)
	}
	if written != 5 {
		t.Fatalf("the builder went on after it was stopped: %d written", written)
	}
	exps, err := w.svc.Rights.Exports(ctx, una.id)
	if err != nil || len(exps) != 1 || exps[0].Status != privacy.ExportBuilding {
		t.Fatalf("after the stop: %+v, %v", exps, err)
	}
	if _, page := c.do("GET", "/account/export", nil); downloadLink.MatchString(page) || !strings.Contains(page, "records and files written") {
		t.Fatalf("the page should show the download still being prepared: %.2000s", page)
	}
	if _, _, err := w.env.Blob.Open(ctx, privacy.ExportKey(una.id, exps[0].ID)); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("a part-built file was stored: %v", err)
	}
	w.svc.Rights.AfterExportRecord = nil
	if n, err := w.svc.Rights.RunExports(ctx); err != nil || n != 1 {
		t.Fatalf("the next run: %d built, %v", n, err)
	}
	checkDownload(t, w.fetchDownload(c), counts, una, kit)
	if n, err := w.svc.Rights.RunExports(ctx); err != nil || n != 0 {
		t.Fatalf("a run after it was built: %d built, %v (the queue should be empty)", n, err)
	}
}

// TestDataDownloadExpiresAfterAWeek: the hourly job deletes the file, then
// the record, once the download is seven days old.
func TestDataDownloadExpiresAfterAWeek(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	learner := w.users["learner"]
	c := w.client(w.srv, w.session("learner"))
	w.download(c)
	exps, err := w.svc.Rights.Exports(ctx, learner.ID)
	if err != nil || len(exps) != 1 || exps[0].Status != privacy.ExportReady {
		t.Fatalf("downloads: %+v, %v", exps, err)
	}
	e := exps[0]
	key := privacy.ExportKey(learner.ID, e.ID)
	_, page := c.do("GET", "/account/export", nil)
	link := downloadLink.FindStringSubmatch(page)[1]
	// Six days on, it is still there.
	w.advance(6 * 24 * time.Hour)
	c = w.client(w.srv, w.session("learner")) // a new day, a new sign-in
	if n, err := w.svc.Rights.ExpireExports(ctx); err != nil || n != 0 {
		t.Fatalf("expired after six days: %d, %v", n, err)
	}
	if resp, _ := c.do("GET", link, nil); resp.StatusCode != 200 {
		t.Fatalf("download after six days: %d", resp.StatusCode)
	}
	// Past seven days, the link no longer works and the job deletes both.
	w.advance(24*time.Hour + 2*time.Hour)
	c = w.client(w.srv, w.session("learner"))
	if resp, _ := c.do("GET", link, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("download after seven days: %d, want 404", resp.StatusCode)
	}
	if n, err := w.svc.Rights.ExpireExports(ctx); err != nil || n != 1 {
		t.Fatalf("expired after seven days: %d, %v", n, err)
	}
	if _, _, err := w.env.Blob.Open(ctx, key); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("the file is still in storage: %v", err)
	}
	if _, err := w.env.DB.DataExport(ctx, e.ID); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("the record is still there: %v", err)
	}
	if _, page := w.client(w.srv, w.session("learner")).do("GET", "/account/export", nil); downloadLink.MatchString(page) || !strings.Contains(page, "no downloads waiting") {
		t.Fatal("the page still lists the expired download")
	}
	if n, err := w.svc.Rights.ExpireExports(ctx); err != nil || n != 0 {
		t.Fatalf("a second run: %d, %v", n, err)
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
	w.download(w.client(w.srv, w.sessionFor(eve.id))) // a data download, with its file
	admin := w.client(w.srv, w.session("admin"))

	// The dry run says what will happen and changes nothing.
	before := w.held(eve)
	_, page := admin.do("GET", "/admin/users/"+eve.id+"/erase", nil)
	for _, want := range []string{"This is a dry run", "stored files (certificates, CPD evidence, DBS scans, data downloads) will be deleted",
		"Their course enrolment, with its progress, will be deleted", // fullPerson has one "kept without their name, so that the code still verifies", "download of their data will be deleted",
		"Their row on the compliance dashboard will be removed", "of other people&#39;s messages, notifications and records that mention them will be kept",
		"audit log entries by or about them will be kept with their name and email taken out", "Their account will be anonymised and disabled"} {
		if !strings.Contains(page, want) {
			t.Errorf("the erasure plan lacks %q", want)
		}
	}
	attempts := fmt.Sprintf("<li>Their %d assessment attempts will be deleted.</li>", before["attempts"])
	if before["attempts"] == 1 {
		attempts = "<li>Their assessment attempt will be deleted.</li>"
	}
	if !strings.Contains(page, attempts) {
		t.Fatalf("the plan does not count the attempts (%d): %.4000s", before["attempts"], page)
	}
	// In words a person uses: no collection or setting names.
	plan := page[strings.Index(page, `id="erase-plan"`):]
	plan = plan[:strings.Index(plan, "</form>")]
	for _, stored := range []string{"_", "LMS_", "collection", "records deleted from"} {
		if strings.Contains(visibleText(plan), stored) {
			t.Errorf("the erasure plan says %q: %s", stored, visibleText(plan))
		}
	}
	if u, _ := w.env.DB.User(ctx, eve.id); u.Name != "Eve Erasable" || u.Disabled {
		t.Fatal("the dry run changed the account")
	}
	if after := w.held(eve); !maps.Equal(before, after) {
		t.Fatalf("the dry run changed records: %v, then %v", before, after)
	}
	// A wrong confirmation is refused, keeping what was typed.
	resp, page := admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {"someone@else.org"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `value="someone@else.org"`) {
		t.Fatalf("wrong confirmation: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {eve.email}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	w.checkErased(eve, kit)
}

// TestInterruptedErasureIsFinishedByRunningItAgain stops an erasure after
// several of its steps in turn, as a crash would, and runs it again each
// time: the end state is that of an erasure that ran through.
func TestInterruptedErasureIsFinishedByRunningItAgain(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	ira := w.fullPerson("Ira Interrupted", "ira.interrupted@example.org")
	kit := w.fullPerson("Kit Keepable", "kit.keepable@example.org")
	admin := w.users["admin"]
	crash := errors.New("crash")
	for _, at := range []int{1, 3, 5, 6, 10, 11, 12, 13, 15} {
		w.svc.Rights.FaultAfterEraseStep = func(step int) error {
			if step == at {
				return crash
			}
			return nil
		}
		if _, err := w.svc.Rights.Erase(ctx, admin, ira.id, false); !errors.Is(err, crash) {
			t.Fatalf("stopped after step %d: %v", at, err)
		}
		// The dry run still works on a half-erased person.
		if _, err := w.svc.Rights.Erase(ctx, admin, ira.id, true); err != nil {
			t.Fatalf("dry run after a stop at step %d: %v", at, err)
		}
	}
	w.svc.Rights.FaultAfterEraseStep = nil
	plan, err := w.svc.Rights.Erase(ctx, admin, ira.id, false)
	if err != nil || !plan.Done {
		t.Fatalf("the erasure run again: %v", err)
	}
	w.checkErased(ira, kit)
	// The erasure is audited once, however many runs it took.
	if evs, _, err := w.svc.Audit.Events(ctx, audit.Query{Action: "user.erase", Target: "user:" + ira.id}); err != nil || len(evs) != 1 {
		t.Fatalf("user.erase events: %d, %v", len(evs), err)
	}
}

// checkErased checks that nothing about p is left in the database (through
// the driver and in its files) or in storage, that the manager's messages
// that named p are redacted, and that other is untouched.
func (w *world) checkErased(p, other *person) {
	t := w.t
	t.Helper()
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))
	needles := []string{p.name, p.email, strings.ToLower(p.name)}
	// The database, through the driver: every document of every collection.
	names, err := w.env.DB.DB.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, coll := range names {
		cur, err := w.env.DB.DB.Collection(coll).Find(ctx, bson.D{}, options.Find().SetComment(testenv.TestOnly))
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
	// Of the records about them, only the account (anonymised), the
	// certificates kept for verification, the audit trail and the
	// data-rights requests (the record of what was done) are left.
	for coll, n := range w.held(p) {
		switch coll {
		case "users":
			if n != 1 {
				t.Errorf("the account: %d", n)
			}
		case "certificates", "certificate_revisions", "certificate_hashes", "certificate_claims", "audit_events", "rights_requests":
		default:
			if n != 0 {
				t.Errorf("%s: %d records about them are left", coll, n)
			}
		}
	}
	rollups, _ := w.env.DB.Rollups(ctx)
	for _, ru := range rollups {
		if _, ok := ru.Rows[p.id]; ok {
			t.Error("the compliance dashboard still has their row")
		}
		if _, ok := ru.Rows[other.id]; !ok {
			t.Error("the other advocate's dashboard row went too")
		}
	}
	// The manager's escalation email and notification that named them
	// are kept, with the name and email replaced.
	mgr := w.users["manager"]
	esc, err := w.env.DB.Message(ctx, "esc-"+p.id)
	if err != nil || !strings.Contains(esc.Subject, "[erased]") || !strings.Contains(esc.Text, "[erased] ([erased])") || !strings.Contains(esc.HTML, "[erased]") {
		t.Errorf("the manager's escalation email: %+v, %v", esc, err)
	}
	in, _ := w.env.DB.Inbox(ctx, mgr.ID)
	found := false
	for _, n := range in.Items {
		if n.ID == "m-"+p.id {
			found = n.Subject == "Overdue: [erased]'s DBS check" && n.Text == "[erased] is overdue."
		}
	}
	if !found {
		t.Errorf("the manager's notification is not redacted: %+v", in.Items)
	}
	// The database's files on disk.
	if found := testenv.GrepDataDir(t, needles); len(found) > 0 {
		dbgFiles(t, needles)
		t.Errorf("the database files still contain %v", found)
	}
	// Object storage: nothing of theirs; the other's files are still there.
	var theirs, others int
	_ = w.env.Blob.List(ctx, "", func(key string, _ int64) error {
		r, _, err := w.env.Blob.Open(ctx, key)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if strings.Contains(key, p.id) || strings.Contains(key, p.codes[0]) || bytes.Contains(b, []byte(p.name)) || bytes.Contains(b, []byte(p.email)) {
			theirs++
		}
		if strings.Contains(key, other.id) || strings.Contains(key, other.codes[0]) {
			others++
		}
		return nil
	})
	if theirs != 0 || others != 3 {
		t.Fatalf("objects: %d of theirs left, %d of the other's (want 0 and 3)", theirs, others)
	}

	// The account is anonymised and cannot sign in; the certificate still
	// verifies, without the name.
	u, _ := w.env.DB.User(ctx, p.id)
	if u.Name != "Erased user" || !u.Disabled || u.PasswordHash != "" || u.ErasedAt == nil || u.Erasure != nil {
		t.Fatalf("account after erasure: %+v", u)
	}
	_, page := w.client(w.srv, "").do("GET", "/verify/"+p.codes[0], nil)
	if !strings.Contains(page, "This certificate is valid") || !strings.Contains(page, "Withheld") {
		t.Fatal("the certificate should still verify, without the name")
	}
	// The other advocate is untouched.
	if a, err := w.env.DB.Advocate(ctx, other.id); err != nil || a.Name != other.name || len(a.CPD) != 2 {
		t.Fatalf("the other's record: %v", err)
	}
	// The audit log records the erasure, without naming them; their
	// actions are found by who acted, under "[erased]".
	if _, page := admin.do("GET", "/admin/audit?action=user.erase", nil); !strings.Contains(page, "user:"+p.id) {
		t.Fatal("the erasure is not in the audit log")
	}
	if evs, _, err := w.svc.Audit.Events(ctx, audit.Query{Actor: "[erased]"}); err != nil || len(evs) == 0 {
		t.Errorf("their actions are not found by who acted: %d, %v", len(evs), err)
	}
	// Erasing twice says so.
	if resp, _ := admin.post("/admin/users/"+p.id+"/erase", url.Values{"confirm_email": {u.Email}}); resp.StatusCode != http.StatusConflict {
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

// orgIDs lists every organisation's ID (a test's look at the whole database).
func (w *world) orgIDs() []string {
	w.t.Helper()
	orgs, err := w.env.DB.Orgs(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	return ids
}
