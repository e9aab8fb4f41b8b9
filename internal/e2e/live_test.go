package e2e

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJourneyLiveTrainingBooking: an admin sets up an in-person session of
// three places on a Saturday in April, after the clocks go forward, from
// 09:30 to 12:30 London time (first with no title: the error is shown and
// what was typed is kept). Four learners book: three get places (one with
// access needs, which the trainer's page then shows), the fourth is told
// the session is full and joins the waiting list. A learner with a place
// cancels and is sent a cancellation for their calendar (METHOD:CANCEL,
// the same UID, a higher SEQUENCE); the fourth is emailed the offer,
// confirms from the session's page and is emailed an invitation starting
// at 08:30 UTC. Their calendar feed lists the session, and after a new
// link the old one answers 404. Every page passes axe-core at 1280 and
// 390 pixels wide, and is photographed at both.
func TestJourneyLiveTrainingBooking(t *testing.T) {
	smtp := testenv.StartSMTP(t)
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "SMTP_URL": smtp.URL})

	// The first Saturday in April of next year: British Summer Time.
	now := s.Clock.Now().In(civil.London)
	day := time.Date(now.Year()+1, time.April, 1, 12, 0, 0, 0, civil.London)
	for day.Weekday() != time.Saturday {
		day = day.AddDate(0, 0, 1)
	}
	date := day.Format("2006-01-02")
	wantStart := time.Date(day.Year(), day.Month(), day.Day(), 8, 30, 0, 0, time.UTC) // 09:30 BST
	wantEnd := wantStart.Add(3 * time.Hour)
	const title = "Advocacy at child protection conferences"
	const venue, address = "Friends Meeting House", "6 Mount Street, Manchester M2 5NS"
	const access = "I use a wheelchair: step-free access and a space at a table, please."
	const dietary = "Vegetarian"
	when := day.Format("Monday 2 January 2006") + ", 09:30 to 12:30"

	// The admin signs in (two-factor set-up at first sign-in).
	ab := testenv.NewBrowser(t, s.URL)
	ab.Viewport(1280, 900)
	adminSecret := signInSettingUp2FA(ab, s, "admin@demo.example")
	ab.Open("/admin")
	ab.Follow(`main a[href="/trainer/live"]`)
	ab.MustContain("main h1", "Run live training")
	ab.MustContain("#trainer-sessions", "No sessions are coming up.")
	ab.Follow("#new-session")
	if p := ab.Path(); p != "/trainer/live/new" {
		t.Fatalf("“Set up a session” went to %s", p)
	}
	ab.MustContain("main h1", "Set up a live session")

	// First without a title: the error, and everything typed kept.
	setValue(ab, "#f-date", date)
	setValue(ab, "#f-start_time", "09:30")
	setValue(ab, "#f-end_time", "12:30")
	ab.Click(`label[for="mode-in-person"]`)
	ab.Fill("#f-venue", venue)
	ab.Fill("#f-address", address)
	ab.Fill("#f-capacity", "3")
	ab.Fill("#f-cpd_hours", "3")
	ab.Follow("#save-session")
	if p := ab.Path(); p != "/trainer/live/new" {
		t.Fatalf("the form with no title went to %s", p)
	}
	ab.MustContain(".error-summary", "There is a problem")
	ab.MustContain(".error-summary", "Enter a title")
	if got := testenv.Eval[string](ab, `document.querySelector('.error-summary a').getAttribute("href")`); got != "#f-title" {
		t.Errorf("the error summary links to %q, want #f-title", got)
	}
	if got := testenv.Eval[string](ab, `document.querySelector("#f-title").getAttribute("aria-invalid") || ""`); got != "true" {
		t.Errorf("the title field is not marked invalid (aria-invalid %q)", got)
	}
	for sel, want := range map[string]string{"#f-date": date, "#f-start_time": "09:30", "#f-end_time": "12:30", "#f-venue": venue,
		"#f-address": address, "#f-capacity": "3", "#f-cpd_hours": "3", "#f-cancel_hours": "24"} {
		if got := fieldValue(ab, sel); got != want {
			t.Errorf("after the error, %s holds %q, want %q as typed", sel, got, want)
		}
	}
	if got := checked(ab, "mode"); got != "in-person" {
		t.Errorf("after the error, the mode chosen is %q, want in-person", got)
	}
	lookBoth(t, ab, "trainer-live-new-errors")

	// With the title: set up, and on the trainer's page.
	ab.Fill("#f-title", title)
	ab.Follow("#save-session")
	p := ab.Path()
	id := strings.TrimPrefix(p, "/trainer/live/")
	if !regexp.MustCompile(`^[0-9a-f]+$`).MatchString(id) {
		t.Fatalf("after setting up the session: at %s", p)
	}
	ab.MustContain(`.notice[role="status"]`, "The session is set up and open for booking.")
	ab.MustContain("main h1", title)
	ab.MustContain("main .meta", when)
	ab.MustContain("#places", "0 of 3 places taken; 0 waiting")
	session := "/live/" + id

	// Learner 1, in the browser: the list, the session, a place with access needs.
	b1 := testenv.NewBrowser(t, s.URL)
	b1.Viewport(1280, 900)
	signIn(b1, "learner@demo.example", app.DemoPassword)
	b1.Open("/live")
	b1.MustContain("main h1", "Live training")
	b1.MustContain("#session-"+id, title)
	b1.MustContain("#session-"+id, when)
	b1.MustContain("#session-"+id, venue+", "+address)
	b1.MustContain("#session-"+id, "3 places left")
	if got := testenv.Eval[[]string](b1, `[...document.querySelectorAll("#month option")].map(o => o.value)`); !strings.Contains(strings.Join(got, " "), day.Format("2006-01")) {
		t.Errorf("the month filter offers %q, not the session's month", got)
	}
	lookBoth(t, b1, "live-list")
	b1.Open("/live?mode=online")
	if testenv.Eval[bool](b1, `!!document.querySelector("#session-`+id+`")`) {
		t.Error("/live?mode=online lists the in-person session")
	}
	b1.Open("/live?mode=in-person&month=" + day.Format("2006-01"))
	b1.Follow("#session-" + id + " h2 a")
	if p := b1.Path(); p != session {
		t.Fatalf("the session's link went to %s", p)
	}
	b1.MustContain("main h1", title)
	b1.MustContain("#places", "3 of 3 places left")
	b1.MustContain("#book", "Book a place")
	lookBoth(t, b1, "session-unbooked")
	b1.Fill("#f-access", access)
	b1.Follow("#book")
	if p := b1.Path(); p != session {
		t.Fatalf("after booking: at %s", p)
	}
	b1.MustContain(`.notice[role="status"]`, "You have a place.")
	b1.MustContain("#my-booking", "You have a place.")
	b1.MustContain("#places", "2 of 3 places left")
	if testenv.Eval[bool](b1, `!!document.querySelector("#book-form")`) {
		t.Error("the booking form is still offered to a person with a place")
	}
	lookBoth(t, b1, "session-booked")

	// Learners 2 and 3 book over HTTP through the same pages (one with a dietary need).
	for _, l := range []struct{ email, dietary string }{{"advocate1@demo.example", dietary}, {"advocate2@demo.example", ""}} {
		w := newWebLearner(t, s.URL, l.email, app.DemoPassword)
		w.signIn()
		if to := w.submit(session, session+"/book", url.Values{"dietary": {l.dietary}}); to != session {
			t.Fatalf("%s: booking went to %s", l.email, to)
		}
		if page := w.get(session); !strings.Contains(page, "You have a place.") {
			t.Fatalf("%s: the session page after booking does not say they have a place", l.email)
		}
	}

	// Learner 4, in the browser: the session is full; the waiting list.
	const fourth = "advocate3@demo.example"
	b4 := testenv.NewBrowser(t, s.URL)
	b4.Viewport(1280, 900)
	signIn(b4, fourth, app.DemoPassword)
	b4.Open("/live")
	b4.MustContain("#session-"+id, "Full: waiting list open")
	b4.Open(session)
	b4.MustContain("#places", "Full: you can join the waiting list")
	b4.MustContain("#book", "Join the waiting list")
	b4.Follow("#book")
	b4.MustContain(`.notice[role="status"]`, "The session is full, so you are on the waiting list.")
	b4.MustContain("#my-booking", "You are on the waiting list (number 1)")
	b4.MustContain("#cancel-booking", "Leave the waiting list")
	lookBoth(t, b4, "session-waiting")
	if m := waitMail(t, smtp, fourth, "On the waiting list: "+title); len(m) != 1 {
		t.Errorf("the fourth learner had %d waiting-list emails, want 1", len(m))
	}

	// Everyone with a place was emailed the invitation.
	lenaBooked := waitMail(t, smtp, "learner@demo.example", "Your place: "+title)
	for _, addr := range []string{"advocate1@demo.example", "advocate2@demo.example"} {
		waitMail(t, smtp, addr, "Your place: "+title)
	}
	if len(lenaBooked) != 1 {
		t.Fatalf("learner 1 had %d booking emails, want 1", len(lenaBooked))
	}
	lenaInvite := invitationOf(t, lenaBooked[0])
	if lenaInvite.Method != "REQUEST" || lenaInvite.UID != id+"@live.lms" || !lenaInvite.Start.Equal(wantStart) {
		t.Errorf("learner 1's invitation: METHOD %q, UID %q, starts %s; want REQUEST, %s@live.lms, %s", lenaInvite.Method, lenaInvite.UID,
			lenaInvite.Start, id, wantStart)
	}

	// The trainer's pages: who booked, their needs, who waits.
	ab.Open("/trainer/live")
	ab.MustContain("#trainer-sessions", title)
	if got := testenv.Eval[string](ab, `[...document.querySelectorAll("#trainer-sessions tbody tr")].find(tr => tr.textContent.includes(`+"`"+title+"`"+`)).textContent`); !strings.Contains(got, "3 of 3") {
		t.Errorf("the trainer's list shows the session as %q, want 3 of 3 booked", got)
	}
	lookBoth(t, ab, "trainer-live")
	ab.Follow(`#trainer-sessions a[href="/trainer/live/` + id + `"]`)
	ab.MustContain("#places", "3 of 3 places taken; 1 waiting")
	needs := func(name string) (string, string) {
		row := testenv.Eval[[]string](ab, `(function(){for (const tr of document.querySelectorAll("#booked tbody tr")) {
			if (tr.querySelector("th") && tr.querySelector("th").textContent.includes(`+"`"+name+"`"+`))
				return [tr.querySelector('[data-label="Access needs"]').textContent.trim(), tr.querySelector('[data-label="Dietary needs"]').textContent.trim()] }
			return ["row not found", ""] })()`)
		return row[0], row[1]
	}
	if a, d := needs("Lena Learner"); a != access || d != "–" {
		t.Errorf("the trainer sees Lena's needs as %q and %q, want %q and none", a, d, access)
	}
	if a, d := needs("Amira Advocate"); a != "–" || d != dietary {
		t.Errorf("the trainer sees Amira's needs as %q and %q, want none and %q", a, d, dietary)
	}
	if a, _ := needs("Ben Advocate"); a != "–" {
		t.Errorf("the trainer sees Ben's access needs as %q, want none", a)
	}
	ab.MustContain("#waiting", "Chloe Davies")
	lookBoth(t, ab, "trainer-session")
	ab.Viewport(390, 844)
	if n := overflow(ab, "#booked"); n > 0 {
		t.Errorf("the trainer's table of people with a place is %d px wider than the phone", n)
	}
	ab.Viewport(1280, 900)

	// Learner 1 cancels: the place is offered to the fourth learner.
	b1.Open(session)
	b1.AcceptDialogs()
	b1.Follow("#cancel-booking")
	b1.MustContain(`.notice[role="status"]`, "Your booking is cancelled.")
	if testenv.Eval[bool](b1, `!!document.querySelector("#my-booking")`) {
		t.Error("the session page still shows a booking after cancelling")
	}
	cancelled := waitMail(t, smtp, "learner@demo.example", "Cancelled: your place on "+title)
	if len(cancelled) != 1 {
		t.Errorf("learner 1 had %d cancellation emails, want 1", len(cancelled))
	}
	cancel := invitationOf(t, cancelled[0])
	if cancel.Method != "CANCEL" || !strings.Contains(cancel.ContentType, "method=CANCEL") {
		t.Errorf("the cancellation's calendar: METHOD %q, Content-Type %q; want CANCEL", cancel.Method, cancel.ContentType)
	}
	if cancel.UID != lenaInvite.UID {
		t.Errorf("the cancellation's UID is %q, the invitation's %q", cancel.UID, lenaInvite.UID)
	}
	if atoiOr(cancel.Sequence, -1) <= atoiOr(lenaInvite.Sequence, 0) {
		t.Errorf("the cancellation's SEQUENCE is %q, not above the invitation's %q", cancel.Sequence, lenaInvite.Sequence)
	}
	if cancel.Status != "CANCELLED" {
		t.Errorf("the cancellation's STATUS is %q, want CANCELLED", cancel.Status)
	}

	// The fourth learner is offered the place, for 48 hours.
	offers := waitMail(t, smtp, fourth, "A place is free for you: "+title)
	if len(offers) != 1 {
		t.Errorf("the fourth learner had %d offer emails, want 1", len(offers))
	}
	until := s.Clock.Now().Add(48 * time.Hour).In(civil.London).Format("15:04 on Monday 2 January")
	if !strings.Contains(offers[0].Text, "confirm by "+until) {
		t.Errorf("the offer does not give 48 hours (until %s) to confirm:\n%s", until, offers[0].Text)
	}
	link := sessionLinkRE.FindStringSubmatch(offers[0].Text)
	if link == nil || link[1] != session || !strings.HasPrefix(link[0], s.URL+"/") {
		t.Fatalf("the offer has no link to the session's page:\n%s", offers[0].Text)
	}
	b4.Open(link[1])
	b4.MustContain("#my-booking", "A place has come free for you.")
	b4.MustContain("#places", "A place is kept for you until you confirm it")
	lookBoth(t, b4, "session-offered")
	b4.Follow("#confirm-place")
	b4.MustContain(`.notice[role="status"]`, "The place is yours.")
	b4.MustContain("#my-booking", "You have a place.")

	// The confirmation's invitation: 09:30 BST is 08:30 UTC.
	confirmed := waitMail(t, smtp, fourth, "Your place: "+title)
	if len(confirmed) != 1 {
		t.Errorf("the fourth learner had %d booking emails, want 1", len(confirmed))
	}
	inv := invitationOf(t, confirmed[0])
	if mt, params, _ := mime.ParseMediaType(inv.ContentType); mt != "text/calendar" || params["method"] != "REQUEST" {
		t.Errorf("the invitation's Content-Type is %q, want text/calendar; method=REQUEST", inv.ContentType)
	}
	if inv.Method != "REQUEST" {
		t.Errorf("the invitation's METHOD is %q, want REQUEST", inv.Method)
	}
	if !strings.HasSuffix(inv.UID, "@live.lms") || inv.UID != cancel.UID {
		t.Errorf("the invitation's UID is %q, want the session's %q ending @live.lms", inv.UID, cancel.UID)
	}
	if !inv.Start.Equal(wantStart) || inv.Start.UTC().Format("15:04") != "08:30" || !inv.End.Equal(wantEnd) {
		t.Errorf("the invitation runs %s to %s, want %s to %s (09:30 to 12:30 BST)", inv.Start.UTC(), inv.End.UTC(), wantStart, wantEnd)
	}
	if want := wantStart.Format("20060102T150405Z"); inv.DTStart != want {
		t.Errorf("the invitation's DTSTART is %q, want %q", inv.DTStart, want)
	}
	if inv.Status != "CONFIRMED" {
		t.Errorf("the invitation's STATUS is %q, want CONFIRMED", inv.Status)
	}
	// The same invitation from the session's page.
	_, fromPage := parseCalendar(t, "the session page's invitation", b4.Fetch(session+"/invite.ics"))
	if fromPage.Method != "REQUEST" || fromPage.UID != inv.UID || !fromPage.Start.Equal(wantStart) {
		t.Errorf("the session page's invitation: METHOD %q, UID %q, starts %s", fromPage.Method, fromPage.UID, fromPage.Start)
	}

	// My live training: the place, and the calendar feed.
	b4.Open("/my/live")
	b4.MustContain("main h1", "My live training")
	b4.MustContain("#my-sessions", title)
	b4.MustContain("#my-sessions", "You have a place")
	feed := strings.TrimSpace(b4.Text("#feed-url"))
	if !strings.HasPrefix(feed, s.URL+"/live/feed/") || !strings.HasSuffix(feed, ".ics") {
		t.Fatalf("the feed URL is %q", feed)
	}
	lookBoth(t, b4, "my-live")
	getFeed := func(u string) (int, string, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET the feed: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), body
	}
	status, ctype, body := getFeed(feed)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/calendar") {
		t.Fatalf("the feed answers %d %q", status, ctype)
	}
	cal, ev := parseCalendar(t, "the feed", body)
	if n := len(cal.Events()); n != 1 || ev.UID != inv.UID || !ev.Start.Equal(wantStart) {
		t.Errorf("the feed has %d events (UID %q, starting %s), want the session's %q at %s:\n%s", n, ev.UID, ev.Start, inv.UID, wantStart, body)
	}
	b4.Follow("#reset-feed")
	b4.MustContain(`.notice[role="status"]`, "Your calendar feed has a new link")
	renewed := strings.TrimSpace(b4.Text("#feed-url"))
	if renewed == feed || !strings.HasPrefix(renewed, s.URL+"/live/feed/") {
		t.Fatalf("after a new link the feed URL is %q (was %q)", renewed, feed)
	}
	if status, _, _ := getFeed(feed); status != http.StatusNotFound {
		t.Errorf("the old feed link answers %d, want 404", status)
	}
	if status, _, body := getFeed(renewed); status != http.StatusOK || !strings.Contains(string(body), inv.UID) {
		t.Errorf("the new feed link answers %d without the session", status)
	}

	// The trainer's page after the changes.
	ab.Open("/trainer/live/" + id)
	ab.MustContain("#places", "3 of 3 places taken; 0 waiting")
	ab.MustContain("#booked", "Chloe Davies")
	if strings.Contains(ab.Text("#booked"), "Lena Learner") {
		t.Error("the trainer's page still lists Lena, who cancelled, with a place")
	}

	// The session is under way: the trainer marks the register on a phone.
	s.Clock.Advance(wantStart.Add(150 * time.Minute).Sub(s.Clock.Now()))
	signIn(ab, "admin@demo.example", app.DemoPassword) // a new day: signed in again
	ab.Fill("#f-code", auth.CurrentCode(adminSecret, s.Clock.Now()))
	ab.Follow(`form[action="/login/2fa"] button`)
	ab.Viewport(390, 844)
	ab.Open("/trainer/live")
	ab.MustContain("#trainer-past", title)
	ab.Open("/trainer/live/" + id)
	ab.Follow("#open-register")
	ab.MustContain("main h1", "Register")
	ab.MustContain("main", "Present gives them the session's CPD hours and a certificate")
	mark := func(name, value string) {
		t.Helper()
		if !testenv.Eval[bool](ab, `(function(){for (const fs of document.querySelectorAll("#register fieldset")) {
			if (fs.querySelector("legend").textContent.includes(`+"`"+name+"`"+`)) { fs.querySelector('label[for^="`+map[string]string{"present": "present", "left-early": "left", "absent": "absent"}[value]+`-"]').click(); return true } }
			return false })()`) {
			t.Fatalf("no line for %s on the register", name)
		}
	}
	minutes := func(name, v string) {
		t.Helper()
		testenv.Eval[bool](ab, `(function(){for (const fs of document.querySelectorAll("#register fieldset")) {
			if (fs.querySelector("legend").textContent.includes(`+"`"+name+"`"+`)) { fs.querySelector('input[type="number"]').value = "`+v+`"; return true } } return false })()`)
	}
	mark("Amira Advocate", "present")
	mark("Ben Advocate", "present")
	mark("Chloe Davies", "left-early")
	ab.Follow("#save-register")
	ab.MustContain(".error-summary", "Enter the minutes Chloe Davies attended, from 1 to 179")
	if got := testenv.Eval[int](ab, `document.querySelectorAll('#register input[value="present"]:checked').length`); got != 2 {
		t.Errorf("after the error, %d people are still marked present, want the 2 marked", got)
	}
	lookBoth(t, ab, "trainer-register-errors")
	ab.Viewport(390, 844)
	minutes("Chloe Davies", "90")
	mark("Chloe Davies", "present") // she came back: present after all
	ab.Follow("#save-register")
	ab.MustContain(`.notice[role="status"]`, "The register is saved (3 changed).")
	ab.MustContain("#register-counts", "3 present, 0 left early, 0 absent, 0 not marked")
	if n := overflow(ab, "#register"); n > 0 {
		t.Errorf("the register is %d px wider than the phone", n)
	}
	lookBoth(t, ab, "trainer-register")
	ab.Open("/trainer/live/" + id)
	ab.MustContain("#session-counts", "3 (0 left early); 0 absent; 0 not marked")
	ab.MustContain("#session-counts", "9")
	lookBoth(t, ab, "trainer-session-marked")
	month := day.Format("2006-01")
	ab.Open("/trainer/live/report?from=" + month + "&to=" + month)
	ab.MustContain("#live-figures", "3 (100% filled)")
	ab.MustContain("#live-figures", "3 attended, 0 absent (100% of those marked)")
	ab.MustContain("#live-figures", "9")
	ab.MustContain("#live-report", title)
	lookBoth(t, ab, "trainer-live-report")

	// Each attendee finds what it earned: a certificate that verifies, and
	// the CPD entry in their record (the HTTP tests cover leaving early).
	for _, a := range []struct{ email, name string }{{"advocate1@demo.example", "Amira Advocate"}, {"advocate2@demo.example", "Ben Advocate"}, {fourth, "Chloe Davies"}} {
		b := testenv.NewBrowser(t, s.URL)
		b.Viewport(390, 844)
		signIn(b, a.email, app.DemoPassword)
		b.Open("/my/certificates")
		code := testenv.Eval[string](b, `(function(){for (const li of document.querySelectorAll("li.certificate")) {
			if (li.querySelector("h2").textContent.includes(`+"`"+title+"`"+`)) return li.querySelector(".cert-code").textContent.trim() } return "" })()`)
		if code == "" {
			t.Fatalf("%s has no certificate for the session: %s", a.name, b.Text("main"))
		}
		b.MustContain("#cert-"+code, "Live training attended "+day.Format("2 January 2006"))
		b.MustContain("#cert-"+code, "3 CPD hours")
		if a.name == "Amira Advocate" {
			lookBoth(t, b, "live-certificate")
		}
		b.Open("/verify/" + code)
		b.MustContain("#certificate", a.name)
		b.MustContain("#certificate", "Live training")
		b.MustContain("#status", "This certificate is valid.")
		b.Open("/my/compliance")
		b.MustContain("main", title)
		b.Open("/my/live")
		b.MustContain("#my-sessions", "Attended")
		b.MustContain("#my-sessions", "3 CPD hours")
		b.Follow(`#my-sessions a[href="/my/certificates#cert-` + code + `"]`)
		if p := b.Path(); p != "/my/certificates#cert-"+code || !testenv.Eval[bool](b, `!!document.getElementById("cert-`+code+`")`) {
			t.Errorf("the certificate link on My live training went to %s, without the certificate", p)
		}
	}
}
