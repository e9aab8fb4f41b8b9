package server_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
)

// DBS checks and references: scans, decisions and outcomes recorded later.

func TestUploadsAreCheckedByContentAndScansPurgedAfterSixMonths(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Mary Seacole", "mary@example.org")
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	// A text file named .png is refused, and nothing is stored.
	resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "scan", "scan.png", []byte("not really an image"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "is not a PDF, JPEG or PNG file") {
		t.Fatalf("fake PNG: got %d", resp.StatusCode)
	}
	if !strings.Contains(body, `value="Maya Manager"`) {
		t.Fatal("the form lost what was typed")
	}
	count := func(prefix string) int {
		n := 0
		_ = w.env.Blob.List(ctx, prefix, func(string, int64) error { n++; return nil })
		return n
	}
	if a, _ := w.env.DB.Advocate(ctx, id); len(a.DBS) != 0 || count("dbs-scans/") != 0 {
		t.Fatal("a refused upload left a record or a file behind")
	}
	// Over 10 MB is refused.
	big := append(pngBytes(), make([]byte, 10<<20)...)
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "scan", "big.png", big); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "larger than 10 MB") {
		t.Fatalf("oversized scan: got %d", resp.StatusCode)
	}
	// A real PNG is kept until six months after the decision.
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "scan", "scan.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("scan: %d %s", resp.StatusCode, body)
	}
	if count("dbs-scans/") != 1 {
		t.Fatal("scan not stored")
	}
	// Six calendar months from the decision (recorded now): a day before,
	// nothing goes; the day itself, the scan goes.
	due := compliance.ScanDeleteAfter(w.clock())
	w.advance(due.Sub(w.clock()) - 24*time.Hour)
	if n, err := w.svc.Comply.PurgeScans(ctx); err != nil || n != 0 {
		t.Fatalf("purge before six months: %d, %v", n, err)
	}
	w.advance(2 * 24 * time.Hour)
	// The admin's retention page lists the scan (a dry run), then deletes it.
	admin := w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/retention", nil); !strings.Contains(page, "DBS certificate scan of Mary Seacole") {
		t.Fatalf("the retention dry run does not list the scan: %.2000s", page)
	}
	if count("dbs-scans/") != 1 {
		t.Fatal("the dry run deleted the scan")
	}
	if resp, _ := admin.post("/admin/retention", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retention run: %d", resp.StatusCode)
	}
	if n, err := w.svc.Comply.PurgeScans(ctx); err != nil || n != 0 {
		t.Fatalf("purge after the retention run: %d, %v; want nothing left", n, err)
	}
	a, _ := w.env.DB.Advocate(ctx, id)
	if count("dbs-scans/") != 0 || a.DBS[0].ScanKey != "" || a.DBS[0].ScanDeletedAt == nil || a.DBS[0].NumberLast4 != "7890" || a.DBS[0].Level != "enhanced" {
		t.Fatalf("after the purge: files %d, record %+v", count("dbs-scans/"), a.DBS[0])
	}
}

