package server

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// The account pages hold several forms asking for the current password
// and a code: each field has an id of its own, and each error is linked
// from the summary and to its field.
func TestReauthFormsLinkTheirErrors(t *testing.T) {
	s := newBareServer(t)
	renderPage := func(t *testing.T, name string, p page) string {
		t.Helper()
		b := p.base()
		b.Title = "Sample"
		b.User = &viewer{ID: "u1", Name: "Sample Person", Roles: []string{"learner"}}
		var buf bytes.Buffer
		if err := s.tmpl.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Fatalf("template %q: %v", name, err)
		}
		return buf.String()
	}
	idRE := regexp.MustCompile(`\sid="([^"]+)"`)
	for _, tc := range []struct {
		name, template string
		page           page
		ids            []string // fields with errors
	}{
		{"EmailForm", "account", &accountPage{Account: sampleUser, Profile: emptyForm(nil), Password: emptyForm(nil),
			Email: withID(withErrors("new_email", "current_password", "code"), "email")},
			[]string{"f-email-new_email", "f-email-current_password", "f-email-code"}},
		{"PasswordForm", "account", &accountPage{Account: sampleUser, Profile: emptyForm(nil), Email: withID(emptyForm(nil), "email"),
			Password: withErrors("current_password", "code", "new_password")},
			[]string{"f-current_password", "f-code", "f-new_password"}},
		{"RecoveryCodesForm", "account_2fa", (&twoFactorPage{Enabled: true, CodesForm: withErrors("current_password", "code")}).twoFactorForms(),
			[]string{"f-codes-current_password", "f-codes-code"}},
		{"DisableForm", "account_2fa", (&twoFactorPage{Enabled: true, DisableForm: withErrors("current_password", "code")}).twoFactorForms(),
			[]string{"f-disable-current_password", "f-disable-code"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html := renderPage(t, tc.template, tc.page)
			seen := map[string]bool{}
			for _, m := range idRE.FindAllStringSubmatch(html, -1) {
				if seen[m[1]] && m[1] != "error-summary-title" {
					t.Errorf("id %q appears twice", m[1])
				}
				seen[m[1]] = true
			}
			for _, id := range tc.ids {
				if !strings.Contains(html, `<a href="#`+id+`">`) {
					t.Errorf("the error summary does not link to #%s", id)
				}
				if !regexp.MustCompile(`<input id="` + id + `"[^>]* aria-describedby="[^"]*` + id + `-error"[^>]* aria-invalid="true"`).MatchString(html) {
					t.Errorf("field %s is not described by its error", id)
				}
				if !strings.Contains(html, `<label for="`+id+`">`) || !seen[id+"-error"] {
					t.Errorf("field %s lacks its label or error message", id)
				}
				if strings.HasSuffix(id, "current_password") && !regexp.MustCompile(`<input id="`+id+`"[^>]* type="password"[^>]* autocomplete="current-password"`).MatchString(html) {
					t.Errorf("field %s is not a current-password field", id)
				}
			}
		})
	}
}
