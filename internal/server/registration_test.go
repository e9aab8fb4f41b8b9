package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

// Self-registration (issue 13, point 8): in verify mode (the default) a
// new learner enrols only after following the link emailed to them; in
// invite mode nobody registers; and the organisation a registrant names
// gets a request that its manager (or an admin) approves or declines,
// while the registrant belongs to none.

// newRegistrationWorld is a world on the sample course whose email goes
// through a real SMTP server, in the registration mode given ("" for the
// default).
func newRegistrationWorld(t *testing.T, mode string) (*world, *testenv.SMTPServer) {
	t.Helper()
	w := newWorld(t, sampleDir)
	smtp := testenv.StartSMTP(t)
	w.config = func(c *config.Config) {
		c.SMTPURL = smtp.URL
		if mode != "" {
			c.Registration = mode
		}
	}
	w.srv, w.svc = w.newInstance()
	return w, smtp
}

const newPassword = "a long enough new password"

// register creates an account over HTTP as a visitor would, asking to join
// org (auth.NoOrganisation for none), and returns the signed-in browser
// and the account.
func (w *world) register(name, email, org string) (*client, *auth.User) {
	w.t.Helper()
	c := w.client(w.srv, "")
	resp, body := c.post("/register", url.Values{"name": {name}, "email": {email}, "password": {newPassword}, "org": {org},
		"job_role": {string(auth.JobOther)}})
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("register %s: got %d, want 303: %.500s", email, resp.StatusCode, body)
	}
	if resp.Header.Get("Location") == "/login" { // verify mode: they sign in themselves
		if resp, _ := c.post("/login", url.Values{"email": {email}, "password": {newPassword}}); resp.StatusCode != http.StatusSeeOther {
			w.t.Fatalf("sign in after registering %s: %d", email, resp.StatusCode)
		}
	}
	u, err := w.svc.Auth.UserByEmail(context.Background(), email)
	if err != nil {
		w.t.Fatalf("register %s: no account: %v", email, err)
	}
	return c, u
}

var confirmLinkRE = regexp.MustCompile(`http://lms\.test(/account/confirm\?token=([0-9a-f]+\.[A-Za-z0-9_-]+))`)

// confirmLink returns the newest link to confirm an address delivered to
// email (its path, and its token), and how many have been delivered.
func (w *world) confirmLink(smtp *testenv.SMTPServer, email string) (link, token string, n int) {
	w.t.Helper()
	w.svc.Mail.Wait()
	var links [][]string
	for _, m := range smtp.To(email) {
		if l := confirmLinkRE.FindStringSubmatch(m.Text); l != nil {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		w.t.Fatalf("no link to confirm the address delivered to %s", email)
	}
	last := links[len(links)-1]
	return last[1], last[2], len(links)
}

// confirm follows a confirmation link as its recipient would: open it,
// press the button. It returns the answer to the button.
func (w *world) confirm(c *client, link, token string) *http.Response {
	w.t.Helper()
	resp, _ := c.postFrom(link, "/account/confirm", url.Values{"token": {token}})
	return resp
}

// enrols reports whether the browser's enrolment on the sample course
// takes: the answer leads to the first lesson and the enrolment exists.
func (w *world) enrols(c *client, userID string) bool {
	w.t.Helper()
	resp, _ := c.post("/courses/sample-course/enrol", nil)
	_, err := w.env.DB.Enrolment(context.Background(), learning.EnrolmentID(userID, "sample-course"))
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		w.t.Fatal(err)
	}
	return resp.StatusCode == http.StatusSeeOther && strings.Contains(resp.Header.Get("Location"), "/lessons/") && err == nil
}

