package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
)

// TestAdminUsersSearchPagesRolesAndAccess: the admin's user list searches
// by name or email and pages through many accounts; an admin changes a
// user's roles and organisation, disables and enables the account.
func TestAdminUsersSearchPagesRolesAndAccess(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	hash := auth.HashPassword("correct horse battery staple")
	for i := 0; i < 30; i++ {
		if _, err := w.svc.Auth.CreateUser(ctx, fmt.Sprintf("bulk%02d@example.org", i), fmt.Sprintf("Bulk Person %02d", i), hash, w.orgA.ID, auth.JobOther,
			[]auth.Role{auth.RoleLearner}); err != nil {
			t.Fatal(err)
		}
	}
	admin := w.client(w.srv, w.session("admin"))

	_, page := admin.do("GET", "/admin/users?q=learner2", nil)
	if !strings.Contains(page, "Learner2 Person") || strings.Contains(page, "Manager Person") || !strings.Contains(page, "1 account matching") {
		t.Fatal("searching for learner2 does not find just that account")
	}
	_, page = admin.do("GET", "/admin/users", nil)
	if !strings.Contains(page, "36 accounts") || !strings.Contains(page, "Page 1 of 2") || !strings.Contains(page, `rel="next"`) {
		t.Fatal("the first page of 36 accounts does not say so or link to the next")
	}
	// Roles read as words, in the list and its filter.
	_, adminsPage := admin.do("GET", "/admin/users?role=admin", nil)
	if !strings.Contains(adminsPage, `<td data-label="Roles">Learner, Administrator</td>`) || !strings.Contains(adminsPage, `<option value="admin" selected>Administrator</option>`) {
		t.Error("the admins' roles are not written as words")
	}
	_, page2 := admin.do("GET", "/admin/users?page=2", nil)
	accountLink := regexp.MustCompile(`href="/admin/users/[0-9a-f]{32}"`)
	if n := len(accountLink.FindAllString(page2, -1)); !strings.Contains(page2, "Page 2 of 2") || n != 11 {
		t.Fatalf("page 2 lists %d accounts, want 11", n)
	}
	if !strings.Contains(page2, `href="/admin/users/new"`) || !strings.Contains(page2, `href="/admin/users/upload"`) {
		t.Error("the list of users does not link to adding a person and to uploading a file of people")
	}

	id := w.users["learner"].ID
	if resp, _ := admin.post("/admin/users/"+id, url.Values{"roles": {"learner", "advocate"}, "org": {w.orgB.ID}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change roles: %d", resp.StatusCode)
	}
	u, _ := w.env.DB.User(ctx, id)
	if !u.HasRole(auth.RoleAdvocate) || u.OrgID != w.orgB.ID {
		t.Fatalf("after the change: roles %v, organisation %s", u.Roles, u.OrgID)
	}
	if resp, page := admin.post("/admin/users/"+id, url.Values{"org": {w.orgB.ID}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "There is a problem") {
		t.Fatalf("no role at all: %d", resp.StatusCode)
	}
	learner := w.client(w.srv, w.session("learner"))
	admin.post("/admin/users/"+id+"/disable", nil)
	if resp, _ := learner.do("GET", "/account", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a disabled account's session: %d, want signed out", resp.StatusCode)
	}
	admin.post("/admin/users/"+id+"/enable", nil)
	if u, _ := w.env.DB.User(ctx, id); u.Disabled {
		t.Fatal("enable did not enable the account")
	}
	if resp, _ := w.client(w.srv, w.session("learner")).do("GET", "/account", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after enabling: %d", resp.StatusCode)
	}
}
