package auth_test

import (
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

func TestUnlistedKeyGroupsOneOrganisationsNames(t *testing.T) {
	same := []string{"St. Mary's Women’s Aid", "st marys womens aid", "ST MARYS WOMENS AID.", "  St Mary's   Womens Aid ", "Şt Mary's Women's Aïd"}
	for _, n := range same {
		if got := auth.UnlistedKey(n); got != "st marys womens aid" {
			t.Errorf("UnlistedKey(%q) = %q", n, got)
		}
	}
	if a, b := auth.UnlistedKey("Leeds-Bradford Refuge"), auth.UnlistedKey("Leeds Bradford Refuge"); a != b {
		t.Errorf("hyphen: %q and %q", a, b)
	}
	if got := auth.UnlistedKey("!!! ..."); got != "" {
		t.Errorf("punctuation only: got %q", got)
	}
}

// TestRegistrationSaysWhereThePersonWorks is the table of choices: an
// organisation from the list, none, or a name typed; both, or neither, is
// a problem at the field to change.
func TestRegistrationSaysWhereThePersonWorks(t *testing.T) {
	exists := func(id string) bool { return id == "org1" }
	for _, tc := range []struct {
		org, name         string
		field             string // "" when accepted
		wantOrg, wantName string
	}{
		{"org1", "", "", "org1", ""},
		{auth.NoOrganisation, "", "", auth.NoOrganisation, ""},
		{auth.UnlistedOrganisation, "  Leeds  Refuge ", "", auth.NoOrganisation, "Leeds Refuge"},
		{"", "Leeds Refuge", "", auth.NoOrganisation, "Leeds Refuge"},
		{"", "", "org", "", ""},
		{auth.UnlistedOrganisation, " ", "org_name", "", ""},
		{"org1", "Leeds Refuge", "org_name", "", ""},
		{auth.NoOrganisation, "Leeds Refuge", "org_name", "", ""},
		{"org2", "", "org", "", ""},
		{auth.UnlistedOrganisation, "L", "org_name", "", ""},
		{auth.UnlistedOrganisation, strings.Repeat("a", 121), "org_name", "", ""},
		{auth.UnlistedOrganisation, "www.spam.example", "org_name", "", ""},
		{auth.UnlistedOrganisation, "Leeds\u202eRefuge", "org_name", "", ""},
		{auth.UnlistedOrganisation, "--", "org_name", "", ""},
	} {
		r := auth.Registration{Name: "Sam Jones", Email: "sam@example.org", Password: "correct horse battery staple", JobRole: auth.JobOther, OrgID: tc.org, OrgName: tc.name}
		err := r.Validate(exists)
		fe := errs.Fields(err)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("org %q name %q: got %v, want accepted", tc.org, tc.name, err)
		case tc.field == "" && (r.OrgID != tc.wantOrg || r.OrgName != tc.wantName):
			t.Errorf("org %q name %q: got org %q name %q, want %q %q", tc.org, tc.name, r.OrgID, r.OrgName, tc.wantOrg, tc.wantName)
		case tc.field != "" && (len(fe) != 1 || fe[tc.field] == ""):
			t.Errorf("org %q name %q: got problems %v, want one at %s", tc.org, tc.name, fe, tc.field)
		}
	}
}