func TestVerifyModeEnrolsOnlyAfterTheEmailedLink(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "") // verify is the default
	ctx := context.Background()
	const email = "vera.verify@example.org"
	c, u := w.register("Vera Verify", email, auth.NoOrganisation)
	link, token, _ := w.confirmLink(smtp, email)

	t.Run("SignedInWithABannerButCannotEnrol", func(t *testing.T) {
		_, page := c.do("GET", "/courses", nil)
		if !strings.Contains(page, `id="confirm-email"`) || !strings.Contains(page, email) || !strings.Contains(page, `action="/account/confirm/send"`) {
			t.Fatal("the catalogue does not say to confirm the address, where the link went and how to send it again")
		}
		if w.enrols(c, u.ID) {
			t.Fatal("enrolled before confirming the address")
		}
		if _, page := c.do("GET", "/courses/sample-course", nil); !strings.Contains(page, "Confirm your email address before you enrol") {
			t.Error("the course page does not say why enrolling did not happen")
		}
	})
	t.Run("TheLinkIsNotKeptReadable", func(t *testing.T) {
		msgs, _, err := w.env.DB.Messages(ctx, email, 0, 10)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("outbox: %d messages, %v", len(msgs), err)
		}
		_, secret, _ := strings.Cut(token, ".")
		for _, m := range msgs {
			if strings.Contains(m.Text+m.HTML, secret) {
				t.Fatal("the outbox holds the confirmation link in plain text")
			}
		}
		if got := w.userByID(u.ID).EmailConfirm; got == nil || strings.Contains(got.TokenHash, secret) {
			t.Fatalf("pending confirmation %+v: want one, holding a hash of the token only", got)
		}
	})
	t.Run("TheLinkConfirmsOnceThenEnrollingWorks", func(t *testing.T) {
		if resp, _ := w.client(w.srv, "").do("GET", link, nil); resp.StatusCode != http.StatusOK || w.userByID(u.ID).EmailConfirm == nil {
			t.Fatalf("opening the link: got %d, or it confirmed without the button", resp.StatusCode)
		}
		if resp := w.confirm(c, link, token); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirming: got %d, want 303", resp.StatusCode)
		}
		if !w.userByID(u.ID).EmailConfirmed() {
			t.Fatal("the address is not confirmed after following the link")
		}
		if _, page := c.do("GET", "/courses", nil); strings.Contains(page, `id="confirm-email"`) {
			t.Error("the banner is still shown")
		}
		if !w.enrols(c, u.ID) {
			t.Fatal("cannot enrol after confirming the address")
		}
		if resp, _ := w.client(w.srv, "").do("GET", link, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("opening the used link: got %d, want 404", resp.StatusCode)
		}
		if resp := w.confirm(w.client(w.srv, ""), "/login", token); resp.StatusCode != http.StatusNotFound {
			t.Errorf("using the link again: got %d, want 404", resp.StatusCode)
		}
	})
	t.Run("TheLinkExpires", func(t *testing.T) {
		const email = "late.larry@example.org"
		_, u := w.register("Late Larry", email, auth.NoOrganisation)
		link, token, _ := w.confirmLink(smtp, email)
		w.advance(auth.EmailConfirmLifetime + time.Minute)
		if resp, _ := w.client(w.srv, "").do("GET", link, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("opening an expired link: got %d, want 404", resp.StatusCode)
		}
		c := w.client(w.srv, w.sessionFor(u.ID)) // signed in again: a day has passed
		if resp := w.confirm(c, "/courses", token); resp.StatusCode != http.StatusNotFound || w.userByID(u.ID).EmailConfirmed() {
			t.Fatalf("using an expired link: got %d, want 404 and the address still unconfirmed", resp.StatusCode)
		}
		if w.enrols(c, u.ID) {
			t.Fatal("enrolled with an expired link")
		}
	})
	t.Run("SendingAgainReplacesTheLinkAndIsLimited", func(t *testing.T) {
		const email = "again.agnes@example.org"
		c, u := w.register("Again Agnes", email, auth.NoOrganisation)
		first, firstToken, n := w.confirmLink(smtp, email)
		for n < auth.ConfirmAccountLimit {
			if resp, _ := c.post("/account/confirm/send", nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sending again: got %d, want 303", resp.StatusCode)
			}
			_, _, got := w.confirmLink(smtp, email)
			if got != n+1 {
				t.Fatalf("after asking again: %d links delivered, want %d", got, n+1)
			}
			n = got
		}
		resp, _ := c.post("/account/confirm/send", nil)
		_, page := c.do("GET", resp.Header.Get("Location"), nil)
		if _, _, got := w.confirmLink(smtp, email); got != auth.ConfirmAccountLimit || !strings.Contains(page, "several links") {
			t.Fatalf("asking past the limit: %d links delivered (want %d), and the page should say why none was sent", got, auth.ConfirmAccountLimit)
		}
		if resp, _ := w.client(w.srv, "").do("GET", first, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the first link after newer ones were sent: got %d, want 404", resp.StatusCode)
		}
		if resp := w.confirm(c, "/courses", firstToken); resp.StatusCode != http.StatusNotFound {
			t.Errorf("confirming with a replaced link: got %d, want 404", resp.StatusCode)
		}
		link, token, _ := w.confirmLink(smtp, email)
		if resp := w.confirm(c, link, token); resp.StatusCode != http.StatusSeeOther || !w.userByID(u.ID).EmailConfirmed() {
			t.Fatalf("the newest link: got %d, want 303 and the address confirmed", resp.StatusCode)
		}
	})
	t.Run("StaffCreatedAccountsHaveNothingToConfirm", func(t *testing.T) {
		id := w.createAdvocate("Ada Invited", "ada.invited@example.org")
		c := w.client(w.srv, w.sessionFor(id))
		if !w.enrols(c, id) {
			t.Fatal("an advocate a manager created cannot enrol")
		}
		if _, page := c.do("GET", "/courses", nil); strings.Contains(page, `id="confirm-email"`) {
			t.Error("a staff-created account is asked to confirm its address")
		}
	})
}

