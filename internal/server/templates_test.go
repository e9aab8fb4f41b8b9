package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/notify"
)

var (
	now        = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	sampleUser = &auth.User{ID: "u1", Name: "Zoë Łukasiewicz-Ørsted", Email: "zoe@example.org", OrgID: "o1", Roles: []auth.Role{auth.RoleLearner, auth.RoleAdmin}, Created: now, TOTPEnabled: true}
)

// withErrors returns a form with a problem on each named field.
func withErrors(fields ...string) *formState {
	f := emptyForm(map[string]string{"name": "Typed <value>"})
	f.Order = fields
	for _, name := range fields {
		f.Errors[name] = "Problem with " + name
	}
	return f
}

// samplePages returns one sample page struct per page template. A template
// without a sample fails the test, so every page is rendered in CI.
func samplePages() map[string]page {
	return map[string]page{
		"home":         &homePage{},
		"content_page": &contentPage{Body: "<p>x</p>"},
		"error":        &errorPage{Status: 404, Heading: "Page not found", Message: "m"},
		"register": &registerPage{formPage: formPage{Form: withErrors("name", "email", "password", "org", "job_role")},
			Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, JobRoles: auth.JobRoles},
		"login":     &formPage{Form: withErrors("email", "_form"), Next: "/account"},
		"login_2fa": &formPage{Form: withErrors("code")},
		"forgot":    &formPage{Form: withErrors("email")},
		"reset":     &resetPage{formPage: formPage{Form: withErrors("password")}, Token: "t"},
		"account": &accountPage{Account: sampleUser, OrgName: "Org", Profile: withErrors("name"), Password: withErrors("new_password"),
			Sessions: []auth.Session{{ID: "s1", UserAgent: "Firefox", Created: now, LastSeen: now}, {ID: "s2"}}, CurrentID: "s1"},
		"account_2fa":   &twoFactorPage{Setup: &auth.TOTPSetup{Secret: "ABC", QRPNG: "data:image/png;base64,AA"}, Form: withErrors("code"), Required: true},
		"admin_home":    &adminHomePage{Users: 3, Admins: 1},
		"admin_users":   &adminUsersPage{Query: "sam", Users: []auth.User{*sampleUser}, Orgs: map[string]string{"o1": "Org"}, Pager: pager{Page: 2, PerPage: 1, Total: 3, PrevURL: "/x?page=1", NextURL: "/x?page=3"}},
		"admin_user":    &adminUserPage{Account: sampleUser, Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, Roles: auth.AllRoles, Form: withErrors("roles", "org")},
		"admin_orgs":    &adminOrgsPage{Orgs: []auth.Organisation{{ID: "o1", Name: "Org", Kind: auth.OrgService}}, Form: withErrors("name", "kind")},
		"admin_outbox":  &outboxPage{Messages: []notify.Message{{ID: "m1", To: "a@b.org", Subject: "Hi", Created: now}}, Pager: pager{Page: 1, PerPage: 25, Total: 1}},
		"admin_message": &messagePage{Message: &notify.Message{ID: "m1", To: "a@b.org", Subject: "Hi", Text: "Body", Created: now}},
	}
}

func TestEveryTemplateRendersWithASamplePage(t *testing.T) {
	s := newBareServer(t)
	samples := samplePages()
	for name, tmpl := range s.tmpl.pages {
		p, ok := samples[name]
		if !ok {
			t.Errorf("template %q has no sample page in samplePages", name)
			continue
		}
		b := p.base()
		b.Title = "Sample"
		b.User = &viewer{ID: "u1", Name: "Sample Person", Roles: []string{"learner", "advocate", "manager", "admin"}}
		b.Nav = s.navFor(b.User, "/")
		b.FooterLinks = footerLinks
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Errorf("template %q: %v", name, err)
		}
	}
}