// TestDecisionAndReferenceRecordedLater: a DBS check saved while the
// decision is awaited, with a scan, and a reference requested but not yet
// received are completed later from the advocate's page. The scan is then
// kept six months from the decision, and the decision notes go at the same
// time, leaving what an audit needs.
func TestDecisionAndReferenceRecordedLater(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Eglantyne Jebb", "eglantyne@example.org")
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	fields["decision"], fields["decision_notes"] = "", ""
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "scan", "scan.png", pngBytes()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs awaiting a decision: %d %.500s", resp.StatusCode, body)
	}
	a, _ := w.env.DB.Advocate(ctx, id)
	check := a.DBS[0].ID
	if a.DBS[0].Decision != "" || a.DBS[0].ScanDeleteAfter != nil {
		t.Fatalf("before the decision: %+v", a.DBS[0])
	}
	_, page := m.do("GET", "/manage/advocates/"+id, nil)
	if !strings.Contains(page, "awaiting a decision") || !strings.Contains(page, "Record the decision") {
		t.Fatal("the page does not offer to record the awaited decision")
	}
	// A missing choice is refused with the notes kept.
	resp, page := m.post("/manage/advocates/"+id+"/dbs/"+check+"/decision", url.Values{"decision_notes": {"Risk assessment by the panel"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Select the decision") || !strings.Contains(page, "Risk assessment by the panel") {
		t.Fatalf("decision without a choice: %d", resp.StatusCode)
	}
	w.advance(24 * time.Hour)
	m = w.client(w.srv, w.session("manager")) // signed in again the next day
	if resp, page := m.post("/manage/advocates/"+id+"/dbs/"+check+"/decision", url.Values{"decision": {"clear-after-risk-assessment"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Record the risk assessment in the notes") {
		t.Fatalf("clear after risk assessment without notes: %d", resp.StatusCode)
	}
	if resp, body := m.post("/manage/advocates/"+id+"/dbs/"+check+"/decision", url.Values{"decision": {"clear-after-risk-assessment"}, "decision_notes": {"Risk assessment by the panel"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("decision: %d %.300s", resp.StatusCode, body)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	d := a.DBS[0]
	if d.Decision != "clear-after-risk-assessment" || d.DecisionAt == nil || d.ScanDeleteAfter == nil || !d.ScanDeleteAfter.Equal(compliance.ScanDeleteAfter(*d.DecisionAt)) {
		t.Fatalf("after the decision: %+v", d)
	}
	if _, page := m.do("GET", "/manage/advocates/"+id, nil); !strings.Contains(page, "Notes: Risk assessment by the panel") {
		t.Fatal("the decision notes are not shown to the manager")
	}

	// A reference requested, received later.
	if resp, body := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"Rosa"}, "relationship": {"Former manager"}, "contact": {"rosa@example.org"},
		"requested_at": {"2026-11-01"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference requested: %d %.500s", resp.StatusCode, body)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	ref := a.References[0].ID
	if resp, page := m.post("/manage/advocates/"+id+"/references/"+ref+"/outcome", url.Values{"received_at": {"2026-10-01"}, "outcome": {"satisfactory"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "cannot be before the date requested") {
		t.Fatalf("received before requested: %d", resp.StatusCode)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/references/"+ref+"/outcome", url.Values{"received_at": {"2026-11-20"}, "outcome": {"satisfactory"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference received: %d", resp.StatusCode)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	if r := a.References[0]; r.Outcome != "satisfactory" || r.ReceivedAt == nil || r.ReceivedAt.Format(time.DateOnly) != "2026-11-20" {
		t.Fatalf("reference after its outcome: %+v", r)
	}
	events, _, err := w.env.DB.Events(ctx, audit.Query{Target: "advocate:" + id, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, e := range events {
		actions[e.Action] = true
	}
	if !actions["dbs.decision"] || !actions["reference.outcome"] {
		t.Fatalf("audit actions: %v", actions)
	}

	// Six months after the decision the scan and the notes go; the check
	// keeps its level, number, date and decision.
	w.advance(compliance.ScanDeleteAfter(w.clock()).Sub(w.clock()))
	m = w.client(w.srv, w.session("manager"))
	if n, err := w.svc.Comply.PurgeScans(ctx); err != nil || n != 1 {
		t.Fatalf("scan purge: %d, %v", n, err)
	}
	if _, err := w.svc.Comply.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	if d := a.DBS[0]; d.DecisionNotes != "" || d.ScanKey != "" || d.Decision != "clear-after-risk-assessment" || d.CertificateNumber == "" || d.Level != "enhanced" {
		t.Fatalf("after six months: %+v", d)
	}
	if _, page := m.do("GET", "/manage/advocates/"+id, nil); strings.Contains(page, "Notes:") || strings.Contains(page, "cannot be decrypted") {
		t.Fatal("the page still shows decision notes after six months")
	}
}
