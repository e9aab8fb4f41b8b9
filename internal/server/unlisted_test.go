package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Registration that fits external workers (issue 17, point 8): "My
// organisation is not listed" with the name typed, kept on the account,
// shown to admins with how many accounts gave it, and merged into a
// partner organisation as requests to join it.

// registerForm is a complete registration but for where the person works.
func registerForm(name, email, org, orgName string) url.Values {
	return url.Values{"name": {name}, "email": {email}, "password": {newPassword}, "org": {org}, "org_name": {orgName},
		"job_role": {string(auth.JobDomesticAbuse)}}
}

// registerUnlisted registers an account that typed orgName and returns it.
func (w *world) registerUnlisted(name, email, orgName string) *auth.User {
	w.t.Helper()
	resp, body := w.client(w.srv, "").post("/register", registerForm(name, email, auth.UnlistedOrganisation, orgName))
	if resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("register %s: got %d, want 303: %.400s", email, resp.StatusCode, body)
	}
	u, err := w.svc.Auth.UserByEmail(context.Background(), email)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func TestRegisterWithAnUnlistedOrganisation(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()

	t.Run("TheTypedNameIsKeptOnTheAccount", func(t *testing.T) {
		c := w.client(w.srv, "")
		resp, _ := c.post("/register", registerForm("Dee Worker", "dee@example.org", auth.UnlistedOrganisation, "  Leeds   Women's Aid "))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: got %d, want 303", resp.StatusCode)
		}
		u, err := w.svc.Auth.UserByEmail(ctx, "dee@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if u.UnlistedOrg != "Leeds Women's Aid" || u.OrgID != "" || u.JoinRequest != nil || u.JobRole != auth.JobDomesticAbuse {
			t.Fatalf("account: unlisted %q, org %q, request %+v, job %q; want the name trimmed, no organisation, no request", u.UnlistedOrg, u.OrgID, u.JoinRequest, u.JobRole)
		}
		if _, page := c.do("GET", "/", nil); !strings.Contains(page, "You told us you work for “Leeds Women&#39;s Aid”") {
			t.Error("the welcome does not say what happens with the organisation typed")
		}
	})
	t.Run("ANameWithNoChoiceIsUnlisted", func(t *testing.T) {
		resp, _ := w.client(w.srv, "").post("/register", registerForm("Ed Worker", "ed@example.org", "", "Bradford Refuge"))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: got %d, want 303", resp.StatusCode)
		}
		if u, _ := w.svc.Auth.UserByEmail(ctx, "ed@example.org"); u == nil || u.UnlistedOrg != "Bradford Refuge" {
			t.Fatalf("account: %+v", u)
		}
	})
	t.Run("ANameOfAListedOrganisationChoosesIt", func(t *testing.T) {
		resp, _ := w.client(w.srv, "").post("/register", registerForm("Flo Worker", "flo@example.org", auth.UnlistedOrganisation, "ORG  b."))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: got %d, want 303", resp.StatusCode)
		}
		u, _ := w.svc.Auth.UserByEmail(ctx, "flo@example.org")
		if u == nil || u.UnlistedOrg != "" || u.JoinRequest == nil || u.JoinRequest.OrgID != w.orgB.ID {
			t.Fatalf("account: %+v; want a request to join Org B", u)
		}
	})

	// Problems come back with what was typed, the message at the field.
	for _, tc := range []struct {
		name, org, orgName, field, message string
	}{
		{"BothAListedOneAndAName", "orgB", "Someone Else's Agency", "org_name", "You chose an organisation from the list and typed a name as well"},
		{"NotListedWithoutAName", auth.UnlistedOrganisation, "  ", "org_name", "Type the name of the organisation you work for"},
		{"Neither", "", "", "org", "Select your organisation, or choose “My organisation is not listed” and type its name"},
		{"NoOrganisationAndAName", auth.NoOrganisation, "Someone Else's Agency", "org_name", "You chose “I do not work for an organisation” and typed an organisation&#39;s name"},
		{"AWebAddress", auth.UnlistedOrganisation, "https://spam.example", "org_name", "not its web address"},
		{"OneLetter", auth.UnlistedOrganisation, "x", "org_name", "Type the full name of your organisation"},
		{"TooLong", auth.UnlistedOrganisation, strings.Repeat("Agency ", 20), "org_name", "120 characters or fewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := tc.org
			if org == "orgB" {
				org = w.orgB.ID
			}
			email := strings.ToLower(tc.name) + "@example.org"
			resp, page := w.client(w.srv, "").post("/register", registerForm("Gil Typed", email, org, tc.orgName))
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(page, `href="#f-`+tc.field+`"`) || !strings.Contains(page, `id="f-`+tc.field+`-error"`) || !strings.Contains(page, tc.message) {
				t.Errorf("no message %q at the %s field, linked from the summary", tc.message, tc.field)
			}
			for _, kept := range []string{`value="Gil Typed"`, `value="` + email + `"`, `value="domestic-abuse-worker" checked`} {
				if !strings.Contains(page, kept) {
					t.Errorf("what was typed is lost: no %s", kept)
				}
			}
			if org != "" && !strings.Contains(page, `value="`+org+`" selected`) {
				t.Errorf("the organisation chosen (%s) is not selected", org)
			}
			if v := strings.TrimSpace(tc.orgName); v != "" && !strings.Contains(page, `id="f-org_name" name="org_name" type="text" value="`+strings.ReplaceAll(tc.orgName, "'", "&#39;")+`"`) {
				t.Errorf("the name typed (%q) is not in its box", tc.orgName)
			}
			if _, err := w.svc.Auth.UserByEmail(ctx, email); !errs.Is(err, errs.ENOTFOUND) {
				t.Errorf("an account was made: %v", err)
			}
		})
	}
}

