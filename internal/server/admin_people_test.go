package server_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/people"
	"github.com/family-advocacy/lms/internal/testenv"
)

// Adding people (issue 17, points 1 and 2): the form and the CSV upload,
// the invitation's link, and what a person's page shows and does.

var invitationLinkRE = regexp.MustCompile(`http://lms\.test(/invitation\?token=([0-9a-f]+\.[A-Za-z0-9_-]+))`)

// invitationLinks returns the invitation links delivered to email, oldest
// first (path and token of each).
func (w *world) invitationLinks(smtp *testenv.SMTPServer, email string) (paths, tokens []string) {
	w.t.Helper()
	w.svc.Mail.Wait()
	for _, m := range smtp.To(email) {
		if l := invitationLinkRE.FindStringSubmatch(m.Text); l != nil {
			paths, tokens = append(paths, l[1]), append(tokens, l[2])
		}
	}
	return paths, tokens
}

// newestInvitation returns the newest invitation link delivered to email.
func (w *world) newestInvitation(smtp *testenv.SMTPServer, email string) (path, token string) {
	w.t.Helper()
	paths, tokens := w.invitationLinks(smtp, email)
	if len(paths) == 0 {
		w.t.Fatalf("no invitation delivered to %s", email)
	}
	return paths[len(paths)-1], tokens[len(tokens)-1]
}