// userByID reads an account as stored now.
func (w *world) userByID(id string) *auth.User {
	w.t.Helper()
	u, err := w.env.DB.User(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func TestInviteModeRefusesRegistration(t *testing.T) {
	w, _ := newRegistrationWorld(t, "invite")
	c := w.client(w.srv, "")
	resp, page := c.do("GET", "/register", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Accounts are created by the organisation") || strings.Contains(page, `action="/register"`) {
		t.Fatalf("register page in invite mode: got %d; want 200 saying accounts are created by the organisation, with no form", resp.StatusCode)
	}
	if _, page := c.do("GET", "/courses", nil); strings.Contains(page, `href="/register"`) {
		t.Error("the navigation offers to create an account")
	}
	resp, page = c.post("/register", url.Values{"name": {"Uninvited Una"}, "email": {"una@example.org"}, "password": {newPassword},
		"org": {auth.NoOrganisation}, "job_role": {string(auth.JobOther)}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Accounts are created by the organisation") {
		t.Fatalf("POST /register in invite mode: got %d, want 403 saying why", resp.StatusCode)
	}
	if _, err := w.svc.Auth.UserByEmail(context.Background(), "una@example.org"); !errs.Is(err, errs.ENOTFOUND) {
		t.Fatalf("an account was made: %v", err)
	}
	// Staff still create accounts, which need nothing confirmed.
	id := w.createAdvocate("Ida Invited", "ida@example.org")
	if !w.enrols(w.client(w.srv, w.sessionFor(id)), id) {
		t.Fatal("a staff-created account cannot enrol in invite mode")
	}
}

func TestJoiningAnOrganisationWaitsForItsManager(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	orgA := w.orgA
	manager := w.client(w.srv, w.session("manager"))     // Org A's
	other := w.client(w.srv, w.session("other-manager")) // Org B's
	admin := w.client(w.srv, w.session("admin"))

	// Jo asks to join Org A, confirms the address and passes the course.
	const joEmail = "jo.joiner@example.org"
	jo, u := w.register("Jo Joiner", joEmail, orgA.ID)
	link, token, _ := w.confirmLink(smtp, joEmail)
	if resp := w.confirm(jo, link, token); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming: %d", resp.StatusCode)
	}
	if !w.enrols(jo, u.ID) {
		t.Fatal("cannot enrol")
	}
	for _, l := range []string{"01-first-steps", "02-second-steps", "03-last-steps"} {
		if resp, _ := jo.post("/courses/sample-course/lessons/"+l+"/complete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("complete %s: %d", l, resp.StatusCode)
		}
	}
	n, ids := w.paper(jo)
	if resp, _ := jo.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	e, err := w.env.DB.Enrolment(ctx, learning.EnrolmentID(u.ID, "sample-course"))
	if err != nil || len(e.CertificateCodes) != 1 {
		t.Fatalf("no certificate after passing: %v", err)
	}
	certURL := "/certificates/" + e.CertificateCodes[0] + "/download"

	inOrgA := func() bool {
		t.Helper()
		users, _, err := w.svc.Auth.ListUsers(ctx, auth.UserQuery{OrgID: orgA.ID, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(users, func(x auth.User) bool { return x.ID == u.ID })
	}

	t.Run("InNoOrganisationAndUnseenUntilApproved", func(t *testing.T) {
		got := w.userByID(u.ID)
		if got.OrgID != "" || got.JoinRequest == nil || got.JoinRequest.OrgID != orgA.ID {
			t.Fatalf("after registering: organisation %q, request %+v; want none, and a request to join Org A", got.OrgID, got.JoinRequest)
		}
		if inOrgA() {
			t.Fatal("Org A's list of people has the registrant")
		}
		if _, page := admin.do("GET", "/admin/users?org="+orgA.ID, nil); strings.Contains(page, joEmail) {
			t.Error("the admin's list of Org A's people shows the registrant")
		}
		if resp, _ := manager.do("GET", certURL, nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("Org A's manager downloading the registrant's certificate: got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("TheRequestIsShownToThatOrganisationsManagersAndAdmins", func(t *testing.T) {
		if _, page := manager.do("GET", "/manage/join-requests", nil); !strings.Contains(page, "Jo Joiner") || !strings.Contains(page, "/manage/join-requests/"+u.ID+"/approve") {
			t.Fatal("Org A's manager does not see the request")
		}
		if _, page := manager.do("GET", "/manage", nil); !strings.Contains(page, "Requests to join (1)") {
			t.Error("Org A's dashboard does not count the request")
		}
		if _, page := other.do("GET", "/manage/join-requests", nil); strings.Contains(page, "Jo Joiner") {
			t.Fatal("Org B's manager sees Org A's request")
		}
		if _, page := admin.do("GET", "/manage/join-requests", nil); !strings.Contains(page, "Jo Joiner") || !strings.Contains(page, "Org A") {
			t.Error("the admin does not see the request and its organisation")
		}
	})
	t.Run("AnotherOrganisationsManagerCannotDecide", func(t *testing.T) {
		for _, action := range []string{"approve", "decline"} {
			if resp, _ := other.post("/manage/join-requests/"+u.ID+"/"+action, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("Org B's manager: %s got %d, want 403", action, resp.StatusCode)
			}
		}
		if got := w.userByID(u.ID); got.OrgID != "" || got.JoinRequest == nil {
			t.Fatalf("after Org B's manager tried: organisation %q, request %+v", got.OrgID, got.JoinRequest)
		}
	})
	t.Run("ApprovingSetsTheOrganisationAndTellsThem", func(t *testing.T) {
		if resp, _ := manager.post("/manage/join-requests/"+u.ID+"/approve", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approving: got %d, want 303", resp.StatusCode)
		}
		if got := w.userByID(u.ID); got.OrgID != orgA.ID || got.JoinRequest != nil {
			t.Fatalf("after approval: organisation %q, request %+v; want Org A and none", got.OrgID, got.JoinRequest)
		}
		if !inOrgA() {
			t.Error("Org A's list of people does not have them")
		}
		if resp, _ := manager.do("GET", certURL, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("Org A's manager downloading their certificate: got %d, want 200", resp.StatusCode)
		}
		if _, page := jo.do("GET", "/notifications", nil); !strings.Contains(page, "You have joined Org A") {
			t.Error("no notification of the approval")
		}
		w.svc.Mail.Wait()
		if !slices.ContainsFunc(smtp.To(joEmail), func(m testenv.Mail) bool { return m.Subject == "You have joined Org A" }) {
			t.Error("no email about the approval")
		}
		evs, _, err := w.svc.Audit.Events(ctx, audit.Query{Action: "user.join_approve", Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].ActorID != w.users["manager"].ID || evs[0].Target != "user:"+u.ID || evs[0].OrgID != orgA.ID {
			t.Fatalf("audit of the approval: %+v, %v", evs, err)
		}
		if resp, _ := manager.post("/manage/join-requests/"+u.ID+"/approve", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("approving again: got %d, want 404", resp.StatusCode)
		}
		if _, page := manager.do("GET", "/manage/join-requests", nil); strings.Contains(page, "Jo Joiner") {
			t.Error("the decided request is still listed")
		}
	})
	t.Run("DecliningTellsThemAndLeavesThemInNone", func(t *testing.T) {
		const email = "kim.keen@example.org"
		kim, k := w.register("Kim Keen", email, orgA.ID)
		// Not approved while the address is unconfirmed.
		resp, _ := manager.post("/manage/join-requests/"+k.ID+"/approve", nil)
		if _, page := manager.do("GET", resp.Header.Get("Location"), nil); !strings.Contains(page, "has not confirmed their email address") || w.userByID(k.ID).OrgID != "" {
			t.Fatal("a request was approved before the address was confirmed")
		}
		if resp, _ := manager.post("/manage/join-requests/"+k.ID+"/decline", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("declining: got %d, want 303", resp.StatusCode)
		}
		if got := w.userByID(k.ID); got.OrgID != "" || got.JoinRequest != nil {
			t.Fatalf("after declining: organisation %q, request %+v; want none and none", got.OrgID, got.JoinRequest)
		}
		if _, page := kim.do("GET", "/notifications", nil); !strings.Contains(page, "Your request to join Org A was declined") {
			t.Error("no notification of the decline")
		}
		w.svc.Mail.Wait()
		if !slices.ContainsFunc(smtp.To(email), func(m testenv.Mail) bool { return strings.Contains(m.Subject, "declined") }) {
			t.Error("no email about the decline")
		}
		if evs, _, err := w.svc.Audit.Events(ctx, audit.Query{Action: "user.join_decline", Limit: 10}); err != nil || len(evs) != 1 || evs[0].Target != "user:"+k.ID {
			t.Fatalf("audit of the decline: %+v, %v", evs, err)
		}
		if _, page := manager.do("GET", "/manage", nil); !strings.Contains(page, "Requests to join (0)") {
			t.Error("the dashboard still counts a request")
		}
	})
	t.Run("ErasingTheAccountEndsItsRequest", func(t *testing.T) {
		const email = "eve.erased@example.org"
		_, ev := w.register("Eve Erased", email, orgA.ID)
		if resp, _ := admin.post("/admin/users/"+ev.ID+"/erase", url.Values{"confirm_email": {email}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("erasing: got %d, want 303", resp.StatusCode)
		}
		if got := w.userByID(ev.ID); got.JoinRequest != nil {
			t.Fatalf("an erased account still has its request: %+v", got.JoinRequest)
		}
		if _, page := manager.do("GET", "/manage", nil); !strings.Contains(page, "Requests to join (0)") {
			t.Error("the dashboard counts an erased person's request")
		}
	})
}

// TestRegisteringAnAddressThatHasAnAccountAnswersTheSame: in verify mode
// (the default) registering an address that has an account gives the same
// answer as a new one — the same redirect, no session, the same message —
// and changes nothing about that account; its owner is emailed instead,
// at most RegisteredLimit times an hour however often it is tried.
func TestRegisteringAnAddressThatHasAnAccountAnswersTheSame(t *testing.T) {
	w, smtp := newRegistrationWorld(t, "")
	ctx := context.Background()
	existing := w.users["learner"]
	answer := func(email string) (int, string, string, string) {
		t.Helper()
		c := w.client(w.srv, "")
		resp, _ := c.post("/register", url.Values{"name": {"Pat Probe"}, "email": {email}, "password": {newPassword}, "org": {auth.NoOrganisation},
			"job_role": {string(auth.JobOther)}})
		session := c.cookies["lms_session"]
		_, page := c.do("GET", resp.Header.Get("Location"), nil)
		notice := regexp.MustCompile(`(?s)<div class="notice[^"]*"[^>]*role="status"[^>]*>(.*?)</div>`).FindStringSubmatch(page)
		if notice == nil {
			t.Fatalf("no message after registering %s: %.3000s", email, page)
		}
		return resp.StatusCode, resp.Header.Get("Location"), session, strings.ReplaceAll(notice[1], email, "<email>")
	}
	ns, nl, nsess, nmsg := answer("brand.new@example.org")
	es, el, esess, emsg := answer(existing.Email)
	if ns != es || nl != el || nmsg != emsg || nsess != "" || esess != "" {
		t.Fatalf("the answers differ:\nnew: %d %s session %q %q\nexisting: %d %s session %q %q", ns, nl, nsess, nmsg, es, el, esess, emsg)
	}
	if ns != http.StatusSeeOther || nl != "/login" || !strings.Contains(nmsg, "We have sent an email to <email>") {
		t.Fatalf("the answer: %d %s %q", ns, nl, nmsg)
	}
	after, err := w.svc.Auth.User(ctx, existing.ID)
	if err != nil || after.Name != existing.Name || after.PasswordHash != existing.PasswordHash {
		t.Fatalf("the existing account changed: %+v, %v", after, err)
	}
	for range 5 {
		answer(existing.Email)
	}
	w.svc.Mail.Wait()
	told := 0
	for _, m := range smtp.To(existing.Email) {
		if m.Subject == "You already have an account" {
			told++
		}
	}
	if told != auth.RegisteredLimit {
		t.Fatalf("the owner was told %d times in six tries, want %d", told, auth.RegisteredLimit)
	}
	if n := len(smtp.To("brand.new@example.org")); n != 1 {
		t.Fatalf("the new address got %d emails, want its confirmation link", n)
	}
}