func TestUnlistedOrganisationsAreMergedIntoAPartner(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	admin := w.client(w.srv, w.session("admin"))
	leeds := []*auth.User{
		w.registerUnlisted("Ann Leeds", "ann@example.org", "Leeds Women's Aid"),
		w.registerUnlisted("Bea Leeds", "bea@example.org", "leeds womens aid"),
		w.registerUnlisted("Cy Leeds", "cy@example.org", "LEEDS WOMEN’S AID."),
	}
	bradford := w.registerUnlisted("Di Bradford", "di@example.org", "Bradford Refuge")
	const leedsKey = "leeds womens aid"

	t.Run("OnlyAdminsSeeThePage", func(t *testing.T) {
		for persona, want := range map[string]int{"learner": 403, "manager": 403, "other-manager": 403, "admin": 200} {
			if resp, _ := w.client(w.srv, w.session(persona)).do("GET", "/admin/organisations/unlisted", nil); resp.StatusCode != want {
				t.Errorf("%s: got %d, want %d", persona, resp.StatusCode, want)
			}
		}
		if resp, _ := w.client(w.srv, "").do("GET", "/admin/organisations/unlisted", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous: got %d, want a redirect to sign in", resp.StatusCode)
		}
		m := w.client(w.srv, w.session("other-manager"))
		if resp, _ := m.post("/admin/organisations/unlisted/merge", url.Values{"name": {leedsKey}, "org": {w.orgB.ID}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("Org B's manager merging: got %d, want 403", resp.StatusCode)
		}
	})
	t.Run("EachNameWithHowManyAccountsGaveIt", func(t *testing.T) {
		_, page := admin.do("GET", "/admin/organisations/unlisted", nil)
		for _, want := range []string{"2 names", "Bradford Refuge", ">1 account<", ">3 accounts<", `href="/admin/organisations/unlisted?name=leeds%20womens%20aid"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		_, page = admin.do("GET", "/admin/organisations/unlisted?name="+url.QueryEscape(leedsKey), nil)
		for _, u := range leeds {
			if !strings.Contains(page, u.Email) || !strings.Contains(page, `href="/admin/users/`+u.ID+`"`) {
				t.Errorf("one name's page does not list %s", u.Email)
			}
		}
		if strings.Contains(page, bradford.Email) {
			t.Error("one name's page lists an account that gave another")
		}
	})
	t.Run("MergingNeedsAPartnerOrganisation", func(t *testing.T) {
		for _, org := range []string{"", w.orgA.ID, "no-such-org"} { // Org A is the service itself
			resp, page := admin.post("/admin/organisations/unlisted/merge", url.Values{"name": {leedsKey}, "org": {org}, "offset": {"0"}})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "There is a problem") || !strings.Contains(page, `href="#f-merge-sent-org"`) {
				t.Errorf("merge into %q: got %d, want 422 with the problem at the field", org, resp.StatusCode)
			}
		}
		if u := w.userByID(leeds[0].ID); u.UnlistedOrg == "" || u.JoinRequest != nil {
			t.Fatal("a refused merge changed an account")
		}
	})
	t.Run("AnInterruptedMergeIsContinued", func(t *testing.T) {
		// A merge that stopped after its first account: recorded, one moved.
		if err := w.env.DB.SetUnlistedMerge(ctx, leedsKey, &auth.UnlistedMerge{OrgID: w.orgB.ID, By: w.users["admin"].ID, Started: w.clock()}); err != nil {
			t.Fatal(err)
		}
		r := &auth.JoinRequest{OrgID: w.orgB.ID, Requested: w.clock()}
		if ok, err := w.env.DB.MoveUnlisted(ctx, leeds[0].ID, leeds[0].UnlistedOrg, r, w.clock()); err != nil || !ok {
			t.Fatalf("move: %v %v", ok, err)
		}
		_, page := admin.do("GET", "/admin/organisations/unlisted", nil)
		if !strings.Contains(page, "merging into Org B") || !strings.Contains(page, "Continue the merge") || !strings.Contains(page, ">2 accounts<") {
			t.Fatal("the page does not show the merge under way with the 2 accounts left")
		}
		// Another organisation is refused while it is under way.
		partner, err := w.svc.Auth.CreateOrg(ctx, "Org C", auth.OrgPartner)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := admin.post("/admin/organisations/unlisted/merge", url.Values{"name": {leedsKey}, "org": {partner.ID}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("merge into another: %d", resp.StatusCode)
		}
		if _, page := admin.do("GET", "/admin/organisations", nil); !strings.Contains(page, "is being merged into another organisation") {
			t.Error("merging into another organisation while one is under way is not refused with a reason")
		}
		if u := w.userByID(leeds[1].ID); u.JoinRequest != nil {
			t.Fatal("the refused merge moved an account")
		}
		resp, _ = admin.post("/admin/organisations/unlisted/merge", url.Values{"name": {leedsKey}, "org": {w.orgB.ID}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("continue: %d", resp.StatusCode)
		}
		if _, page := admin.do("GET", "/admin/organisations/unlisted", nil); !strings.Contains(page, "2 accounts that gave “Leeds Women&#39;s Aid” now ask to join Org B") {
			t.Error("the page does not say what the merge did")
		}
	})
	t.Run("TheAccountsAskToJoinThePartner", func(t *testing.T) {
		for _, u := range leeds {
			got := w.userByID(u.ID)
			if got.UnlistedOrg != "" || got.OrgID != "" || got.JoinRequest == nil || got.JoinRequest.OrgID != w.orgB.ID {
				t.Errorf("%s: unlisted %q, org %q, request %+v; want a request to join Org B and no typed name", u.Email, got.UnlistedOrg, got.OrgID, got.JoinRequest)
			}
		}
		if n, err := w.svc.Auth.CountJoinRequests(ctx, w.users["other-manager"]); err != nil || n != 3 {
			t.Errorf("Org B's requests: got %d (%v), want 3", n, err)
		}
		_, page := w.client(w.srv, w.session("other-manager")).do("GET", "/manage/join-requests", nil)
		for _, u := range leeds {
			if !strings.Contains(page, u.Email) {
				t.Errorf("Org B's manager does not see the request of %s", u.Email)
			}
		}
		if _, page := w.client(w.srv, w.session("manager")).do("GET", "/manage/join-requests", nil); strings.Contains(page, leeds[1].Email) {
			t.Error("Org A's manager sees a request to join Org B")
		}
		_, page = admin.do("GET", "/admin/organisations/unlisted", nil)
		if strings.Contains(page, "Leeds Women") || !strings.Contains(page, "Bradford Refuge") || !strings.Contains(page, "1 name") || strings.Contains(page, "merging into") {
			t.Error("after the merge the page still shows the name, or lost the other")
		}
		if got := w.userByID(bradford.ID); got.UnlistedOrg != "Bradford Refuge" || got.JoinRequest != nil {
			t.Error("the merge changed an account that gave another name")
		}
		if resp, _ := admin.do("GET", "/admin/organisations/unlisted?name="+url.QueryEscape(leedsKey), nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("a merged name's page: got %d, want a redirect to the list", resp.StatusCode)
		}
	})
	t.Run("TheMergeIsAudited", func(t *testing.T) {
		if resp, _ := admin.post("/admin/organisations/unlisted/merge", url.Values{"name": {"bradford refuge"}, "org": {w.orgB.ID}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("merge: %d", resp.StatusCode)
		}
		_, page := admin.do("GET", "/admin/audit?target=org:"+w.orgB.ID, nil)
		if !strings.Contains(page, "Bradford Refuge") || !strings.Contains(page, "1 event") {
			t.Errorf("the audit log has no record of the merge: %s", page[strings.Index(page, "<main"):])
		}
		if got := w.userByID(bradford.ID); got.JoinRequest == nil || got.JoinRequest.OrgID != w.orgB.ID {
			t.Error("the second merge did not move its account")
		}
	})
}
