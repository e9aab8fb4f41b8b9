package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/live"
)

// TestLiveAttendanceOverHTTP: a session of five with a certificate and 3
// CPD hours, booked by an advocate and four learners. The register is
// closed before the start; after it, a bad number of minutes keeps every
// mark typed; then the trainer marks two present, one left after 90
// minutes, one absent. Those present get a certificate through the course
// pipeline (listed, verifiable, downloadable) and the advocate a CPD entry;
// the one who left early gets half the hours and no certificate; the
// absence is a no-show on the admin's page of the person; a recorded mark
// cannot be changed; a mark whose hand-over a crash interrupted is
// finished by the reconciler; the CSV, sign-in sheet and period report say
// the same.
func TestLiveAttendanceOverHTTP(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))
	id := setUpSession(t, admin, url.Values{"title": {"Court skills for advocates"}, "date": {"2027-04-03"}, "start_time": {"09:30"},
		"end_time": {"12:30"}, "mode": {"in-person"}, "venue": {"Friends Meeting House"}, "capacity": {"5"}, "cpd_hours": {"3"}, "cancel_hours": {"24"},
		"certificate": {"yes"}, "valid_months": {"24"}, "course": {"sample-course"}})
	ids := []string{w.createAdvocate("Ama Advocate", "ama@example.org")}
	hash := auth.HashPassword("correct horse battery staple")
	for i := 1; i < 5; i++ {
		u, err := w.svc.Auth.CreateUser(ctx, fmt.Sprintf("att%d@example.org", i), fmt.Sprintf("Attendee %d", i), hash, w.orgA.ID, auth.JobOther, []auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	for _, uid := range ids {
		if resp, _ := w.client(w.srv, w.sessionFor(uid)).post("/live/"+id+"/book", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("booking: %d", resp.StatusCode)
		}
	}
	field := func(uid string) string { return live.AttendanceField(uid) }
	if _, page := admin.do("GET", "/trainer/live/"+id+"/register", nil); !strings.Contains(page, `id="register-closed"`) {
		t.Fatal("the register is open before the start")
	}
	if resp, page := admin.post("/trainer/live/"+id+"/register", url.Values{field(ids[0]): {"present"}}); resp.StatusCode == http.StatusSeeOther || !strings.Contains(page, "The register opens when the session starts") {
		t.Fatalf("marked before the start: %d", resp.StatusCode)
	}

	w.advance(time.Date(2027, 4, 3, 11, 0, 0, 0, time.UTC).Sub(w.clock()))
	admin = w.client(w.srv, w.session("admin"))
	marks := url.Values{field(ids[0]): {"present"}, field(ids[1]): {"present"}, field(ids[2]): {"left-early"}, live.MinutesField(ids[2]): {"ninety"}, field(ids[3]): {"absent"}}
	resp, page := admin.post("/trainer/live/"+id+"/register", marks)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Enter the minutes Attendee 2 attended, from 1 to 179") ||
		!regexp.MustCompile(`id="present-`+ids[0]+`" name="[^"]+" value="present" checked`).MatchString(page) || !strings.Contains(page, `value="ninety"`) {
		t.Fatalf("bad minutes: %d, marks not kept: %.4000s", resp.StatusCode, page)
	}
	marks.Set(live.MinutesField(ids[2]), "90")
	if resp, _ := admin.post("/trainer/live/"+id+"/register", marks); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the register: %d", resp.StatusCode)
	}
	ses, err := w.svc.Live.Session(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	code := ses.Bookings[ids[0]].Certificate
	if code == "" || ses.Bookings[ids[1]].Certificate == "" || ses.Bookings[ids[2]].Certificate != "" || len(ses.Bookings[ids[0]].Pending) != 0 {
		t.Fatalf("certificates after the register: %+v %+v %+v", ses.Bookings[ids[0]], ses.Bookings[ids[1]], ses.Bookings[ids[2]])
	}
	_, page = admin.do("GET", "/trainer/live/"+id+"/register", nil)
	if !strings.Contains(page, "2 present, 1 left early, 1 absent, 1 not marked") || !strings.Contains(page, code) {
		t.Fatalf("the register after marking: %.4000s", page)
	}

	// The advocate: a certificate like a course's, and a CPD entry.
	ama := w.client(w.srv, w.sessionFor(ids[0]))
	if _, page := ama.do("GET", "/my/certificates", nil); !strings.Contains(page, "Court skills for advocates") || !strings.Contains(page, "Live training attended 3 April 2027") || !strings.Contains(page, code) {
		t.Fatalf("my certificates: %.3000s", page)
	}
	if _, page := w.client(w.srv, "").do("GET", "/verify/"+code, nil); !strings.Contains(page, "Ama Advocate") || !strings.Contains(page, "Live training") || !strings.Contains(page, "This certificate is valid") {
		t.Fatalf("verification: %.3000s", page)
	}
	if resp, pdf := ama.do("GET", "/certificates/"+code+"/download", nil); resp.StatusCode != http.StatusOK || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	a, err := w.svc.Comply.Get(ctx, w.users["admin"], ids[0])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range a.CPD {
		found = found || e.Title == "Court skills for advocates" && e.Hours == 3 && e.Source == "live/"+id+"/"+ids[0]
	}
	if !found || a.Training["sample-course"].IsZero() {
		t.Fatalf("the advocate's CPD log: %+v, training %v", a.CPD, a.Training)
	}
	if _, page := ama.do("GET", "/my/compliance", nil); !strings.Contains(page, "Court skills for advocates") {
		t.Fatal("the CPD entry is not on My compliance")
	}
	// Left early: half the hours, no certificate.
	if _, page := w.client(w.srv, w.sessionFor(ids[2])).do("GET", "/my/live", nil); !strings.Contains(page, "Attended part") || !strings.Contains(page, "1.5 CPD hours") {
		t.Fatalf("left early, on My live training: %.3000s", page)
	}
	// Absent: a no-show the admin sees.
	if _, page := admin.do("GET", "/admin/users/"+ids[3], nil); !strings.Contains(page, "Booked and did not come: <strong>1 session</strong>") {
		t.Fatalf("the no-show on the admin's page: %.200s", page[strings.Index(page, "live-training"):])
	}
	// A recorded mark is final.
	if resp, page := admin.post("/trainer/live/"+id+"/register", url.Values{field(ids[1]): {"absent"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "already recorded") {
		t.Fatalf("changing a recorded mark: %d", resp.StatusCode)
	}

	// A crash after the mark's write: the reconciler gives what it earned.
	if err := w.env.DB.QueueLiveHandOver(ctx, id, ids[4], w.clock()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.DB.UpdateLiveSession(ctx, id, func(s *live.Session) error {
		b := s.Bookings[ids[4]]
		b.Attendance, b.Pending = live.Present, []string{live.PendingCertificate, live.PendingCPD}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.svc.Live.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("the reconciler took a fresh mark from its request: %d, %v", n, err)
	}
	w.advance(2 * time.Minute)
	if n, err := w.svc.Live.Reconcile(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v", n, err)
	}
	if again, _ := w.svc.Live.Reconcile(ctx); again != 0 {
		t.Fatalf("the queue is not empty after the hand-over: %d", again)
	}
	ses, _ = w.svc.Live.Session(ctx, id)
	if b := ses.Bookings[ids[4]]; b.Certificate == "" || len(b.Pending) != 0 {
		t.Fatalf("after the reconciler: %+v", b)
	}

	// The CSV, the sign-in sheet and the report over the month.
	admin = w.client(w.srv, w.session("admin"))
	resp, body := admin.do("GET", "/trainer/live/"+id+"/bookings.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || len(rows) != 6 {
		t.Fatalf("bookings CSV: %d %v %q", resp.StatusCode, err, body)
	}
	if !strings.Contains(body, "Ama Advocate") || !strings.Contains(body, "Left early") || !strings.Contains(body, code) {
		t.Fatalf("bookings CSV: %s", body)
	}
	if resp, pdf := admin.do("GET", "/trainer/live/"+id+"/sign-in.pdf", nil); resp.StatusCode != http.StatusOK || !strings.HasPrefix(pdf, "%PDF") {
		t.Fatalf("sign-in sheet: %d", resp.StatusCode)
	}
	_, page = admin.do("GET", "/trainer/live/report?from=2027-04&to=2027-04", nil)
	for _, want := range []string{"<dt>Places offered</dt><dd>5</dd>", "<dd>5 (100% filled)</dd>", "4 attended, 1 absent (80% of those marked)", "<dt>CPD hours delivered</dt><dd>10.5</dd>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the report lacks %q: %.4000s", want, page)
		}
	}
	if resp, page := admin.do("GET", "/trainer/live/report?from=2027-05&to=2027-01", nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose a last month") {
		t.Fatalf("a period backwards: %d", resp.StatusCode)
	}
	if resp, _ := w.client(w.srv, w.session("learner")).do("GET", "/trainer/live/"+id+"/register", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a learner on the register: %d", resp.StatusCode)
	}
}

// TestLiveSessionAudiencesAreChosenFromTheList: the audiences are ticked
// boxes; the ones ticked are kept, shown ticked on the change form, and a
// value not on the list is refused with everything typed kept.
func TestLiveSessionAudiencesAreChosenFromTheList(t *testing.T) {
	w := newWorld(t, sampleDir)
	admin := w.client(w.srv, w.session("admin"))
	form := url.Values{"title": {"Domestic abuse and child protection"}, "date": {"2027-05-11"}, "start_time": {"10:00"}, "end_time": {"12:00"},
		"mode": {"online"}, "join_url": {"https://meet.example/abc"}, "capacity": {"40"}, "audiences": {"domestic-abuse-worker", "made-up"}}
	if resp, page := admin.post("/trainer/live/new", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose who the session is for from the list") ||
		!strings.Contains(page, `value="https://meet.example/abc"`) || !regexp.MustCompile(`id="audience-domestic-abuse-worker" name="audiences" value="domestic-abuse-worker" checked`).MatchString(page) {
		t.Fatalf("an audience not on the list: %d", resp.StatusCode)
	}
	form["audiences"] = []string{"domestic-abuse-worker", "mental-health-support-worker"}
	id := setUpSession(t, admin, form)
	ses, err := w.svc.Live.Session(context.Background(), id)
	if err != nil || strings.Join(ses.Audiences, ",") != "domestic-abuse-worker,mental-health-support-worker" {
		t.Fatalf("audiences kept: %v, %v", ses.Audiences, err)
	}
	_, page := admin.do("GET", "/trainer/live/"+id+"/edit", nil)
	if !regexp.MustCompile(`id="audience-mental-health-support-worker" name="audiences" value="mental-health-support-worker" checked`).MatchString(page) ||
		regexp.MustCompile(`id="audience-advocate" name="audiences" value="advocate" checked`).MatchString(page) {
		t.Fatalf("the change form's audiences: %.3000s", page)
	}
	if _, page := w.client(w.srv, "").do("GET", "/live?audience=advocate", nil); strings.Contains(page, "Domestic abuse and child protection") {
		t.Fatal("a session for other audiences is listed for advocates")
	}
	// Another session of the same event: its details copied, not its date.
	_, page = admin.do("GET", "/trainer/live/new?like="+id, nil)
	if !strings.Contains(page, `name="event" value="`+ses.EventID+`"`) || !strings.Contains(page, `value="Domestic abuse and child protection"`) ||
		strings.Contains(page, `value="2027-05-11"`) || !strings.Contains(page, `value="https://meet.example/abc"`) {
		t.Fatalf("the form for another session: %.3000s", page)
	}
	second := url.Values{"event": {ses.EventID}, "title": {"Domestic abuse and child protection"}, "date": {"2027-06-08"}, "start_time": {"10:00"}, "end_time": {"12:00"},
		"mode": {"online"}, "join_url": {"https://meet.example/abc"}, "capacity": {"40"}}
	other, err := w.svc.Live.Session(context.Background(), setUpSession(t, admin, second))
	if err != nil || other.EventID != ses.EventID || other.ID == ses.ID {
		t.Fatalf("the second session's event: %+v, %v", other, err)
	}
	second.Set("event", "no-such-event")
	if resp, page := admin.post("/trainer/live/new", second); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "That event no longer exists") {
		t.Fatalf("a session of an event that does not exist: %d", resp.StatusCode)
	}
}

// TestLiveBookingOpensOnItsDay: a session whose booking opens later says
// so and takes no booking before that day; from it, a place is booked.
func TestLiveBookingOpensOnItsDay(t *testing.T) {
	w := newWorld(t, sampleDir)
	admin := w.client(w.srv, w.session("admin"))
	form := url.Values{"title": {"Pre-proceedings meetings"}, "date": {"2027-03-10"}, "start_time": {"10:00"}, "end_time": {"13:00"},
		"mode": {"in-person"}, "venue": {"Hall"}, "capacity": {"10"}, "opens": {"2027-03-20"}}
	if resp, page := admin.post("/trainer/live/new", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Booking must open before it closes") {
		t.Fatalf("opening after the start: %d", resp.StatusCode)
	}
	form.Set("opens", "2027-01-04")
	id := setUpSession(t, admin, form)
	learner := w.client(w.srv, w.session("learner"))
	if _, page := learner.do("GET", "/live/"+id, nil); !strings.Contains(page, "Booking for this session opens on 4 January 2027.") || strings.Contains(page, `id="book-form"`) {
		t.Fatalf("before booking opens: %.3000s", page)
	}
	if resp, page := learner.post("/live/"+id+"/book", nil); resp.StatusCode == http.StatusSeeOther || !strings.Contains(page, "Booking for this session opens on Monday 4 January 2027.") {
		t.Fatalf("a booking before it opens: %d", resp.StatusCode)
	}
	w.advance(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC).Sub(w.clock()))
	learner = w.client(w.srv, w.session("learner"))
	if resp, _ := learner.post("/live/"+id+"/book", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a booking once open: %d", resp.StatusCode)
	}
}
