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

	ics "github.com/arran4/golang-ical"

	"github.com/family-advocacy/lms/internal/auth"
)

// TestLiveSessionBookingOverHTTP: an admin sets up a session of 3 places
// (a bad form keeps what was typed); four learners book, the fourth waits;
// the trainer's page shows access needs and only trainers see it; one
// cancels, the fourth is offered the place by email and confirms; the
// emails carry invitations (REQUEST, then CANCEL with the same UID and a
// higher SEQUENCE); the calendar feed lists the places and a reset
// revokes its link.
func TestLiveSessionBookingOverHTTP(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))
	form := url.Values{"title": {""}, "date": {"2027-04-03"}, "start_time": {"09:30"}, "end_time": {"12:30"}, "mode": {"in-person"},
		"venue": {"Friends Meeting House"}, "address": {"6 Mount Street, Manchester"}, "capacity": {"3"}, "cpd_hours": {"3"}, "cancel_hours": {"24"},
		"course": {"sample-course"}}
	if resp, page := admin.post("/trainer/live/new", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Enter a title") || !strings.Contains(page, `value="Friends Meeting House"`) {
		t.Fatalf("a session without a title: %d", resp.StatusCode)
	}
	form.Set("title", "Care proceedings: a morning for advocates")
	id := setUpSession(t, admin, form)

	hash := auth.HashPassword("correct horse battery staple")
	var learners []*client
	var emails, ids []string
	for i := range 4 {
		email := fmt.Sprintf("live%d@example.org", i)
		u, err := w.svc.Auth.CreateUser(ctx, email, fmt.Sprintf("Live Learner %d", i), hash, w.orgA.ID, auth.JobOther, []auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		learners, emails, ids = append(learners, w.client(w.srv, w.sessionFor(u.ID))), append(emails, email), append(ids, u.ID)
	}
	if _, page := w.client(w.srv, "").do("GET", "/live", nil); !strings.Contains(page, "Care proceedings: a morning for advocates") || !strings.Contains(page, "3 places left") {
		t.Fatalf("the public list: %.2000s", page)
	}
	if _, page := learners[0].do("GET", "/courses/sample-course", nil); !strings.Contains(page, `id="course-live"`) || !strings.Contains(page, "Saturday 3 April 2027, 09:30 to 12:30") {
		t.Fatalf("the course page does not list its live session: %.3000s", page)
	}
	for i, c := range learners {
		v := url.Values{}
		if i == 1 {
			v.Set("access", "A hearing loop, please")
		}
		resp, _ := c.post("/live/"+id+"/book", v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("booking %d: %d", i, resp.StatusCode)
		}
		_, page := c.do("GET", "/live/"+id, nil)
		want := map[bool]string{true: "You have a place.", false: "You are on the waiting list"}[i < 3]
		if !strings.Contains(page, want) {
			t.Fatalf("learner %d's page lacks %q", i, want)
		}
	}
	if resp, _ := learners[0].do("GET", "/trainer/live/"+id, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a learner on the trainer's page: %d", resp.StatusCode)
	}
	if _, page := admin.do("GET", "/trainer/live/"+id, nil); !strings.Contains(page, "A hearing loop, please") || !strings.Contains(page, "Live Learner 3") {
		t.Fatalf("the trainer's page: %.3000s", page)
	}
	// Learner 0 cancels: learner 3 is offered the place and confirms.
	if resp, _ := learners[0].post("/live/"+id+"/cancel", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	subjects := func(email string) map[string]string {
		msgs, _, err := w.env.DB.Messages(ctx, email, 0, 20)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range msgs {
			out[m.Subject] = m.Calendar
		}
		return out
	}
	if _, ok := subjects(emails[3])["A place is free for you: Care proceedings: a morning for advocates"]; !ok {
		t.Fatalf("learner 3 was not offered the place: %v", subjects(emails[3]))
	}
	if resp, _ := learners[2].post("/live/"+id+"/confirm", nil); resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusConflict {
		t.Fatalf("a confirmation without an offer: %d", resp.StatusCode)
	}
	if resp, _ := learners[3].post("/live/"+id+"/confirm", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if _, page := learners[3].do("GET", "/live/"+id, nil); !strings.Contains(page, "You have a place.") {
		t.Fatal("the confirmed place is not shown")
	}
	invite := subjects(emails[3])["Your place: Care proceedings: a morning for advocates"]
	cal, err := ics.ParseCalendar(strings.NewReader(invite))
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("the invitation: %v\n%s", err, invite)
	}
	ev := cal.Events()[0]
	if ev.GetProperty(ics.ComponentPropertyDtStart).Value != "20270403T083000Z" || ev.Id() != id+"@live.lms" || !strings.Contains(invite, "METHOD:REQUEST") {
		t.Fatalf("the invitation's time or UID: %s", invite)
	}
	cancelled := subjects(emails[0])["Cancelled: your place on Care proceedings: a morning for advocates"]
	if !strings.Contains(cancelled, "METHOD:CANCEL") || !strings.Contains(cancelled, "UID:"+id+"@live.lms") || !strings.Contains(cancelled, "SEQUENCE:1") {
		t.Fatalf("the cancellation's invitation: %s", cancelled)
	}
	// The calendar feed, and its revocation.
	_, page := learners[3].do("GET", "/my/live", nil)
	m := regexp.MustCompile(`http://lms\.test(/live/feed/[^<"]+)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no feed link: %.2000s", page)
	}
	anon := w.client(w.srv, "")
	if resp, feed := anon.do("GET", m[1], nil); resp.StatusCode != 200 || !strings.Contains(feed, "UID:"+id+"@live.lms") || !strings.Contains(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("the feed: %d %s", resp.StatusCode, feed)
	}
	if resp, _ := learners[3].post("/my/live/feed/reset", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if resp, _ := anon.do("GET", m[1], nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the old feed link after a reset: %d", resp.StatusCode)
	}
	// Within a day of the start, a place can no longer be cancelled here.
	w.advance(time.Date(2027, 4, 2, 12, 0, 0, 0, time.UTC).Sub(w.clock()))
	learners[1] = w.client(w.srv, w.sessionFor(ids[1])) // sessions end after a day without use
	if resp, page := learners[1].post("/live/"+id+"/cancel", nil); resp.StatusCode == http.StatusSeeOther || !strings.Contains(page, "up to 24 hours before the start") {
		t.Fatalf("a cancellation 20 hours before: %d", resp.StatusCode)
	}
}

// setUpSession sets a live session up through the trainers' form and
// returns its ID.
func setUpSession(t *testing.T, c *client, form url.Values) string {
	t.Helper()
	resp, body := c.post("/trainer/live/new", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set up a session: %d %.500s", resp.StatusCode, body)
	}
	return strings.TrimPrefix(resp.Header.Get("Location"), "/trainer/live/")
}
