package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// throttleKey stands in for the auth service's keyed hash of an email
// address (auth.Service.AccountThrottleKey).
func throttleKey(email string) string {
	sum := sha256.Sum256([]byte("test key\x00" + email))
	return "acct:" + hex.EncodeToString(sum[:])
}

// somebody writes, through the store's own methods, a record of every
// kind about one person, and returns the IDs written by collection.
func somebody(t *testing.T, db *store.DB, id, name, email string, at time.Time) map[string][]string {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{}
	put := func(coll, id string) { want[coll] = append(want[coll], id) }
	must(db.ClaimEmail(ctx, email, id, at))
	put("user_emails", email)
	must(db.InsertUser(ctx, &auth.User{ID: id, Name: name, Email: email, OrgID: "org", Roles: []auth.Role{auth.RoleLearner, auth.RoleAdvocate}, Created: at}))
	put("users", id)
	must(db.UseTOTPStep(ctx, id, 42))
	put("totp_steps", id)
	if _, _, err := db.UpdateThrottle(ctx, throttleKey(email), auth.Limit{Max: 5, Window: time.Hour}.Reserve(at)); err != nil {
		t.Fatal(err)
	}
	put("throttle", throttleKey(email))
	must(db.InsertSession(ctx, &auth.Session{ID: "s-" + id, UserID: id, Created: at, LastSeen: at, Expires: at.Add(time.Hour)}))
	put("sessions", "s-"+id)
	must(db.InsertReset(ctx, &auth.Reset{ID: "r-" + id, UserID: id, Created: at, Expires: at.Add(time.Hour)}))
	put("password_resets", "r-"+id)
	if _, err := db.InsertMessage(ctx, &notify.Message{ID: "m-" + id, To: email, UserID: id, Subject: "Hello " + name, Created: at, Status: notify.StatusRecorded}); err != nil {
		t.Fatal(err)
	}
	put("outbox", "m-"+id)
	if _, err := db.AddNotification(ctx, id, notify.Notification{ID: "n1", At: at, Subject: "For you"}); err != nil {
		t.Fatal(err)
	}
	put("notifications", id)
	eid := learning.EnrolmentID(id, "course")
	must(db.InsertEnrolment(ctx, &learning.Enrolment{ID: eid, UserID: id, Course: "course", Attempts: map[string]learning.AttemptSummary{}}))
	put("enrolments", eid)
	must(db.InsertAttempt(ctx, &learning.Attempt{ID: eid + "/1", UserID: id, Course: "course", No: 1}))
	put("attempts", eid+"/1")
	// Attempt 2 is drawn but a crash came before the enrolment recorded it.
	must(db.InsertAttempt(ctx, &learning.Attempt{ID: eid + "/2", UserID: id, Course: "course", No: 2}))
	put("attempts", eid+"/2")
	must(db.InsertSubmission(ctx, &learning.Submission{ID: eid + "/1", UserID: id, Course: "course", No: 1, At: at}))
	put("submissions", eid+"/1")
	must(db.SetOpenAttempt(ctx, eid, learning.AttemptSummary{No: 1, Started: at}, at))
	must(db.RecordResult(ctx, eid, learning.AttemptSummary{No: 1, Started: at, Submitted: at, Passed: true, Percent: 100},
		&learning.Completion{At: at, CourseVersion: "v1", Attempt: 1}, nil, at))
	code := strings.ToUpper("C-" + id)
	must(db.InsertClaim(ctx, &certificates.Claim{Key: eid + "/1", Code: code, At: at}))
	put("certificate_claims", eid+"/1")
	exp := at.AddDate(1, 0, 0)
	must(db.InsertCertificate(ctx, &certificates.Certificate{Code: code, EnrolmentID: eid, UserID: id, Name: name, Course: "course", ExpiresAt: &exp,
		Status: certificates.StatusIssued, Revision: 1, SHA256: "sha1-" + id, ClaimedAt: at}))
	put("certificates", code)
	must(db.InsertRevision(ctx, &certificates.Revision{ID: code + "/1", Code: code, N: 1, Name: name, IssuedAt: at}))
	put("certificate_revisions", code+"/1")
	must(db.PutHash(ctx, &certificates.Hash{SHA256: "sha1-" + id, Code: code, Revision: 1}))
	put("certificate_hashes", "sha1-"+id)
	must(db.InsertJob(ctx, &certificates.Job{ID: "j-" + id, By: id, Started: at}))
	put("jobs", "j-"+id)
	must(db.InsertEvent(ctx, &audit.Event{ID: "e-by-" + id, At: at, ActorID: id, Actor: name, Action: "cpd.create", Target: "advocate:" + id}))
	put("audit_events", "e-by-"+id)
	must(db.InsertEvent(ctx, &audit.Event{ID: "e-about-" + id, At: at, ActorID: "admin", Actor: "Admin", Action: "user.update", Target: "user:" + id}))
	put("audit_events", "e-about-"+id)
	scan := "dbs/" + id + "/scan.png"
	must(db.InsertAdvocate(ctx, &compliance.Advocate{ID: id, Name: name, Email: email, OrgID: "org",
		DBS: []compliance.DBSCheck{{ID: "d1", ScanKey: scan}}}))
	put("advocates", id)
	must(db.PutRollupRow(ctx, "org", compliance.Row{ID: id, Name: name}))
	put("compliance_rollups", "org")
	must(db.InsertScan(ctx, &compliance.ScanRecord{Key: scan, AdvocateID: id, CheckID: "d1", DeleteAfter: at}))
	put("dbs_scans", scan)
	must(db.InsertRightsRequest(ctx, &store.RightsRequest{ID: "r-" + id, Kind: "access", Requester: name, Contact: email, How: "email", UserID: id,
		Received: at, Due: at.AddDate(0, 1, 0), Status: "received", Created: at}))
	put("rights_requests", "r-"+id)
	must(db.InsertDataExport(ctx, &store.DataExport{ID: "x-" + id, UserID: id, Status: store.ExportBuilding, Created: at, Expires: at.Add(time.Hour)}))
	put("exports", "x-"+id)
	ses := &live.Session{ID: "live-" + id, Title: "Live", Start: at.AddDate(0, 0, 7), End: at.AddDate(0, 0, 7).Add(time.Hour), Capacity: 5,
		Bookings: map[string]*live.Booking{id: {UserID: id, Name: name, Email: email, Status: live.Booked, At: at}}}
	must(db.ListPersonLiveSession(ctx, id, ses))
	must(db.InsertLiveSession(ctx, ses))
	put("live_sessions", ses.ID)
	must(db.BumpLiveFeed(ctx, id))
	put("live_feeds", id)
	return want
}

