package server_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/server"
)

// formless are the POST routes that read no fields and whose button no
// page shows in the state the sweep sets up (an enrolment already made, an
// attempt already open, nothing due for deletion, two-factor that the role
// requires, an account that is enabled); they still get the unknown-field,
// other-encoding and empty sweeps.
var formless = map[string]bool{
	"/courses/:slug/enrol":                   true,
	"/courses/:slug/assessment/start":        true,
	"/my/certificates/:code/reissue-request": true,
	"/admin/retention":                       true,
	"/account/2fa/disable":                   true,
	"/admin/users/:id/enable":                true,
	"/account/confirm/send":                  true,
	"/manage/join-requests/:id/approve":      true,
	"/manage/join-requests/:id/decline":      true,
}

// linkForms are forms only an emailed link opens, with the fields their
// handlers read; the sweep sends them without a live link.
var linkForms = map[string][]string{
	"/password/reset":  {"token", "password"},
	"/account/confirm": {"token"},
	"/unsubscribe":     {"u", "t"},
}

// TestHostileValuesInEveryFormNeverGive5xx posts random and hostile values
// (NaN, infinities, absurd and malformed dates, non-UTF-8, very long
// strings, the wrong encoding, unknown fields) to every field of every form,
// as every role that may use it, and asserts no response is a 5xx and the
// server, database connection included, still answers afterwards. The
// fields are those of the forms on the pages each role can open.
func TestHostileValuesInEveryFormNeverGive5xx(t *testing.T) {
	start := time.Now()
	w := newWorld(t, sampleDir)
	ctx := context.Background()

	// Records for every form to act on: an advocate with a certificate, CPD,
	// DBS checks (one on the Update Service), a received reference and an
	// awaited one, and a supervision; open assessments.
	p := w.fullPerson("Hostile Target", "target@example.org")
	m := w.client(w.srv, w.session("manager"))
	dbs := maps.Clone(dbsFields)
	dbs["update_service"] = "yes"
	if resp, body := m.postMultipart("/manage/advocates/"+p.id+"/dbs", dbs, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	if resp, _ := m.post("/manage/advocates/"+p.id+"/references", url.Values{"referee": {"Awaited Referee"}, "relationship": {"Former manager"},
		"contact": {"a@example.org"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference: %d", resp.StatusCode)
	}
	a, err := w.env.DB.Advocate(ctx, p.id)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{":check": a.DBS[0].ID, ":ref": a.References[0].ID, ":entry": a.CPD[0].ID, ":record": a.CPD[0].ID, ":kind": "cpd",
		":code": p.codes[0], ":slug": "sample-course", ":lesson": "01-first-steps", ":no": "1", ":n": "0"}

	// The personas: "advocate" is one with a compliance record; "pending"
	// has signed in with a password and owes the second factor.
	users := map[string]string{"learner": w.users["learner"].ID, "advocate": p.id, "manager": w.users["manager"].ID, "admin": w.users["admin"].ID}
	may := map[string][]string{
		"anyone":    {"anonymous"},
		"signed-in": {"learner", "advocate", "manager", "admin"},
		"advocate":  {"advocate"},
		"manager":   {"manager", "admin"},
		"admin":     {"admin"},
		"trainer":   {"admin"},
	}
	personasOf := func(rt server.RouteInfo) []string {
		if strings.HasPrefix(rt.Path, "/login/2fa") {
			return []string{"pending"}
		}
		return may[rt.Who]
	}
	newClient := func(persona string) *client {
		switch persona {
		case "anonymous":
			return w.client(w.srv, "")
		case "pending":
			token, id := auth.NewToken()
			now := w.clock()
			if err := w.env.DB.InsertSession(ctx, &auth.Session{ID: id, UserID: w.users["manager"].ID, Created: now, LastSeen: now, Expires: now.Add(auth.SessionAbsolute), MFAPending: true}); err != nil {
				t.Fatal(err)
			}
			return w.client(w.srv, token)
		}
		// Managers and admins keep two-factor on whatever the sweep turned off.
		if u := w.users[persona]; u != nil && u.NeedsTwoFactor() {
			if err := w.env.DB.UpdateUser(ctx, u.ID, auth.UserUpdate{TOTPEnabled: new(true)}); err != nil {
				t.Fatal(err)
			}
		}
		return w.client(w.srv, w.sessionFor(users[persona]))
	}
	for _, persona := range []string{"learner", "manager", "admin"} {
		c := newClient(persona)
		c.post("/courses/sample-course/enrol", nil)
		for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
			c.post("/courses/sample-course/lessons/"+l+"/complete", nil)
		}
		c.post("/courses/sample-course/assessment/start", nil)
	}
	// The admin passes and says what they will do differently: the forms
	// after a pass, of the follow-up and of publishing a comment show.
	{
		c := newClient("admin")
		n, qs := w.paper(c)
		if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(qs, true)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the admin's pass: %d", resp.StatusCode)
		}
		if resp, _ := c.post("/my/evaluation/sample-course/after", url.Values{"helpful": {"4"}, "different": {"Listen first."}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the admin's answers: %d", resp.StatusCode)
		}
	}

	// Live training: a session to come that the learner has booked (its
	// page, change and cancel forms), and one under way (its register).
	coming, err := w.svc.Live.Create(ctx, w.users["admin"], "", live.SessionForm{Title: "Hostile session", Date: "2027-06-01", StartTime: "09:30",
		EndTime: "12:30", Mode: live.InPerson, Venue: "Hall", Capacity: "5"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Live.Book(ctx, w.users["learner"], w.users["learner"], coming.ID, live.BookForm{}); err != nil {
		t.Fatal(err)
	}
	now := w.clock()
	started := &live.Session{ID: "under-way", EventID: "under-way", Title: "Under way", Start: now.Add(-time.Hour), End: now.Add(2 * time.Hour), Closes: now.Add(-time.Hour),
		Mode: live.InPerson, Venue: "Hall", Capacity: 5, CPDHours: 3, Certificate: true, Created: now,
		Bookings: map[string]*live.Booking{w.users["learner"].ID: {UserID: w.users["learner"].ID, Name: "Learner", Email: "learner@example.org", Status: live.Booked, At: now}}}
	if err := w.env.DB.InsertLiveSession(ctx, started); err != nil {
		t.Fatal(err)
	}

	// The forms: those on every page each persona can open.
	fill := func(path string) string {
		id := w.users["learner2"].ID
		switch {
		case strings.HasPrefix(path, "/manage/advocates/:id"):
			id = p.id
		case strings.HasPrefix(path, "/trainer/live/:id/register"):
			id = started.ID
		case strings.HasPrefix(path, "/live/:id"), strings.HasPrefix(path, "/trainer/live/:id"):
			id = coming.ID
		}
		r := []string{":id", id, "*", "css/site.css", ":hash", "0"}
		for k, v := range ids {
			r = append(r, k, v)
		}
		return strings.NewReplacer(r...).Replace(path)
	}
	routes := w.srv.Routes()
	found := map[string]map[string]postForm{} // POST route → persona → its form
	type getForm struct {
		persona string
		form    postForm
	}
	var getForms []getForm
	seenGet := map[string]bool{}
	for _, persona := range []string{"anonymous", "pending", "learner", "advocate", "manager", "admin"} {
		c := newClient(persona)
		for _, rt := range routes {
			if rt.Method != "GET" || (rt.Who != "anyone" && !slices.Contains(personasOf(rt), persona)) || strings.ContainsAny(rt.Path, "*.") || strings.HasSuffix(rt.Path, "/download") ||
				strings.Contains(rt.Path, "/evidence/") || rt.Path == "/healthz" || rt.Path == "/readyz" {
				continue
			}
			target := fill(rt.Path)
			resp, body := c.do("GET", target, nil)
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s as %s: %d", rt.Path, persona, resp.StatusCode)
			}
			for _, f := range formsOn(strings.SplitN(target, "?", 2)[0], body) {
				plausible(&f)
				if f.get {
					if key := persona + " " + f.action; !seenGet[key] {
						seenGet[key] = true
						f.fields, f.base["page"] = append(f.fields, "page"), "2"
						getForms = append(getForms, getForm{persona, f})
					}
					continue
				}
				for _, rt := range routes {
					if rt.Method == "POST" && routeRE(rt.Path).MatchString(f.action) {
						if found[rt.Path] == nil {
							found[rt.Path] = map[string]postForm{}
						}
						if _, ok := found[rt.Path][persona]; !ok {
							found[rt.Path][persona] = f
						}
					}
				}
			}
		}
	}

	// A signed-in persona keeps one session (and its CSRF token) from route
	// to route, but starts a new one after a route that may end it.
	type session struct {
		c    *client
		csrf string
	}
	sessions := map[string]session{}
	signedIn := func(persona string) (*client, string) {
		if ss, ok := sessions[persona]; ok {
			return ss.c, ss.csrf
		}
		c := newClient(persona)
		page := "/account"
		if persona == "anonymous" || persona == "pending" {
			page = "/login"
		}
		_, body := c.do("GET", page, nil)
		csrf := ""
		if mm := csrfRE.FindStringSubmatch(body); mm != nil {
			csrf = mm[1]
		}
		if persona != "anonymous" && persona != "pending" {
			sessions[persona] = session{c, csrf}
		}
		return c, csrf
	}
	ends := func(path string) bool {
		for _, p := range []string{"/logout", "/password", "/2fa", "/sessions/", "/profile", "/disable", "/erase", "/login"} {
			if strings.Contains(path, p) {
				return true
			}
		}
		return false
	}

	// Sweep every POST route as every persona that may use it; the routes
	// that remove or disable things go last, so the others find their records.
	sort.SliceStable(routes, func(i, j int) bool {
		last := func(p string) bool {
			return strings.HasSuffix(p, "/delete") || strings.HasSuffix(p, "/erase") || strings.HasSuffix(p, "/disable") || p == "/logout"
		}
		return !last(routes[i].Path) && last(routes[j].Path)
	})
	s := &sweeper{rnd: rand.New(rand.NewPCG(13, 7))}
	swept, missing := 0, []string(nil)
	for _, rt := range routes {
		if rt.Method != "POST" {
			continue
		}
		swept++
		personas := personasOf(rt)
		if len(found[rt.Path]) == 0 && !formless[rt.Path] && linkForms[rt.Path] == nil {
			missing = append(missing, rt.Path)
		}
		for i, persona := range personas {
			f, ok := found[rt.Path][persona]
			if !ok {
				f = postForm{action: fill(rt.Path), fields: linkForms[rt.Path], base: map[string]string{}, kinds: map[string]string{}}
				plausible(&f)
			}
			c, csrf := signedIn(persona)
			s.sweep(c, csrf, &f, rt.Path+" as "+persona, i, len(personas))
			if ends(rt.Path) {
				delete(sessions, persona)
			}
		}
	}
	for _, g := range getForms {
		c, _ := signedIn(g.persona)
		s.sweep(c, "", &g.form, "GET "+g.form.action+" as "+g.persona, 0, 1)
	}

	for i, f := range s.failed {
		if i == 40 {
			t.Errorf("… and %d more", len(s.failed)-40)
			break
		}
		t.Error(f)
	}
	// Still there: the process, the database connection, and pages that read it.
	anon := w.client(w.srv, "")
	for _, target := range []string{"/healthz", "/readyz"} {
		if resp, body := anon.do("GET", target, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s after the sweep: %d %s", target, resp.StatusCode, body)
		}
	}
	if resp, _ := newClient("manager").do("GET", "/manage/advocates/"+p.id, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the advocate's page after the sweep: %d", resp.StatusCode)
	}
	// A route whose form no page showed was swept with unknown fields only:
	// set up the state that shows its form, or list it in formless.
	if len(missing) > swept/4 {
		t.Errorf("no page showed the form of %d of %d POST routes: %v", len(missing), swept, missing)
	} else if len(missing) > 0 {
		t.Logf("no page showed the form of %v; swept with unknown fields only", missing)
	}
	if swept < 40 || len(found) < 40 || len(getForms) < 5 || s.sent < 700 {
		t.Fatalf("swept %d POST routes (forms found for %d) and %d GET forms with %d requests: the sweep is not reaching the forms", swept, len(found), len(getForms), s.sent)
	}
	t.Logf("%d hostile requests to %d POST routes (forms found for %d) and %d GET forms in %s", s.sent, swept, len(found), len(getForms), time.Since(start).Round(time.Millisecond))
}
