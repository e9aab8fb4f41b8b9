package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

// sessionFor signs any user in.
func (w *world) sessionFor(userID string) string {
	token, id := auth.NewToken()
	now := w.clock()
	if err := w.env.DB.InsertSession(context.Background(), &auth.Session{ID: id, UserID: userID, Created: now, LastSeen: now, Expires: now.Add(auth.SessionAbsolute)}); err != nil {
		w.t.Fatal(err)
	}
	return token
}

// createAdvocate has the org A manager add an advocate and returns its ID.
func (w *world) createAdvocate(name, email string) string {
	w.t.Helper()
	m := w.client(w.srv, w.session("manager"))
	resp, body := m.post("/manage/advocates", url.Values{"name": {name}, "email": {email}, "profession": {"other-advocate"},
		"status": {"active"}, "contract_start": {"2026-03-01"}})
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("create advocate: %d %s", resp.StatusCode, body)
	}
	return strings.TrimPrefix(resp.Header.Get("Location"), "/manage/advocates/")
}

// postMultipart sends a multipart form with one file.
func (c *client) postMultipart(target string, fields map[string]string, fileField, fileName string, file []byte) (*http.Response, string) {
	c.w.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields["_csrf"] = c.csrf()
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := mw.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(file)
	}
	mw.Close()
	req := httptest.NewRequest("POST", target, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.srv.Handler().Test(req, -1)
	if err != nil {
		c.w.t.Fatal(err)
	}
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.String()
}

func pngBytes() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
	return b.Bytes()
}

var dbsFields = map[string]string{"level": "enhanced", "workforce": "child", "certificate_number": "001234567890", "issue_date": "2026-02-01",
	"original_seen_by": "Maya Manager", "original_seen_at": "2026-02-03", "decision": "clear", "barred_children": "yes", "role_eligible": "eligible"}

func TestManagerOfAnotherOrganisationGets403OnEveryComplianceRoute(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Ada Lovelace", "ada@example.org")
	other := w.client(w.srv, w.session("other-manager"))
	n := 0
	for _, rt := range w.srv.Routes() {
		if !strings.HasPrefix(rt.Path, "/manage/advocates/:id") {
			continue
		}
		n++
		target := strings.NewReplacer(":id", id, ":check", "x", ":ref", "x", ":entry", "x", ":n", "0", ":kind", "cpd", ":record", "x").Replace(rt.Path)
		var resp *http.Response
		if rt.Method == "GET" {
			resp, _ = other.do("GET", target, nil)
		} else {
			resp, _ = other.post(target, url.Values{})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s: got %d, want 403", rt.Method, rt.Path, resp.StatusCode)
		}
	}
	if n < 12 {
		t.Fatalf("only %d advocate routes found", n)
	}
	// Their dashboard does not list the other organisation's advocate.
	if _, body := other.do("GET", "/manage", nil); strings.Contains(body, "Ada Lovelace") {
		t.Fatal("another organisation's advocate is on the dashboard")
	}
	if _, body := w.client(w.srv, w.session("manager")).do("GET", "/manage", nil); !strings.Contains(body, "Ada Lovelace") {
		t.Fatal("the advocate is not on their own organisation's dashboard")
	}
	// A learner cannot see the advocate either.
	if resp, _ := w.client(w.srv, w.session("learner")).do("GET", "/manage/advocates/"+id, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("learner: got %d, want 403", resp.StatusCode)
	}
}