// TestPersonDataFindsEveryRecordByID writes a record of every kind about
// two people and checks that PersonData finds exactly each one's, for
// every collection whose Holding says how they are Found (a collection
// that says how but is not gathered fails here), and where others'
// records mention them.
func TestPersonDataFindsEveryRecordByID(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ann := somebody(t, e.DB, "ann", "Ann Example", "ann@example.org", at)
	somebody(t, e.DB, "bob", "Bob Other", "bob@example.org", at)
	// Bob's manager's escalation names Ann; so does a notification of his.
	if _, err := e.DB.InsertMessage(ctx, &notify.Message{ID: "esc", To: "bob@example.org", UserID: "bob", About: []string{"ann"}, Subject: "Ann Example is overdue",
		Created: at, Status: notify.StatusRecorded}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.AddNotification(ctx, "bob", notify.Notification{ID: "n2", At: at, Subject: "Ann Example is overdue", About: []string{"ann"}}); err != nil {
		t.Fatal(err)
	}
	// Ann recorded something on Bob's compliance record.
	if err := e.DB.InsertEvent(ctx, &audit.Event{ID: "e-ann-on-bob", At: at, ActorID: "ann", Actor: "Ann Example", Action: "reference.create", Target: "advocate:bob"}); err != nil {
		t.Fatal(err)
	}
	ann["audit_events"] = append(ann["audit_events"], "e-ann-on-bob")

	p, err := e.DB.PersonData(ctx, "ann", throttleKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range store.Holdings {
		got, want := slices.Sorted(slices.Values(p.Docs[h.Collection])), slices.Sorted(slices.Values(ann[h.Collection]))
		if h.Found != "" && len(want) == 0 {
			t.Errorf("%s says how a person's records are found, but the fixture writes none: add one", h.Collection)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", h.Collection, got, want)
		}
	}
	if len(p.Enrolments) != 1 || len(p.Certificates) != 1 || len(p.Revisions) != 1 || p.Advocate == nil || len(p.Exports) != 1 {
		t.Errorf("records read: %d enrolments, %d certificates, %d revisions, advocate %v, %d exports", len(p.Enrolments), len(p.Certificates), len(p.Revisions), p.Advocate != nil, len(p.Exports))
	}
	if !slices.Equal(p.MentionMessages, []string{"esc"}) || !slices.Equal(p.MentionInboxes, []string{"bob"}) || !slices.Equal(p.ActedOn, []string{"bob"}) {
		t.Errorf("mentions: messages %v, inboxes %v, acted on %v", p.MentionMessages, p.MentionInboxes, p.ActedOn)
	}
	if !slices.Equal(p.ActorNames, []string{"Ann Example"}) {
		t.Errorf("actor names: %v", p.ActorNames)
	}
	var keys []string
	for _, f := range p.Files {
		keys = append(keys, f.Key)
	}
	if !slices.Equal(keys, []string{certificates.ObjectKey(strings.ToUpper("C-ann")), "dbs/ann/scan.png"}) {
		t.Errorf("files: %v", keys)
	}
	// Each document reads back for the download, as JSON, secrets left out.
	for coll, ids := range p.Docs {
		for _, id := range ids {
			doc, err := e.DB.ExportDoc(ctx, coll, id, "ann")
			if err != nil || doc == nil {
				t.Fatalf("%s %s: %v", coll, id, err)
			}
			if strings.Contains(string(doc), "bob") && coll != "audit_events" {
				t.Errorf("%s %s mentions Bob: %s", coll, id, doc)
			}
		}
	}
	if doc, _ := e.DB.ExportDoc(ctx, "audit_events", "e-ann-on-bob", "ann"); strings.Contains(string(doc), "bob") {
		t.Errorf("Ann's event on Bob's record names him in her download: %s", doc)
	}
}
