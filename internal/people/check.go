package people

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/auth"
)

// Outcome is what happens, or happened, to one row of a file.
type Outcome string

// The outcomes of a row.
const (
	WillCreate    Outcome = "create"         // dry run: an account will be made
	Exists        Outcome = "exists"         // the address has an account already: left as it is
	Invalid       Outcome = "error"          // not added: Problems say why
	Created       Outcome = "created"        // the account was made now
	CreatedBefore Outcome = "created-before" // made by an earlier confirmation of the same file
	NotYet        Outcome = "not-yet"        // the confirmation stopped before this row: confirm again
)

// Row is one row of a file and its outcome.
type Row struct {
	Row      int
	Name     string
	Email    string // normalised when valid
	OrgName  string
	OrgID    string
	Roles    []auth.Role
	Advocate bool
	Outcome  Outcome
	Problems []string // why the row is not added
	UserID   string   // the account, once known
	Notes    []string // steps after the account that did not work (it stands)
	// Unfinished, on a row added from the file before, says a step after
	// its account is still to do (the invitation's email, the compliance
	// record): confirming the file again does it.
	Unfinished bool
}

// Label says the outcome in words.
func (r Row) Label() string {
	switch r.Outcome {
	case WillCreate:
		return "Will be created"
	case Exists:
		return "Already has an account"
	case Invalid:
		return "Not added"
	case Created:
		return "Created"
	case CreatedBefore:
		return "Created before"
	case NotYet:
		return "Not done yet"
	}
	return string(r.Outcome)
}

// Message is the row's problems as one sentence: "Row 7: the email
// “bob@” is not a valid address".
func (r Row) Message() string {
	return fmt.Sprintf("Row %d: %s", r.Row, strings.Join(r.Problems, "; "))
}

// check turns a file's records into rows, with what is wrong with each
// (orgs: the organisations people can belong to). It reads nothing.
func check(f *File, orgs []auth.Organisation) []Row {
	byName := map[string]auth.Organisation{}
	for _, o := range orgs {
		byName[foldOrg(o.Name)] = o
		byName[strings.ToLower(o.ID)] = o
	}
	firstRow := map[string]int{} // normalised email → the row it first appears in
	out := make([]Row, 0, len(f.Records))
	for _, rec := range f.Records {
		r := Row{Row: rec.Row, Name: auth.NormaliseName(rec.Name), Email: rec.Email, OrgName: rec.Organisation}
		if rec.Problem != "" {
			r.Problems = append(r.Problems, rec.Problem)
			r.Outcome = Invalid
			out = append(out, r)
			continue
		}
		switch {
		case r.Name == "":
			r.Problems = append(r.Problems, "the name is missing")
		case utf8.RuneCountInString(r.Name) > 120:
			r.Problems = append(r.Problems, "the name is longer than 120 characters")
		}
		email, ok := auth.NormaliseEmail(rec.Email)
		switch {
		case email == "":
			r.Problems = append(r.Problems, "the email is missing")
		case !ok:
			r.Problems = append(r.Problems, fmt.Sprintf("the email “%s” is not a valid address", rec.Email))
		default:
			r.Email = email
			if first, dup := firstRow[email]; dup {
				r.Problems = append(r.Problems, fmt.Sprintf("duplicate of row %d (the same email address)", first))
			} else {
				firstRow[email] = rec.Row
			}
		}
		if rec.Organisation == "" {
			r.Problems = append(r.Problems, "the organisation is missing")
		} else if o, ok := byName[foldOrg(rec.Organisation)]; ok {
			r.OrgID, r.OrgName = o.ID, o.Name
		} else if o, ok := byName[strings.ToLower(rec.Organisation)]; ok {
			r.OrgID, r.OrgName = o.ID, o.Name
		} else {
			r.Problems = append(r.Problems, fmt.Sprintf("the organisation “%s” is not one of yours: add it on the Organisations page first, or correct the spelling", rec.Organisation))
		}
		roles, bad := parseRoles(rec.Roles)
		for _, b := range bad {
			r.Problems = append(r.Problems, fmt.Sprintf("the role “%s” is not known (use Learner, Advocate, Manager or Administrator)", b))
		}
		adv, said, ok := parseYesNo(rec.Advocate)
		switch {
		case !ok:
			r.Problems = append(r.Problems, fmt.Sprintf("advocate should be yes or no, not “%s”", rec.Advocate))
		case said && !adv && slices.Contains(roles, auth.RoleAdvocate):
			r.Problems = append(r.Problems, "the roles include Advocate but advocate says no")
		}
		r.Advocate = adv || slices.Contains(roles, auth.RoleAdvocate)
		if r.Advocate && !slices.Contains(roles, auth.RoleAdvocate) {
			roles = append(roles, auth.RoleAdvocate)
		}
		slices.SortFunc(roles, func(a, b auth.Role) int { return slices.Index(auth.AllRoles, a) - slices.Index(auth.AllRoles, b) })
		r.Roles = roles
		r.Outcome = WillCreate
		if len(r.Problems) > 0 {
			r.Outcome = Invalid
		}
		out = append(out, r)
	}
	return out
}

// foldOrg is an organisation's name as compared: case and spacing aside.
func foldOrg(s string) string { return strings.ToLower(auth.NormaliseName(s)) }

// parseRoles reads the roles cell: role names or their labels, separated
// by semicolons, commas, slashes, "and" or spaces; Learner when empty. It
// returns the roles and the words it did not know.
func parseRoles(cell string) (roles []auth.Role, unknown []string) {
	words := strings.FieldsFunc(strings.ToLower(cell), func(r rune) bool {
		return r == ';' || r == ',' || r == '|' || r == '/' || r == '+' || r == '&' || r == ' ' || r == '\t'
	})
	for _, w := range words {
		if w == "and" {
			continue
		}
		role, ok := roleWord(w)
		if !ok {
			unknown = append(unknown, w)
			continue
		}
		if !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	if len(roles) == 0 && len(unknown) == 0 {
		roles = []auth.Role{auth.RoleLearner}
	}
	return roles, unknown
}

// roleWord is the role a word names: its value or its label, singular or plural.
func roleWord(w string) (auth.Role, bool) {
	w = strings.TrimSuffix(w, "s")
	for _, r := range auth.AllRoles {
		if w == string(r) || w == strings.ToLower(r.Label()) {
			return r, true
		}
	}
	if w == "administrator" || w == "admin" {
		return auth.RoleAdmin, true
	}
	return "", false
}

// parseYesNo reads the advocate cell: the value, whether one was given,
// and whether it was understood. Empty is no.
func parseYesNo(cell string) (value, said, ok bool) {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "":
		return false, false, true
	case "yes", "y", "true", "1", "x", "advocate":
		return true, true, true
	case "no", "n", "false", "0", "-":
		return false, true, true
	}
	return false, true, false
}