// addPerson adds a person with the admin's form and returns their ID.
func (w *world) addPerson(admin *client, name, email string, advocate bool, roles ...string) string {
	w.t.Helper()
	if len(roles) == 0 {
		roles = []string{"learner"}
	}
	adv := "no"
	if advocate {
		adv = "yes"
	}
	resp, body := admin.post("/admin/users", url.Values{"name": {name}, "email": {email}, "roles": roles, "org": {w.orgB.ID}, "advocate": {adv}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/users/") {
		w.t.Fatalf("add %s: got %d %s, want a redirect to their page: %.600s", email, resp.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/admin/users/")
}

// accept sets a password from an invitation link, as its recipient would,
// and returns the answer to the button.
func (w *world) accept(path, token, password string) (*http.Response, string) {
	w.t.Helper()
	c := w.client(w.srv, "")
	if resp, _ := c.do("GET", path, nil); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		w.t.Fatalf("the link's page: %d", resp.StatusCode)
	}
	return c.post("/invitation", url.Values{"token": {token}, "password": {password}})
}

// signsIn reports whether email and password sign in over HTTP: the
// account page opens (or, for a role that needs two-factor and has none
// yet, its set-up page).
func (w *world) signsIn(email, password string) bool {
	w.t.Helper()
	c := w.client(w.srv, "")
	resp, _ := c.post("/login", url.Values{"email": {email}, "password": {password}})
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(next, "/login") {
		return false
	}
	if next != "/account/2fa" {
		next = "/account"
	}
	r, _ := c.do("GET", next, nil)
	return r.StatusCode == http.StatusOK
}

// linkWorks reports whether an invitation link opens its page.
func (w *world) linkWorks(path string) bool {
	w.t.Helper()
	resp, _ := w.client(w.srv, "").do("GET", path, nil)
	return resp.StatusCode == http.StatusOK
}

// events returns the audit events about a user, by action (events of
// one moment of the test clock come in no particular order).
func (w *world) events(userID string) []audit.Event {
	w.t.Helper()
	evs, _, err := w.svc.Audit.Events(context.Background(), audit.Query{Target: "user:" + userID, Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	slices.SortStableFunc(evs, func(a, b audit.Event) int { return strings.Compare(a.Action, b.Action) })
	return evs
}

// actions returns the events' actions (sorted, as events returns them).
func actions(evs []audit.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

// event returns the one event with the action, or fails.
func event(t *testing.T, evs []audit.Event, action string) audit.Event {
	t.Helper()
	for _, e := range evs {
		if e.Action == action {
			return e
		}
	}
	t.Fatalf("no %s event among %v", action, actions(evs))
	return audit.Event{}
}

// TestAddAPersonSendsAnInvitationThatSetsThePassword: an admin adds a
// person; the invitation emailed to them opens a page that sets their
// password once; they sign in with it; the person's page and the audit
// log say so.
func TestAddAPersonSendsAnInvitationThatSetsThePassword(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))

	t.Run("TheFormComesBackWithWhatWasTypedAndEveryProblem", func(t *testing.T) {
		before, _ := w.svc.Auth.CountUsers(ctx)
		resp, page := admin.post("/admin/users", url.Values{"name": {"Typed Name"}, "email": {"not an address"}, "org": {""}, "advocate": {"maybe"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("got %d, want 422", resp.StatusCode)
		}
		for _, want := range []string{"There is a problem", `value="Typed Name"`, `value="not an address"`, "Enter an email address in the correct format",
			"Select at least one role", "Select their organisation", "Say whether they are one of our professional advocates", `href="#f-roles"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the form with problems lacks %q", want)
			}
		}
		if after, _ := w.svc.Auth.CountUsers(ctx); after != before {
			t.Errorf("accounts: %d before, %d after a refused form", before, after)
		}
		// An address that has an account already.
		resp, page = admin.post("/admin/users", url.Values{"name": {"Someone"}, "email": {"LEARNER@example.org"}, "roles": {"learner"}, "org": {w.orgA.ID}, "advocate": {"no"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "already has an account") {
			t.Fatalf("a taken address: got %d, want 422 saying it has an account", resp.StatusCode)
		}
	})

	id := w.addPerson(admin, "Aisha Khan", "Aisha.Khan@Example.org", false, "learner", "manager")
	u, err := w.env.DB.User(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "aisha.khan@example.org" || u.OrgID != w.orgB.ID || !slices.Equal(u.Roles, []auth.Role{auth.RoleLearner, auth.RoleManager}) || u.PasswordHash != "" {
		t.Fatalf("the account: %s %s %v, password set %v", u.Email, u.OrgID, u.Roles, u.PasswordHash != "")
	}
	path, token := w.newestInvitation(smtp, "aisha.khan@example.org")

	t.Run("ThePersonsPageShowsThePendingInvitation", func(t *testing.T) {
		_, page := admin.do("GET", "/admin/users/"+id, nil)
		for _, want := range []string{"Pending</span> since 22 November 2026", "by Admin Person", "expires 29 November 2026, 09:00", "Send a new invitation", "Revoke the invitation",
			"Never: they have not chosen a password yet"} {
			if !strings.Contains(page, want) {
				t.Errorf("the person's page lacks %q", want)
			}
		}
		if _, list := admin.do("GET", "/admin/users?q=aisha", nil); !strings.Contains(list, `<span class="tag tag-warn">Invited</span>`) {
			t.Error("the list of users does not say Aisha is invited")
		}
	})

	t.Run("TheLinkIsNotReadableAtRestOrByStaff", func(t *testing.T) {
		secret := token[strings.Index(token, ".")+1:]
		if found := testenv.GrepDataDir(t, []string{secret}); len(found) > 0 {
			t.Fatalf("the invitation's token is in plain text in the raw database files: %v", found)
		}
		if found := testenv.GrepDataDir(t, []string{"aisha.khan@example.org"}); len(found) == 0 {
			t.Fatal("the recipient is not in the raw files either: is the grep looking at the right files?")
		}
		if _, outbox := admin.do("GET", "/admin/outbox", nil); !strings.Contains(outbox, "aisha.khan@example.org") || strings.Contains(outbox, secret) {
			t.Error("the outbox does not list the invitation, or shows its link")
		}
	})

	t.Run("APasswordTooShortIsRefusedAndTheLinkStillWorks", func(t *testing.T) {
		resp, page := w.accept(path, token, "short")
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "at least 12 characters") || !strings.Contains(page, "aisha.khan@example.org") {
			t.Fatalf("got %d, want 422 with the password rule, on the page for Aisha", resp.StatusCode)
		}
		if !w.linkWorks(path) {
			t.Fatal("a refused password used the link up")
		}
	})

	if w.signsIn("aisha.khan@example.org", newPassword) {
		t.Fatal("signed in before choosing a password")
	}
	resp, _ := w.accept(path, token, newPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("accepting: got %d %s, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !w.signsIn("aisha.khan@example.org", newPassword) {
		t.Fatal("the password chosen from the invitation does not sign in")
	}

	t.Run("TheLinkWorksOnce", func(t *testing.T) {
		if w.linkWorks(path) {
			t.Error("the link still opens its page")
		}
		if resp, _ := w.accept(path, token, "another long password here"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("using the link again: got %d, want 404", resp.StatusCode)
		}
		if !w.signsIn("aisha.khan@example.org", newPassword) || w.signsIn("aisha.khan@example.org", "another long password here") {
			t.Error("the second use changed the password")
		}
	})

	t.Run("AcceptedIsShownAndAudited", func(t *testing.T) {
		u, _ := w.env.DB.User(ctx, id)
		if !u.EmailConfirmed() || u.InvitationState(w.clock()) != auth.InvitationAccepted || u.Invitation.TokenHash != "" {
			t.Fatalf("after accepting: confirmed %v, state %s", u.EmailConfirmed(), u.InvitationState(w.clock()))
		}
		_, page := admin.do("GET", "/admin/users/"+id, nil)
		if !strings.Contains(page, "Accepted</span> on 22 November 2026") || strings.Contains(page, "Revoke the invitation") || !strings.Contains(page, "Send a password reset link") {
			t.Error("the person's page does not show the invitation accepted, with a reset link offered instead")
		}
		evs := w.events(id)
		if got := actions(evs); !slices.Equal(got, []string{"user.invitation_accept", "user.invite"}) {
			t.Fatalf("audit: got %v", got)
		}
		if a, b := event(t, evs, "user.invite").ActorID, event(t, evs, "user.invitation_accept").ActorID; a != w.users["admin"].ID || b != id {
			t.Errorf("audit actors: invited by %s, accepted by %s", a, b)
		}
	})

	t.Run("AnAdvocateGetsTheirComplianceRecord", func(t *testing.T) {
		id := w.addPerson(admin, "Ben Okafor", "ben.okafor@example.org", true)
		a, err := w.env.DB.Advocate(ctx, id)
		if err != nil {
			t.Fatalf("no compliance record: %v", err)
		}
		u, _ := w.env.DB.User(ctx, id)
		if a.Status != compliance.StatusOnboarding || a.OrgID != w.orgB.ID || !u.HasRole(auth.RoleAdvocate) || !u.HasRole(auth.RoleLearner) {
			t.Fatalf("record %s in %s, roles %v", a.Status, a.OrgID, u.Roles)
		}
		if paths, _ := w.invitationLinks(smtp, "ben.okafor@example.org"); len(paths) != 1 {
			t.Errorf("%d invitations delivered, want 1", len(paths))
		}
		_, page := admin.do("GET", "/admin/users/"+id, nil)
		if !strings.Contains(page, `href="/manage/advocates/`+id+`"`) || !strings.Contains(page, "Not cleared") {
			t.Error("the advocate's page does not summarise and link their compliance record")
		}
	})
}

// TestInvitationLinksExpireAndOnlyTheNewestWorks: the link works for 7
// days; a new invitation ends the one before; revoking ends it and
// disables the account, which "forgot password" then does not reach; a new
// invitation after that lets the person in.
func TestInvitationLinksExpireAndOnlyTheNewestWorks(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	id := w.addPerson(w.client(w.srv, w.session("admin")), "Chidi Eze", "chidi@example.org", false)
	first, _ := w.newestInvitation(smtp, "chidi@example.org")

	w.advance(auth.InvitationLifetime - time.Minute)
	if !w.linkWorks(first) {
		t.Fatal("the link does not work a minute before its 7 days are up")
	}
	w.advance(2 * time.Minute)
	if w.linkWorks(first) {
		t.Fatal("the link works after 7 days")
	}
	admin := w.client(w.srv, w.session("admin")) // a session of today
	if _, page := admin.do("GET", "/admin/users/"+id, nil); !strings.Contains(page, "Expired</span> on 29 November 2026") {
		t.Error("the person's page does not say the invitation expired")
	}

	resend := func() string {
		t.Helper()
		resp, _ := admin.post("/admin/users/"+id+"/invitation/resend", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("resend: %d", resp.StatusCode)
		}
		p, _ := w.newestInvitation(smtp, "chidi@example.org")
		return p
	}
	second := resend()
	if second == first || !w.linkWorks(second) {
		t.Fatal("the new invitation's link does not work")
	}
	third := resend()
	if w.linkWorks(second) || !w.linkWorks(third) {
		t.Fatal("after sending another, the one before still works (or the new one does not)")
	}

	resp, _ := admin.post("/admin/users/"+id+"/invitation/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if w.linkWorks(third) {
		t.Fatal("a revoked invitation's link works")
	}
	u, _ := w.env.DB.User(ctx, id)
	if !u.Disabled || u.InvitationState(w.clock()) != auth.InvitationRevoked {
		t.Fatalf("after revoking: disabled %v, state %s", u.Disabled, u.InvitationState(w.clock()))
	}
	before := len(smtp.To("chidi@example.org"))
	w.client(w.srv, "").post("/password/forgot", url.Values{"email": {"chidi@example.org"}})
	w.svc.Mail.Wait()
	if n := len(smtp.To("chidi@example.org")); n != before {
		t.Fatal("forgot password sent a link to a revoked invitee")
	}
	if _, page := admin.do("GET", "/admin/users/"+id, nil); !strings.Contains(page, "Revoked</span>") || strings.Contains(page, "Revoke the invitation") {
		t.Error("the person's page does not show the invitation revoked")
	}

	fourth := resend()
	_, token := w.newestInvitation(smtp, "chidi@example.org")
	if resp, _ := w.accept(fourth, token, newPassword); resp.StatusCode != http.StatusSeeOther || !w.signsIn("chidi@example.org", newPassword) {
		t.Fatal("a new invitation after revoking does not let the person in")
	}
	if got := actions(w.events(id)); !slices.Equal(got, []string{"user.invitation_accept", "user.invitation_resend", "user.invitation_resend", "user.invitation_resend",
		"user.invitation_revoke", "user.invite"}) {
		t.Errorf("audit: got %v", got)
	}
	if resp, _ := admin.post("/admin/users/"+id+"/invitation/resend", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend after accepting: %d", resp.StatusCode)
	} else if _, page := admin.do("GET", "/admin/users/"+id, nil); !strings.Contains(page, "already chosen a password") {
		t.Error("resending an accepted invitation is not refused with a reason")
	}
}

// peopleCSV is a file of 20 people in orgB, two of whose rows are wrong
// (rows 7 and 15, as a spreadsheet numbers them).
func (w *world) peopleCSV() string {
	var b strings.Builder
	b.WriteString("\uFEFFname,email,roles,organisation,advocate\r\n")
	for i := 1; i <= 20; i++ {
		email, org := fmt.Sprintf("person%02d@example.org", i), "Org B"
		switch i {
		case 6:
			email = "person06@example" // row 7
		case 14:
			org = "Nowhere Trust" // row 15
		}
		adv := "no"
		if i%5 == 0 {
			adv = "yes"
		}
		fmt.Fprintf(&b, "\"Person %02d, Tester\",%s,Learner,%s,%s\r\n", i, email, org, adv)
	}
	return b.String()
}

// snapshot returns every document of the test's database, by collection
// and _id, as text.
func (w *world) snapshot() map[string]string {
	w.t.Helper()
	ctx := context.Background()
	names, err := w.env.DB.DB.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names {
		cur, err := w.env.DB.DB.Collection(n).Find(ctx, bson.D{}, options.Find().SetComment(testenv.TestOnly))
		if err != nil {
			w.t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			w.t.Fatal(err)
		}
		for _, d := range docs {
			out[n+"/"+d.Lookup("_id").String()] = d.String()
		}
	}
	return out
}

var hiddenRE = regexp.MustCompile(`name="(text|hash)" value="([^"]*)"`)

// confirmForm returns the hidden fields of the confirmation form on a page.
func confirmForm(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("text") == "" || v.Get("hash") == "" {
		t.Fatalf("no confirmation form on the page: %.2000s", page)
	}
	return v
}

// TestUploadADryRunWritesNothingAndConfirmingCreatesOnce: a file of 20
// people with 2 bad rows is checked (nothing written: the whole database
// is the same after), then confirmed (18 accounts, each invited), then
// confirmed again (nobody added twice, no second email).
func TestUploadADryRunWritesNothingAndConfirmingCreatesOnce(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))

	resp, tmpl := admin.do("GET", "/admin/users/upload/template.csv", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(tmpl, "\uFEFFname,email,roles,organisation,advocate\r\n") || !strings.Contains(tmpl, "Org B") {
		t.Fatalf("template: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), tmpl)
	}
	if f, err := people.Parse([]byte(tmpl)); err != nil || len(f.Records) != 1 {
		t.Fatalf("the template does not read back as one person: %v", err)
	}

	usersBefore, _ := w.svc.Auth.CountUsers(ctx)
	before := w.snapshot()
	resp, page := admin.postMultipart("/admin/users/upload", map[string]string{}, "file", "people.csv", []byte(w.peopleCSV()))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dry run: %d %.1000s", resp.StatusCode, page)
	}
	for _, want := range []string{"Nothing has been saved yet", "18 will be created", "2 rows that will not be added",
		"Row 7: the email “person06@example” is not a valid address", "Row 15: the organisation “Nowhere Trust” is not one of yours",
		"Add 18 people and send their invitations", "Person 01, Tester"} {
		if !strings.Contains(page, want) {
			t.Errorf("the dry run lacks %q", want)
		}
	}
	if after, _ := w.svc.Auth.CountUsers(ctx); after != usersBefore {
		t.Fatalf("accounts: %d before the dry run, %d after", usersBefore, after)
	}
	after := w.snapshot()
	for k, v := range after {
		if before[k] != v {
			t.Errorf("the dry run wrote %s", k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("the dry run deleted %s", k)
		}
	}
	w.svc.Mail.Wait()
	if n := len(smtp.Mail()); n != 0 {
		t.Fatalf("the dry run sent %d emails", n)
	}

	form := confirmForm(t, page)
	resp, page = admin.post("/admin/users/upload/confirm", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "18 people were added and invited") {
		t.Fatalf("confirm: %d %.1500s", resp.StatusCode, page)
	}
	if n, _ := w.svc.Auth.CountUsers(ctx); n != usersBefore+18 {
		t.Fatalf("accounts after confirming: %d, want %d", n, usersBefore+18)
	}
	if changed := w.snapshot(); len(changed) <= len(before) {
		t.Fatal("the snapshot does not see the confirmation's writes either: is it looking at the right database?")
	}
	for i := 1; i <= 20; i++ {
		email := fmt.Sprintf("person%02d@example.org", i)
		u, err := w.svc.Auth.UserByEmail(ctx, email)
		if i == 14 {
			if !errs.Is(err, errs.ENOTFOUND) {
				t.Errorf("row 15's person was created: %v", err)
			}
			continue
		}
		if i == 6 {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		if u.Name != fmt.Sprintf("Person %02d, Tester", i) || u.OrgID != w.orgB.ID || u.HasRole(auth.RoleAdvocate) != (i%5 == 0) {
			t.Errorf("%s: %q in %s, roles %v", email, u.Name, u.OrgID, u.Roles)
		}
		if i%5 == 0 {
			if _, err := w.env.DB.Advocate(ctx, u.ID); err != nil {
				t.Errorf("%s is an advocate without a compliance record: %v", email, err)
			}
		}
		if paths, _ := w.invitationLinks(smtp, email); len(paths) != 1 {
			t.Errorf("%s: %d invitations delivered, want 1", email, len(paths))
		}
	}

	t.Run("ConfirmingTwiceAddsNobodyAgain", func(t *testing.T) {
		mails := len(smtp.Mail())
		resp, page := admin.post("/admin/users/upload/confirm", form)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Nobody new was added; 18 had been added from this file before") {
			t.Fatalf("second confirmation: %d %.1500s", resp.StatusCode, page)
		}
		if n, _ := w.svc.Auth.CountUsers(ctx); n != usersBefore+18 {
			t.Fatalf("accounts after confirming twice: %d, want %d", n, usersBefore+18)
		}
		w.svc.Mail.Wait()
		if n := len(smtp.Mail()); n != mails {
			t.Errorf("the second confirmation sent %d more emails", n-mails)
		}
		// Checked again, the same file says so too.
		_, page = admin.postMultipart("/admin/users/upload", map[string]string{}, "file", "people.csv", []byte(w.peopleCSV()))
		if !strings.Contains(page, "0 will be created, 18 were added from this file already") {
			t.Errorf("a dry run of a file already added: %.1500s", page)
		}
	})

	t.Run("AFileThatIsNotCSVSaysWhy", func(t *testing.T) {
		resp, page := admin.postMultipart("/admin/users/upload", map[string]string{}, "file", "people.xlsx", []byte("PK\x03\x04rest of a zip"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "spreadsheet file") || !strings.Contains(page, `href="#f-file"`) {
			t.Fatalf("an xlsx: %d", resp.StatusCode)
		}
		resp, page = admin.postMultipart("/admin/users/upload", map[string]string{}, "", "", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose a CSV file") {
			t.Fatalf("no file: %d", resp.StatusCode)
		}
		tampered := url.Values{"text": form["text"], "hash": {strings.Repeat("0", 64)}}
		if resp, page := admin.post("/admin/users/upload/confirm", tampered); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "changed between the check and the confirmation") {
			t.Fatalf("a confirmation whose file does not match its hash: %d", resp.StatusCode)
		}
	})
}

// TestAConfirmationThatStopsIsFinishedByTheNext: with a budget that runs
// out after each person, and with a person whose account was made but
// whose invitation never went (a crash between the two), each
// confirmation gets further, the last finishes everyone, and nobody is
// added or emailed twice.
func TestAConfirmationThatStopsIsFinishedByTheNext(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	adminUser := w.users["admin"]
	file := "name,email,organisation,advocate\nAmy Adams,amy@example.org,Org B,yes\nBen Brown,ben@example.org,Org B,no\nCat Cole,cat@example.org,Org B,no\n"
	f, err := people.Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	// The crash: Ben's account made from this file, his email never sent.
	if _, _, err := w.svc.Auth.Invite(ctx, adminUser, auth.Invitee{Name: "Ben Brown", Email: "ben@example.org", OrgID: w.orgB.ID, Roles: []auth.Role{auth.RoleLearner}, Upload: f.Hash}); err != nil {
		t.Fatal(err)
	}
	svc := &people.Service{Auth: w.svc.Auth, Comply: w.svc.Comply, Audit: w.svc.Audit, Budget: time.Nanosecond}
	// A dry run sees Ben as added from the file, with a step still to do.
	dry, err := svc.DryRun(ctx, []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if r := dry.Rows[1]; r.Outcome != people.CreatedBefore || !r.Unfinished || dry.Unfinished() != 1 || dry.Rows[0].Outcome != people.WillCreate {
		t.Fatalf("the dry run: %+v", dry.Rows)
	}
	var outcomes [][]people.Outcome
	for range 3 {
		p, err := svc.Confirm(ctx, adminUser, f.Text, f.Hash)
		if err != nil {
			t.Fatal(err)
		}
		var got []people.Outcome
		for _, r := range p.Rows {
			got = append(got, r.Outcome)
		}
		outcomes = append(outcomes, got)
	}
	want := [][]people.Outcome{
		{people.Created, people.NotYet, people.NotYet},               // Amy; then the budget has run out
		{people.CreatedBefore, people.CreatedBefore, people.Created}, // Ben's invitation finished, and Cat
		{people.CreatedBefore, people.CreatedBefore, people.CreatedBefore},
	}
	for i := range want {
		if !slices.Equal(outcomes[i], want[i]) {
			t.Errorf("confirmation %d: got %v, want %v", i+1, outcomes[i], want[i])
		}
	}
	for _, email := range []string{"amy@example.org", "ben@example.org", "cat@example.org"} {
		if paths, _ := w.invitationLinks(smtp, email); len(paths) != 1 {
			t.Errorf("%s: %d invitations delivered, want 1", email, len(paths))
		}
	}
	amy, _ := w.svc.Auth.UserByEmail(ctx, "amy@example.org")
	if _, err := w.env.DB.Advocate(ctx, amy.ID); err != nil {
		t.Errorf("Amy has no compliance record: %v", err)
	}
}

// TestPersonsPageAnswersASupportCall: the page shows roles, organisation,
// last sign-in, two-factor, courses with progress, certificates (linked);
// resetting two-factor needs a reason, is not for oneself, signs the
// person out and is audited; signing out everywhere ends every session;
// a password reset link can be sent.
func TestPersonsPageAnswersASupportCall(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	code := w.certifiedLearner()
	learner := w.users["learner"]
	w.advance(time.Hour)
	if !w.signsIn(learner.Email, rightPassword) {
		t.Fatal("the learner does not sign in")
	}
	admin := w.client(w.srv, w.session("admin"))

	_, page := admin.do("GET", "/admin/users/"+learner.ID, nil)
	for _, want := range []string{"<dd>Learner</dd>", "<dd>Org A</dd>", "22 November 2026, 10:00", "Two-factor</dt><dd id=\"two-factor\"><span class=\"tag tag-neutral\">Off",
		"Sample course for tests", "3 of 3 lessons", `href="/admin/certificates/` + code + `"`, "Send a password reset link", "Sign out everywhere"} {
		if !strings.Contains(page, want) {
			t.Errorf("the learner's page lacks %q", want)
		}
	}
	if strings.Contains(page, "Reset two-factor authentication</button>") {
		t.Error("the page offers to reset a two-factor that is off")
	}

	t.Run("ResetTwoFactorNeedsAReasonAndIsAudited", func(t *testing.T) {
		w.enableTOTP("manager")
		id := w.users["manager"].ID
		mgr := w.client(w.srv, w.session("manager"))
		resp, page := admin.post("/admin/users/"+id+"/two-factor/reset", url.Values{"reason": {"   "}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Say why two-factor authentication is being reset") || !w.user("manager").TOTPEnabled {
			t.Fatalf("without a reason: %d, two-factor still on %v", resp.StatusCode, w.user("manager").TOTPEnabled)
		}
		resp, _ = admin.post("/admin/users/"+id+"/two-factor/reset", url.Values{"reason": {"Lost her phone; called back on the office number"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reset: %d", resp.StatusCode)
		}
		m := w.user("manager")
		if m.TOTPEnabled || m.TOTPSecret != "" || len(m.RecoveryHashes) != 0 {
			t.Fatal("two-factor is still set up")
		}
		if resp, _ := mgr.do("GET", "/manage", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the manager's session after the reset: %d, want signed out", resp.StatusCode)
		}
		last := event(t, w.events(id), "user.two_factor_reset")
		if last.Note != "Lost her phone; called back on the office number" || last.ActorID != w.users["admin"].ID {
			t.Errorf("audit: %+v", last)
		}
		// Not one's own.
		resp, _ = admin.post("/admin/users/"+w.users["admin"].ID+"/two-factor/reset", url.Values{"reason": {"testing"}})
		if resp.StatusCode != http.StatusSeeOther || !w.user("admin").TOTPEnabled {
			t.Fatalf("resetting one's own: %d, still on %v", resp.StatusCode, w.user("admin").TOTPEnabled)
		}
	})

	t.Run("SignOutEverywhereEndsEverySession", func(t *testing.T) {
		a, b := w.client(w.srv, w.session("learner2")), w.client(w.srv, w.session("learner2"))
		for _, c := range []*client{a, b} {
			if resp, _ := c.do("GET", "/account", nil); resp.StatusCode != http.StatusOK {
				t.Fatal("not signed in")
			}
		}
		resp, _ := admin.post("/admin/users/"+w.users["learner2"].ID+"/sign-out", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out everywhere: %d", resp.StatusCode)
		}
		for _, c := range []*client{a, b} {
			if resp, _ := c.do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("a session after signing out everywhere: %d", resp.StatusCode)
			}
		}
		if ss, _ := w.svc.Auth.Sessions(ctx, w.users["learner2"].ID); len(ss) != 0 {
			t.Errorf("%d sessions left", len(ss))
		}
		if got := actions(w.events(w.users["learner2"].ID)); !slices.Contains(got, "user.sign_out_everywhere") {
			t.Errorf("audit: %v", got)
		}
	})

	t.Run("APasswordResetLinkIsSent", func(t *testing.T) {
		if resp, _ := admin.post("/admin/users/"+learner.ID+"/password-reset", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send reset: %d", resp.StatusCode)
		}
		if tok := w.deliveredToken(smtp, learner.Email); !w.resetWorks(tok) {
			t.Fatal("the reset link sent does not work")
		}
		if got := actions(w.events(learner.ID)); !slices.Contains(got, "user.password_reset_sent") {
			t.Errorf("audit: %v", got)
		}
	})

	t.Run("CertificatesAreFoundByHolderNameOrEmail", func(t *testing.T) {
		for _, q := range []string{learner.Email, "LEARNER@EXAMPLE.ORG", "learner", "Learner Person"} {
			resp, page := admin.do("GET", "/admin/certificates?q="+url.QueryEscape(q), nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/admin/certificates/`+code+`"`) || !strings.Contains(page, "Learner Person") {
				t.Errorf("searching %q: %d, the certificate not listed", q, resp.StatusCode)
			}
		}
		if _, page := admin.do("GET", "/admin/certificates?q=nobody", nil); !strings.Contains(page, "Nobody matches “nobody”") {
			t.Error("a search that finds nobody does not say so")
		}
		if resp, _ := admin.do("GET", "/admin/certificates?q="+url.QueryEscape(strings.ToLower(code)), nil); resp.StatusCode != http.StatusSeeOther ||
			resp.Header.Get("Location") != "/admin/certificates/"+code {
			t.Errorf("a code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := admin.post("/admin/certificates/find", url.Values{"code": {"learner@example.org"}}); resp.StatusCode != http.StatusSeeOther ||
			!strings.Contains(resp.Header.Get("Location"), "q=learner%40example.org") {
			t.Errorf("the find form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
