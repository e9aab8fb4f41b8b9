package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
)

// The manager's daily questions: who is cleared, what lapses soon.

// supervised records a supervision on an advocate's record dated daysAgo
// days before the world's today, through the manager's form.
func (w *world) supervised(m *client, id string, daysAgo int) {
	w.t.Helper()
	day := w.clock().In(compliance.London).AddDate(0, 0, -daysAgo).Format("2006-01-02")
	resp, body := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {day}, "supervisor": {"Maya"}, "kind": {"individual"}})
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("supervision: %d %s", resp.StatusCode, body)
	}
}

// TestDashboardFiltersAndHeadlineLinks: each headline count links to a
// filter listing exactly that many advocates; the lapsing, requirement,
// status and named-manager filters pick the right people.
func TestDashboardFiltersAndHeadlineLinks(t *testing.T) {
	w := newWorld(t, sampleDir)
	m := w.client(w.srv, w.session("manager"))
	soon := w.createAdvocate("Sally Soon", "sally@example.org")
	later := w.createAdvocate("Larry Later", "larry@example.org")
	w.createAdvocate("Nora None", "nora@example.org")
	// The policy's supervision is every 3 months or so; a session long ago
	// is overdue, a recent one lapses later. Find the interval from the
	// policy so the test follows it.
	every := 7 * w.svc.Comply.Policy.Supervision.EveryWeeks
	w.supervised(m, soon, every-5) // falls due in 5 days
	w.supervised(m, later, every-20)
	_, page := m.do("GET", "/manage", nil)
	if !strings.Contains(page, `href="/manage?filter=cleared"`) || !strings.Contains(page, `href="/manage/lapsing?within=30"`) {
		t.Fatalf("the headline counts are not links to their filters:\n%s", page)
	}
	names := func(query string) []string {
		t.Helper()
		resp, page := m.do("GET", "/manage?"+query, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", query, resp.StatusCode)
		}
		var out []string
		for _, mm := range regexp.MustCompile(`<th scope="row" class="sticky"><a href="/manage/advocates/[^"]+">([^<]+)</a>`).FindAllStringSubmatch(page, -1) {
			out = append(out, mm[1])
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"filter=due7", "Sally Soon"},
		{"filter=due60", "Larry Later,Sally Soon"},
		{"filter=due7&requirement=supervision", "Sally Soon"},
		{"filter=due7&requirement=dbs", ""},
		{"requirement=supervision", "Nora None,Sally Soon"}, // not met: never supervised, or due soon
		{"status=onboarding", ""},
		{"status=active&q=larry", "Larry Later"},
		{"filter=missing&q=nora", "Nora None"},
		{"manager=none", "Larry Later,Nora None,Sally Soon"}, // added without a named manager
		{"manager=" + w.user("manager").ID, ""},
	} {
		if got := strings.Join(names(tc.query), ","); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	// Each headline count equals the length of the list its link opens.
	_, page = m.do("GET", "/manage", nil)
	for _, mm := range regexp.MustCompile(`<li><a href="/manage\?([^"]+)"[^>]*><strong[^>]*>(\d+)</strong>`).FindAllStringSubmatch(page, -1) {
		query := strings.ReplaceAll(mm[1], "&amp;", "&")
		if got := len(names(query)); got != atoi(t, mm[2]) {
			t.Errorf("headline %q says %s, its list has %d", query, mm[2], got)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestLapsingViewAndRemindNow: the lapsing view lists each requirement
// falling due in the window, soonest first, with its date; "remind now"
// emails the advocate once a day and records it on their history.
func TestLapsingViewAndRemindNow(t *testing.T) {
	w := newWorld(t, sampleDir)
	m := w.client(w.srv, w.session("manager"))
	soon := w.createAdvocate("Sally Soon", "sally@example.org")
	later := w.createAdvocate("Larry Later", "larry@example.org")
	every := 7 * w.svc.Comply.Policy.Supervision.EveryWeeks
	w.supervised(m, soon, every-5)
	w.supervised(m, later, every-20)
	_, page := m.do("GET", "/manage/lapsing?within=30", nil)
	i, j := strings.Index(page, "Sally Soon"), strings.Index(page, "Larry Later")
	if i < 0 || j < 0 || i > j {
		t.Fatalf("the lapsing list does not show Sally before Larry:\n%s", page)
	}
	due := w.clock().In(compliance.London).AddDate(0, 0, 5).Format("2 January 2006")
	if !strings.Contains(page, due) || !strings.Contains(page, "in 5 days") {
		t.Fatalf("Sally's supervision date %s is not shown", due)
	}
	if _, page := m.do("GET", "/manage/lapsing?within=7", nil); strings.Contains(page, "Larry Later") || !strings.Contains(page, "Sally Soon") {
		t.Fatal("the 7-day window shows Larry (due in 20 days) or misses Sally")
	}
	remind := func() (*http.Response, string) {
		return m.post("/manage/lapsing/remind", url.Values{"advocate": {soon}, "requirement": {compliance.ReqSupervision}, "back": {"/manage/lapsing?within=30"}})
	}
	mails := func() int {
		msgs, _, err := w.env.DB.Messages(context.Background(), "sally@example.org", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, msg := range msgs {
			if strings.Contains(msg.Subject, "Reminder from") {
				n++
			}
		}
		return n
	}
	before := mails()
	resp, _ := remind()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/manage/lapsing?within=30" {
		t.Fatalf("remind now: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := m.do("GET", "/manage/lapsing?within=30", nil); !strings.Contains(page, "Reminder sent to Sally Soon about their supervision") {
		t.Fatalf("no confirmation after remind now:\n%s", page)
	}
	remind()
	if _, page := m.do("GET", "/manage/lapsing?within=30", nil); !strings.Contains(page, "already been reminded") {
		t.Fatal("a second press the same day does not say it was sent already")
	}
	if n := mails() - before; n != 1 {
		t.Fatalf("%d reminder emails after two presses the same day, want 1", n)
	}
	w.advance(24 * time.Hour)
	m = w.client(w.srv, w.session("manager")) // signed in again the next day
	remind()
	if _, page := m.do("GET", "/manage/lapsing?within=30", nil); !strings.Contains(page, "Reminder sent to Sally Soon") {
		t.Fatal("no confirmation the next day")
	}
	if n := mails() - before; n != 2 {
		t.Fatalf("%d reminder emails after a press the next day, want 2", n)
	}
	// Recorded: the audit trail has the reminders, by the manager.
	pg, err := w.svc.Audit.EventsPage(context.Background(), auditQueryFor(soon, "advocate.reminded"))
	if err != nil || len(pg.Events) != 2 || pg.Events[0].ActorID != w.user("manager").ID {
		t.Fatalf("reminders in the audit trail: %+v, %v", pg, err)
	}
	// Another organisation's manager cannot remind Sally.
	o := w.client(w.srv, w.session("other-manager"))
	if resp, _ := o.post("/manage/lapsing/remind", url.Values{"advocate": {soon}, "requirement": {compliance.ReqSupervision}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another organisation's manager: %d, want 403", resp.StatusCode)
	}
}

// TestRecordSavesReturnToTheirSection: a save on the advocate's record
// returns to its section, with the message there, not at the page's top.
func TestRecordSavesReturnToTheirSection(t *testing.T) {
	w := newWorld(t, sampleDir)
	m := w.client(w.srv, w.session("manager"))
	id := w.createAdvocate("Sam Section", "sam@example.org")
	resp, _ := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}})
	if loc := resp.Header.Get("Location"); loc != "/manage/advocates/"+id+"#supervision" {
		t.Fatalf("after saving a supervision: to %q", loc)
	}
	_, page := m.do("GET", "/manage/advocates/"+id, nil)
	sec := page[strings.Index(page, `id="supervision"`):]
	sec = sec[:strings.Index(sec, "</section>")]
	if !strings.Contains(sec, "Supervision recorded.") {
		t.Fatalf("the message is not in the supervision section:\n%s", sec)
	}
	if top := page[:strings.Index(page, `id="summary"`)]; strings.Contains(top, "Supervision recorded.") {
		t.Fatal("the message shows at the top of the page as well")
	}
	for _, anchor := range []string{"#summary", "#dbs", "#references", "#cpd", "#supervision", "#training", "#profile", "#history"} {
		if !strings.Contains(page, `href="`+anchor+`"`) || !strings.Contains(page, `id="`+anchor[1:]+`"`) {
			t.Errorf("the contents list or the page lacks section %s", anchor)
		}
	}
	// A form with a problem comes back in its section (the action's anchor).
	if !strings.Contains(page, `action="/manage/advocates/`+id+`/supervisions#supervision"`) {
		t.Fatal("the supervision form does not return to its section")
	}
}

func auditQueryFor(advocateID, action string) audit.Query {
	return audit.Query{Target: "advocate:" + advocateID, Action: action, Limit: 20}
}

// TestAdvocateHistory: a manager reads the record's history in its own
// section, in words, newest first, a page at a time; viewing the notes
// twice in a day is one event; the advocate's own page has no history.
func TestAdvocateHistory(t *testing.T) {
	w := newWorld(t, sampleDir)
	m := w.client(w.srv, w.session("manager"))
	id := w.createAdvocate("Hana History", "hana@example.org")
	for day := 1; day <= historyEvents; day++ {
		w.advance(time.Minute)
		if resp, body := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {fmt.Sprintf("2026-10-%02d", day)}, "supervisor": {"Maya"},
			"kind": {"individual"}, "sup_notes": {"Talked through a case."}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("supervision %d: %d %s", day, resp.StatusCode, body)
		}
	}
	m.do("GET", "/manage/advocates/"+id, nil)
	_, page := m.do("GET", "/manage/advocates/"+id, nil)
	// Supervisions are listed newest first.
	sup := page[strings.Index(page, `id="supervision"`):]
	if first := regexp.MustCompile(`<li>([^<:]+):`).FindStringSubmatch(sup); first == nil || first[1] != "22 October 2026" {
		t.Errorf("the first supervision listed is %v, want the newest (22 October 2026)", first)
	}
	sec := page[strings.Index(page, `id="history"`):]
	sec = sec[:strings.Index(sec, "</section>")]
	if n := strings.Count(sec, `<td data-label="What">Notes viewed</td>`); n != 1 {
		t.Errorf("two views of the notes on one day: %d events in the history, want 1", n)
	}
	if !strings.Contains(sec, "Date: 22 October 2026") || !strings.Contains(sec, "Supervisor: Maya") {
		t.Errorf("the newest supervision is not described by its date:\n%s", sec)
	}
	if strings.Contains(sec, "map[") || strings.Contains(visibleText(sec), id) {
		t.Errorf("the history shows stored values:\n%s", sec)
	}
	older := regexp.MustCompile(`href="(/manage/advocates/[^"]+\?before=[^"]+#history)" rel="next"`).FindStringSubmatch(sec)
	if older == nil {
		t.Fatalf("%d events and no link to older ones:\n%s", historyEvents+2, sec)
	}
	_, page = m.do("GET", strings.ReplaceAll(strings.TrimSuffix(older[1], "#history"), "&amp;", "&"), nil)
	sec = page[strings.Index(page, `id="history"`):]
	if !strings.Contains(sec, "Advocate record created") || !strings.Contains(sec, "Newest changes") || strings.Contains(sec, "22 October 2026") {
		t.Errorf("the older page of the history:\n%s", sec[:strings.Index(sec, "</section>")])
	}
	// The advocate's own view of their record has no history section.
	if _, own := w.client(w.srv, w.sessionFor(id)).do("GET", "/my/compliance", nil); strings.Contains(own, `id="history"`) {
		t.Error("the advocate's own page shows the history of their record")
	}
}

// historyEvents is more supervisions than one page of history shows.
const historyEvents = 22
