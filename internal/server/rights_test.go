package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
)

// TestDataRightsQueue: an admin logs an erasure request (a bad form keeps
// what was typed), sees it in the queue with its statutory due date, moves
// it on (identity checked; a refusal needs its reason; it cannot jump to
// done), is reminded once a week before and once when overdue, runs the
// erasure from the request, which keeps the request without the person's
// name, and closes it.
func TestDataRightsQueue(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	eve := w.fullPerson("Eve Erasable", "eve.erasable@example.org")
	admin := w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/rights", nil); !strings.Contains(page, "No open requests.") {
		t.Fatal("the empty queue does not say so")
	}

	// A form with problems comes back with what was typed.
	resp, page := admin.post("/admin/rights", url.Values{"requester": {"Eve Erasable"}, "received": {"2026-12-25"}, "email": {"nobody@example.org"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an incomplete request: %d", resp.StatusCode)
	}
	for _, want := range []string{"Choose what they asked for", "Enter how to answer them", "Choose how the request came", "cannot be in the future",
		"No account has this email address", `value="Eve Erasable"`, `value="nobody@example.org"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form with problems lacks %q", want)
		}
	}

	// Logged: received Friday 20 November 2026, due a month on — Sunday
	// 20 December, so Monday 21 December.
	resp, _ = admin.post("/admin/rights", url.Values{"kind": {"erasure"}, "requester": {"Eve Erasable"}, "contact": {"eve.erasable@example.org"},
		"how": {"email"}, "received": {"2026-11-20"}, "email": {"eve.erasable@example.org"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/rights/") {
		t.Fatalf("logging the request: %d to %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/admin/rights/")
	_, page = admin.do("GET", loc, nil)
	if !strings.Contains(page, "The answer is due by 21 December 2026") || !strings.Contains(page, "due by <strong>21 December 2026</strong>") {
		t.Fatalf("the request page does not give the due date:\n%s", visibleText(page))
	}
	if !strings.Contains(page, `href="/admin/users/`+eve.id+`/erase?request=`+id+`"`) {
		t.Fatal("the erasure request does not link to the erasure's dry run")
	}
	_, page = admin.do("GET", "/admin/rights", nil)
	open := page[strings.Index(page, `id="rights-open"`):strings.Index(page, `id="rights-all"`)]
	if !strings.Contains(open, "21 December 2026") || !strings.Contains(open, "Erasure") || !strings.Contains(open, "account: Eve Erasable") {
		t.Fatalf("the open queue:\n%s", visibleText(open))
	}

	// Moving it on: not straight to done; a refusal needs a reason.
	status := func(to, note string) (*http.Response, string) {
		return admin.post("/admin/rights/"+id+"/status", url.Values{"status": {to}, "note": {note}})
	}
	if resp, _ := status("done", ""); resp.StatusCode < 400 {
		t.Fatalf("received straight to done: %d", resp.StatusCode)
	}
	if resp, page := status("refused", ""); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Say why it is refused") {
		t.Fatalf("a refusal without its reason: %d", resp.StatusCode)
	}
	if resp, _ := status("identity-checked", "Replied from the address on the account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("identity checked: %d", resp.StatusCode)
	}
	if _, page := admin.do("GET", loc, nil); !strings.Contains(page, "marked it identity checked – Replied from the address on the account") {
		t.Fatalf("the history does not show the step:\n%s", visibleText(page))
	}
	// Audited: logged and moved on (fullPerson's answered access request
	// has three events of its own).
	evs, _, err := w.env.DB.Events(ctx, audit.Query{Target: "user:" + eve.id, Action: "rights", Limit: 10})
	found := false
	for _, e := range evs {
		found = found || e.Action == "rights.status" && e.After["status"] == "identity-checked" && strings.Contains(e.Note, "Replied from")
	}
	if err != nil || len(evs) != 5 || !found {
		t.Fatalf("audit events of the request: %d, %v", len(evs), err)
	}

	// Reminders: one a week before (on 15 December, 6 days to go), none
	// more that day, one when overdue.
	adminMail := func() []string {
		msgs, _, err := w.env.DB.Messages(ctx, w.user("admin").Email, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			if strings.Contains(m.Subject, "data erasure request") {
				out = append(out, m.Subject)
			}
		}
		return out
	}
	w.advance(time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC).Sub(w.clock()))
	for range 2 {
		if _, err := w.svc.Rights.RemindRights(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := adminMail(); len(got) != 1 || got[0] != "A data erasure request is due on 21 December 2026, in 6 days" {
		t.Fatalf("a week before: %q", got)
	}
	w.advance(8 * 24 * time.Hour) // 23 December
	if _, err := w.svc.Rights.RemindRights(ctx); err != nil {
		t.Fatal(err)
	}
	if got := adminMail(); len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "was due on 21 December 2026") {
		t.Fatalf("overdue: %q", got)
	}

	// The erasure, from the request: it says which request it answers and
	// returns there; the request stays, without her name.
	admin = w.client(w.srv, w.session("admin"))
	if _, page := admin.do("GET", "/admin/users/"+eve.id+"/erase?request="+id, nil); !strings.Contains(page, `id="for-request"`) {
		t.Fatal("the dry run does not say which request it answers")
	}
	resp, _ = admin.post("/admin/users/"+eve.id+"/erase", url.Values{"confirm_email": {"eve.erasable@example.org"}, "request": {id}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc {
		t.Fatalf("the erasure: %d to %q, want back to the request", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = admin.do("GET", loc, nil)
	if strings.Contains(page, "Eve Erasable") || strings.Contains(page, "eve.erasable@example.org") || !strings.Contains(page, "[erased]") {
		t.Fatalf("the request after the erasure:\n%s", visibleText(page))
	}
	if resp, _ := status("done", "Told her by email on 23 December"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("done: %d", resp.StatusCode)
	}
	_, page = admin.do("GET", "/admin/rights", nil)
	if !strings.Contains(page, "No open requests.") || !regexp.MustCompile(`<td data-label="Status">Done</td>`).MatchString(page) {
		t.Fatalf("after it is done:\n%s", visibleText(page))
	}
	// Only admins have the queue.
	if resp, _ := w.client(w.srv, w.session("manager")).do("GET", "/admin/rights", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a manager: %d", resp.StatusCode)
	}
}
