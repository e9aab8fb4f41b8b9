package server_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/testenv"
)

// What managers and admins read: the dashboard's exports and reports, the audit view.

// TestAuditViewFilters: the admin's audit view filters by action, by who
// acted, by record and by date.
func TestAuditViewFilters(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Audrey Audit", "audrey@example.org")
	m := w.client(w.srv, w.session("manager"))
	if resp, _ := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("supervision: %d", resp.StatusCode)
	}
	admin := w.client(w.srv, w.session("admin"))
	rows := func(query string) int {
		t.Helper()
		resp, page := admin.do("GET", "/admin/audit?"+query, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", query, resp.StatusCode)
		}
		return strings.Count(page, `<td data-label="When">`)
	}
	if n := rows("action=supervision&actor=manager+PERSON&target=advocate:" + id); n != 1 {
		t.Fatalf("the manager's supervision on Audrey's record: %d rows, want 1", n)
	}
	// The event reads as words: the action, the advocate's name, the
	// supervision by its date, no stored IDs or Go map dumps.
	_, page := admin.do("GET", "/admin/audit?target=advocate:"+id, nil)
	for _, want := range []string{"Audit log: Audrey Audit", "Supervision recorded", ">Audrey Audit</a>", "Date: 1 November 2026", "Kind: Individual", "Supervisor: Maya"} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit view does not say %q", want)
		}
	}
	if text := visibleText(page); strings.Contains(text, "map[") || strings.Contains(text, "advocate:") || strings.Contains(text, "supervision.create") {
		t.Errorf("the audit view shows stored names or IDs: %s", text)
	}
	if n := rows("action=supervision&actor=nobody"); n != 0 {
		t.Fatalf("another actor: %d rows, want 0", n)
	}
	if n := rows("action=supervision&from=2026-11-23"); n != 0 {
		t.Fatalf("from the next day: %d rows, want 0", n)
	}
	if resp, page := admin.do("GET", "/admin/audit?from=yesterday", nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "From must be a real date") {
		t.Fatalf("a bad date: %d", resp.StatusCode)
	}
}

// TestDashboardExportsAndReports: the dashboard's CSV has a row per
// advocate with every requirement's state and due date; the organisation's
// and an advocate's PDF reports render (checked with pdftotext).
func TestDashboardExportsAndReports(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Rowena Report", "rowena@example.org")
	w.createAdvocate("Silas Second", "silas@example.org")
	m := w.client(w.srv, w.session("manager"))
	resp, body := m.do("GET", "/manage/advocates.csv", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("CSV: %d rows, %v; want a header and 2 advocates", len(rows), err)
	}
	if rows[0][0] != "Name" || !slices.Contains(rows[0], "DBS check") || !slices.Contains(rows[0], "DBS check due") {
		t.Fatalf("CSV header: %v", rows[0])
	}
	names := []string{rows[1][0], rows[2][0]}
	slices.Sort(names)
	if names[0] != "Rowena Report" || names[1] != "Silas Second" {
		t.Fatalf("CSV names: %v", names)
	}
	// The other organisation's manager sees neither.
	if _, body := w.client(w.srv, w.session("other-manager")).do("GET", "/manage/advocates.csv", nil); strings.Contains(body, "Rowena") {
		t.Fatal("another organisation's manager sees Rowena in their CSV")
	}
	testenv.NeedCommand(t, "pdftotext", "poppler-utils")
	for path, want := range map[string]string{"/manage/report.pdf": "Silas Second", "/manage/advocates/" + id + "/report.pdf": "Rowena Report"} {
		resp, body := m.do("GET", path, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		file := filepath.Join(t.TempDir(), "r.pdf")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		text, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
		if err != nil || !strings.Contains(string(text), want) || !strings.Contains(string(text), "DBS") {
			t.Fatalf("%s: pdftotext %v, text lacks %q:\n%.500s", path, err, want, text)
		}
	}
}

// visibleText is a page's text without its tags and their attributes.
func visibleText(page string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")), " ")
}