func TestSensitiveFieldsAreEncryptedAtRestAndRevealsAudited(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Grace Hopper", "grace@example.org")
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	fields["certificate_number"] = "987650123456"
	fields["decision_notes"] = "needle-dbs-notes-4471"
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"Rosa Parks"}, "relationship": {"Former line manager"},
		"contact": {"rosa@example.org"}, "received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "notes": {"needle-reference-notes-9932"}, "verified_directly": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference: %d", resp.StatusCode)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}, "sup_notes": {"needle-supervision-5510"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("supervision: %d", resp.StatusCode)
	}
	_, page := m.do("GET", "/manage/advocates/"+id, nil)
	if strings.Contains(page, "987650123456") || !strings.Contains(page, "3456") || !strings.Contains(page, "needle-reference-notes-9932") {
		t.Fatal("the page should mask the DBS number and show the decrypted notes to the manager")
	}
	found := testenv.GrepDataDir(t, []string{"987650123456", "needle-dbs-notes-4471", "needle-reference-notes-9932", "needle-supervision-5510"})
	if len(found) > 0 {
		t.Fatalf("plain text in the raw database files: %v", found)
	}
	if found := testenv.GrepDataDir(t, []string{"Rosa Parks"}); len(found) == 0 {
		t.Fatal("the referee's name (not secret) is not in the files either: is the grep reading them?")
	}
	// Revealing the number shows it and writes an audit event.
	a, _ := w.env.DB.Advocate(context.Background(), id)
	resp, body := m.post("/manage/advocates/"+id+"/dbs/"+a.DBS[0].ID+"/reveal", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "987650123456") {
		t.Fatalf("reveal: %d", resp.StatusCode)
	}
	admin := w.client(w.srv, w.session("admin"))
	if _, body := admin.do("GET", "/admin/audit?action=dbs.reveal", nil); !strings.Contains(body, "DBS certificate number revealed") || !strings.Contains(body, `href="/manage/advocates/`+id+`"`) {
		t.Fatal("the reveal is not in the audit log")
	}
	// Showing the decrypted notes is audited too, naming the records: once
	// a day per person and record, however often the page is shown (the
	// page was shown twice: the GET and after the reveal).
	events, _, err := w.env.DB.Events(context.Background(), audit.Query{Action: "advocate.notes_viewed", Target: "advocate:" + id, Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != w.users["manager"].ID {
		t.Fatalf("views of the notes in the audit log: %d, %v", len(events), err)
	}
	if recs := fmt.Sprint(events[0].After["records"]); strings.Count(recs, " ") != 2 {
		t.Fatalf("the audit event names %v, want the DBS check, the reference and the supervision", events[0].After["records"])
	}
}

func TestMandatoryCourseCompletionBecomesCPDAndClears(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Florence Nightingale", "florence@example.org")
	m := w.client(w.srv, w.session("manager"))
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", map[string]string{"level": "enhanced", "workforce": "child", "certificate_number": "001234567890",
		"issue_date": "2026-02-01", "original_seen_by": "Maya", "original_seen_at": "2026-02-03", "decision": "clear", "barred_children": "yes", "role_eligible": "eligible"}, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	for _, r := range []string{"Rosa", "Ruth"} {
		if resp, _ := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {r}, "relationship": {"Former manager"}, "contact": {"x@example.org"},
			"received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "verified_directly": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatal("reference")
		}
	}
	a, _ := w.env.DB.Advocate(ctx, id)
	if a.Snapshot.Cleared || a.Snapshot.Requirement(compliance.ReqTraining).State != compliance.Missing {
		t.Fatalf("before training: cleared %v, training %s", a.Snapshot.Cleared, a.Snapshot.Requirement(compliance.ReqTraining).State)
	}
	completedLabel := regexp.MustCompile(`Sample course for tests – completed \d{1,2} [A-Z][a-z]+ \d{4}`)
	if _, body := m.do("GET", "/manage/advocates/"+id, nil); strings.Contains(body, "– completed") {
		t.Fatal("the advocate's page says a course is completed before it is")
	}
	// The advocate sees the course they must complete, with a link to it,
	// and can read the policy they are checked against.
	adv := w.client(w.srv, w.sessionFor(id))
	if _, body := adv.do("GET", "/my/compliance", nil); !strings.Contains(body, `<a href="/courses/sample-course">Sample course for tests</a> – not completed yet`) {
		t.Fatal("the advocate's own page does not list the mandatory course to complete")
	}
	if resp, body := adv.do("GET", "/my/compliance/policy", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Compliance policy") || !strings.Contains(body, `href="/my/compliance"`) {
		t.Fatalf("the policy for the advocate: %d", resp.StatusCode)
	}
	// The advocate passes the mandatory course.
	adv.post("/courses/sample-course/enrol", nil)
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		adv.post("/courses/sample-course/lessons/"+l+"/complete", nil)
	}
	n, ids := w.paper(adv)
	if resp, _ := adv.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("submit")
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	if len(a.CPD) != 1 || a.CPD[0].Source != "course:sample-course" || a.CPD[0].Hours != 0.5 {
		t.Fatalf("CPD after the course: %+v", a.CPD)
	}
	if a.Snapshot.Requirement(compliance.ReqTraining).State != compliance.Met || !a.Snapshot.Cleared {
		t.Fatalf("after the course: training %s, cleared %v (%+v)", a.Snapshot.Requirement(compliance.ReqTraining).State, a.Snapshot.Cleared, a.Snapshot.Requirements)
	}
	if _, body := m.do("GET", "/manage/advocates/"+id, nil); !completedLabel.MatchString(body) {
		t.Fatal("the advocate's page does not show when the mandatory course was completed")
	}
	if _, body := adv.do("GET", "/my/compliance", nil); !regexp.MustCompile(`Sample course for tests</a> – completed \d{1,2} [A-Z][a-z]+ \d{4}`).MatchString(body) {
		t.Fatal("the advocate's own page does not show the mandatory course as completed")
	}
	if _, body := adv.do("GET", "/my/compliance", nil); !strings.Contains(body, "Cleared for allocation") || !strings.Contains(body, "Sample course for tests") {
		t.Fatal("the advocate's own page does not show the clearance and the CPD entry")
	}
	events, _, err := w.env.DB.Events(ctx, audit.Query{Target: "advocate:" + id, Action: "cpd.create", Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != "system" || events[0].After["source"] != "course:sample-course" {
		t.Fatalf("audit of the CPD entry the course added: %+v, %v", events, err)
	}
	// A second hand-over (the reconciler) adds nothing.
	w.advance(time.Hour) // past the hand-over's grace
	if err := w.svc.HandOver.HandOver(ctx, learning.EnrolmentID(id, "sample-course")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.HandOver.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if a, _ = w.env.DB.Advocate(ctx, id); len(a.CPD) != 1 {
		t.Fatalf("CPD entries after reconciling: %d", len(a.CPD))
	}
	if events, _, _ = w.env.DB.Events(ctx, audit.Query{Target: "advocate:" + id, Action: "cpd.create", Limit: 10}); len(events) != 1 {
		t.Fatalf("audit events after reconciling: %d, want still 1", len(events))
	}
}

func TestDeletingRecordsIsAuditedAndRemovesEvidence(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Octavia Hill", "octavia@example.org")
	m := w.client(w.srv, w.session("manager"))
	adv := w.client(w.srv, w.sessionFor(id))
	cpd := map[string]string{"date": "2026-10-01", "title": "Reading on section 47 enquiries", "type": "reading", "hours": "2",
		"learnt": "How enquiries are started.", "impact": "Better preparation of parents."}
	for _, c := range []*client{adv, m} { // one entry by the advocate, one by the manager, each with evidence
		if resp, body := c.postMultipart(map[*client]string{adv: "/my/compliance/cpd", m: "/manage/advocates/" + id + "/cpd"}[c], cpd, "evidence", "notes.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("cpd: %d %s", resp.StatusCode, body)
		}
	}
	files := func() int {
		n := 0
		_ = w.env.Blob.List(ctx, "evidence/"+id+"/", func(string, int64) error { n++; return nil })
		return n
	}
	a, _ := w.env.DB.Advocate(ctx, id)
	if len(a.CPD) != 2 || files() != 2 {
		t.Fatalf("before: %d entries, %d files", len(a.CPD), files())
	}
	// The first is the advocate's, the second the manager's: the advocate
	// may not remove the manager's, nor their own once it is verified.
	if resp, _ := adv.post("/my/compliance/cpd/"+a.CPD[1].ID+"/delete", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("advocate removing the manager's entry: got %d, want 403", resp.StatusCode)
	}
	if resp, _ := adv.post("/my/compliance/supervisions/x/delete", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("advocate removing a supervision: got %d, want 403", resp.StatusCode)
	}
	if _, page := adv.do("GET", "/my/compliance", nil); !strings.Contains(page, "/my/compliance/cpd/"+a.CPD[0].ID+"/delete") || strings.Contains(page, "/my/compliance/cpd/"+a.CPD[1].ID+"/delete") {
		t.Fatal("the advocate's page should offer Remove only on the entry they recorded")
	}
	m.post("/manage/advocates/"+id+"/cpd/"+a.CPD[0].ID+"/verify", nil)
	if resp, _ := adv.post("/my/compliance/cpd/"+a.CPD[0].ID+"/delete", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("advocate removing a verified entry: got %d, want 403", resp.StatusCode)
	}
	if _, page := adv.do("GET", "/my/compliance", nil); strings.Contains(page, "/my/compliance/cpd/"+a.CPD[0].ID+"/delete") {
		t.Fatal("the advocate's page offers Remove on a verified entry")
	}
	// An unverified entry of their own they remove: the evidence goes with it.
	if resp, body := adv.postMultipart("/my/compliance/cpd", cpd, "evidence", "notes.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cpd: %d %s", resp.StatusCode, body)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	if resp, _ := adv.post("/my/compliance/cpd/"+a.CPD[2].ID+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("advocate removing their entry: %d", resp.StatusCode)
	}
	// The manager removes the others.
	for _, e := range a.CPD[:2] {
		if resp, _ := m.post("/manage/advocates/"+id+"/cpd/"+e.ID+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("manager removing an entry: %d", resp.StatusCode)
		}
	}
	if a, _ = w.env.DB.Advocate(ctx, id); len(a.CPD) != 0 || files() != 0 {
		t.Fatalf("after: %d entries, %d files", len(a.CPD), files())
	}
	if resp, body := m.post("/manage/advocates/"+id+"/cpd/"+"gone/delete", nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "already have been removed") {
		t.Fatalf("removing a missing entry: %d", resp.StatusCode)
	}
	events, n, err := w.env.DB.Events(ctx, audit.Query{Action: "cpd.delete", Target: "advocate:" + id})
	if err != nil || n != 3 || events[0].Before["title"] != "Reading on section 47 enquiries" || events[0].After != nil {
		t.Fatalf("audit events: %d %+v %v", n, events, err)
	}
}

func TestComplianceFormsKeepInputAndSayWhatIsWrong(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Ida Wells", "ida@example.org")
	m := w.client(w.srv, w.session("manager"))
	resp, body := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"My Mother"}, "relationship": {"mother"}, "contact": {""}, "received_at": {"2030-01-01"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("got %d, want 422", resp.StatusCode)
	}
	for _, want := range []string{"must not come from family members", "Enter contact details", "cannot be in the future", `value="My Mother"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	resp, body = m.post("/manage/advocates", url.Values{"name": {""}, "email": {"not-an-email"}, "profession": {"social-worker"}, "status": {"active"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "registration number") || !strings.Contains(body, `value="not-an-email"`) {
		t.Fatalf("new advocate: %d", resp.StatusCode)
	}
}
