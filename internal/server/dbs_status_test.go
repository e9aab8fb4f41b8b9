package server_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestAdvocateAgreesToStatusChecksAndWithdraws: the advocate gives their
// own consent in the app (a mistake keeps what they typed), the date of
// birth and surname are sealed at rest and shown masked to the manager,
// revealing the date of birth is audited, and withdrawing consent forgets
// both. Nobody consents for a check that is not theirs.
func TestAdvocateAgreesToStatusChecksAndWithdraws(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Dorothy Hodgkin", "dorothy@example.org")
	other := w.createAdvocate("Rosalind Franklin", "rosalind@example.org")
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	fields["update_service"] = "yes"
	for _, who := range []string{id, other} {
		if resp, body := m.postMultipart("/manage/advocates/"+who+"/dbs", fields, "", "", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("dbs: %d %.300s", resp.StatusCode, body)
		}
	}
	a, _ := w.env.DB.Advocate(ctx, id)
	b, _ := w.env.DB.Advocate(ctx, other)
	check, otherCheck := a.DBS[0].ID, b.DBS[0].ID

	me := w.client(w.srv, w.sessionFor(id))
	if _, page := me.do("GET", "/my/compliance", nil); !strings.Contains(page, "Agree to status checks") || !strings.Contains(page, "No consent to status checks is on record") {
		t.Fatalf("the advocate is not asked for consent: %.3000s", page)
	}
	// The policy says what a status check sends and how often it runs.
	if _, page := me.do("GET", "/my/compliance/policy", nil); !strings.Contains(page, "the app can check (once it is connected to the DBS Update Service) a certificate on the Update Service itself every 30 days") {
		t.Fatalf("the policy page does not describe automatic checks: %.3000s", page)
	}
	// Not ticking the box says so and keeps what was typed.
	resp, page := me.post("/my/compliance/dbs/"+check+"/consent", url.Values{"date_of_birth": {"1979-05-12"}, "surname": {"Hodgkin-Crowfoot"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `value="Hodgkin-Crowfoot"`) || !strings.Contains(page, `value="1979-05-12"`) {
		t.Fatalf("consent without agreeing: %d %.3000s", resp.StatusCode, page)
	}
	if a, _ := w.env.DB.Advocate(ctx, id); a.DBS[0].Consent != nil {
		t.Fatal("consent was recorded without agreement")
	}
	// Someone else's check is not theirs to consent to.
	if resp, _ := me.post("/my/compliance/dbs/"+otherCheck+"/consent", url.Values{"date_of_birth": {"1979-05-12"}, "surname": {"Franklin"}, "agreed": {"yes"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("consent to another advocate's check: %d, want 404", resp.StatusCode)
	}
	if b, _ := w.env.DB.Advocate(ctx, other); b.DBS[0].Consent != nil {
		t.Fatal("another advocate's check gained a consent")
	}
	if resp, body := me.post("/my/compliance/dbs/"+check+"/consent", url.Values{"date_of_birth": {"1979-05-12"}, "surname": {"Hodgkin-Crowfoot"}, "agreed": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d %.2000s", resp.StatusCode, body)
	}
	if _, page := me.do("GET", "/my/compliance", nil); !strings.Contains(page, "You agreed to status checks on") || !strings.Contains(page, "own confirmation in the app") {
		t.Fatalf("the advocate's page does not show their consent: %.3000s", page)
	}
	if found := testenv.GrepDataDir(t, []string{"1979-05-12", "12/05/1979", "Hodgkin-Crowfoot"}); len(found) > 0 {
		t.Fatalf("the date of birth or surname is in the raw database files: %v", found)
	}

	// The manager sees it masked; revealing it shows it and is audited.
	_, page = m.do("GET", "/manage/advocates/"+id, nil)
	if !strings.Contains(page, "Dorothy Hodgkin agreed to status checks on") || strings.Contains(page, "1979") {
		t.Fatalf("the manager's view of the consent: %.3000s", page)
	}
	if resp, page := m.post("/manage/advocates/"+id+"/dbs/"+check+"/dob", nil); resp.StatusCode != http.StatusOK || !strings.Contains(page, "12 May 1979") {
		t.Fatalf("reveal the date of birth: %d", resp.StatusCode)
	}
	events, _, err := w.env.DB.Events(ctx, audit.Query{Action: "dbs.reveal_dob", Target: "advocate:" + id, Limit: 10})
	if err != nil || len(events) != 1 || events[0].ActorID != w.users["manager"].ID {
		t.Fatalf("the reveal in the audit log: %d, %v", len(events), err)
	}

	// Withdrawing stops the checks and forgets the date of birth.
	if resp, body := me.post("/my/compliance/dbs/"+check+"/consent/withdraw", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %.2000s", resp.StatusCode, body)
	}
	a, _ = w.env.DB.Advocate(ctx, id)
	if c := a.DBS[0].Consent; c == nil || c.WithdrawnAt == nil || a.DBS[0].DateOfBirth != "" || a.DBS[0].Surname != "" {
		t.Fatalf("after withdrawal: %+v, sealed date of birth %q", c, a.DBS[0].DateOfBirth)
	}
	if _, page := m.do("GET", "/manage/advocates/"+id, nil); !strings.Contains(page, "Consent was withdrawn on") || !strings.Contains(page, "Nothing is checked") {
		t.Fatalf("the manager's page after withdrawal: %.3000s", page)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/dbs/"+check+"/dob", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("reveal after withdrawal: %d, want 404", resp.StatusCode)
	}
	// The query matches by prefix: both events, each once, by the advocate.
	events, _, err = w.env.DB.Events(ctx, audit.Query{Action: "dbs.consent", Target: "advocate:" + id, Limit: 10})
	got := map[string]int{}
	for _, e := range events {
		if e.ActorID == id {
			got[e.Action]++
		}
	}
	if err != nil || len(events) != 2 || got["dbs.consent"] != 1 || got["dbs.consent_withdrawn"] != 1 {
		t.Fatalf("consent and withdrawal in the audit log: %v, %v", got, err)
	}
}
