package auth

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/errs"
)

// Organisations that are not listed. The organisation list at registration
// holds only the organisations an admin created, so a person whose agency
// is not there chooses "My organisation is not listed" and types its name.
// The name is kept on the account (User.UnlistedOrg) and in lists of the
// names typed (one row per account, grouped by the name's key: the same
// name whatever its case, accents or punctuation), so admins see each name
// with how many accounts gave it, a page at a time.
//
// An admin merges a name into a partner organisation. Joining an
// organisation needs its approval (joins.go): a manager of it, or an
// admin, confirms that the person works there before its managers see
// their training. A merge keeps that rule: it does not put anyone in the
// organisation, it turns each account's typed name into a request to join
// it, decided on the requests page like one made at registration. Each
// account is one conditional write (the name off, the request on); the
// merge is recorded on the name before the first, so one that stopped
// part-way (a crash, or the number of accounts one request handles) is
// shown as under way and finished by running it again.

// UnlistedOrganisation is the Registration.OrgID of "My organisation is not
// listed": the person types its name (Registration.OrgName).
const UnlistedOrganisation = "unlisted"

// orgNameMax is the longest organisation name accepted, in characters.
const orgNameMax = 120

// UnlistedKey returns the key that groups the names of one organisation:
// lower case, without accents, apostrophes and full stops, with any other
// punctuation a space ("St. Mary's Women’s Aid" and "st marys womens aid").
func UnlistedKey(name string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, name)
	if err != nil {
		s = name
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '`' || r == '.':
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// checkOrgName returns what is wrong with a typed organisation name
// (already trimmed), or "".
func checkOrgName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n < 2:
		return "Type the full name of your organisation"
	case n > orgNameMax:
		return "The organisation's name must be 120 characters or fewer"
	case UnlistedKey(name) == "":
		return "Type your organisation's name in letters"
	case strings.Contains(name, "://") || strings.HasPrefix(strings.ToLower(name), "www."):
		return "Type your organisation's name, not its web address"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "The organisation's name has a character we cannot show: type it again"
		}
	}
	return ""
}

// validateOrg checks where the person says they work: an organisation from
// the list, "I do not work for an organisation" (NoOrganisation), or a name
// typed because it is not listed (UnlistedOrganisation, or a name with no
// choice made). Choosing one from the list and typing a name, or neither,
// is a problem. A typed name leaves the registration with OrgID
// NoOrganisation (no request to join) and OrgName the name, trimmed.
func (r *Registration) validateOrg(fe errs.FieldErrors, orgExists func(string) bool) {
	name := NormaliseName(r.OrgName)
	r.OrgName = ""
	switch {
	case r.OrgID == UnlistedOrganisation || r.OrgID == "" && name != "":
		if name == "" {
			fe.Add("org_name", "Type the name of the organisation you work for")
			return
		}
		if msg := checkOrgName(name); msg != "" {
			fe.Add("org_name", msg)
			return
		}
		r.OrgID, r.OrgName = NoOrganisation, name
	case r.OrgID == "":
		fe.Add("org", "Select your organisation, or choose “My organisation is not listed” and type its name")
	case name != "" && r.OrgID == NoOrganisation:
		fe.Add("org_name", "You chose “I do not work for an organisation” and typed an organisation's name: clear the name, or choose “My organisation is not listed”")
	case name != "":
		fe.Add("org_name", "You chose an organisation from the list and typed a name as well: clear the name, or choose “My organisation is not listed”")
	case r.OrgID != NoOrganisation && !orgExists(r.OrgID):
		fe.Add("org", "Select your organisation, or “My organisation is not listed”")
	}
}

// UnlistedName is one organisation name people typed, with how many
// accounts gave it.
type UnlistedName struct {
	Key      string // UnlistedKey of the name
	Name     string // as last typed
	Accounts int
	Merge    *UnlistedMerge // a merge started and not finished
}

// UnlistedMerge records a merge of a name into an organisation under way.
type UnlistedMerge struct {
	OrgID   string    `bson:"org"`
	By      string    `bson:"by"` // the admin's user ID
	Started time.Time `bson:"at"`
}

// UnlistedAccount is a row of a name's list: the account (nil when it is
// missing: being created, or never created after a crash) and when the row
// was written.
type UnlistedAccount struct {
	UserID string
	Listed time.Time
	User   *User
}

// UnlistedStore keeps the names typed at registration. A store that
// keeps them implements it alongside Store.
type UnlistedStore interface {
	// UnlistedNames returns a page of the names, by key, and how many
	// there are; UnlistedName one of them (ENOTFOUND when no account gives
	// it).
	UnlistedNames(ctx context.Context, offset, limit int) ([]UnlistedName, int, error)
	UnlistedName(ctx context.Context, key string) (*UnlistedName, error)
	// UnlistedAccounts returns a page of the rows of a name, oldest
	// first, and how many there are.
	UnlistedAccounts(ctx context.Context, key string, offset, limit int) ([]UnlistedAccount, int, error)
	// SetUnlistedMerge records (m not nil) or clears a merge under way.
	SetUnlistedMerge(ctx context.Context, key string, m *UnlistedMerge) error
	// MoveUnlisted takes the typed name off the account in one
	// conditional write, if it still has name, and sets r (when not nil)
	// if it has no request to join; it reports whether it did. The rows of
	// the requests are written before, the name's after.
	MoveUnlisted(ctx context.Context, userID, name string, r *JoinRequest, now time.Time) (bool, error)
	// DropUnlistedRow removes a row whose account does not give the name.
	DropUnlistedRow(ctx context.Context, key, userID string, listed time.Time) error
}

// unlisted returns the store's methods for typed names.
func (s *Service) unlisted() (UnlistedStore, error) {
	us, ok := s.store.(UnlistedStore)
	if !ok {
		return nil, errs.E(errs.EINTERNAL, "auth: the store does not keep unlisted organisations")
	}
	return us, nil
}

var errAdminsOnly = errs.E(errs.EFORBIDDEN, "Only administrators see the organisations people typed.")

// UnlistedNames returns a page of the organisation names people typed, by
// name, and how many names there are (admins only).
func (s *Service) UnlistedNames(ctx context.Context, actor *User, offset, limit int) ([]UnlistedName, int, error) {
	if !actor.HasRole(RoleAdmin) {
		return nil, 0, errAdminsOnly
	}
	us, err := s.unlisted()
	if err != nil {
		return nil, 0, err
	}
	return us.UnlistedNames(ctx, offset, limit)
}

// UnlistedName returns one typed name with a page of the accounts that
// gave it (admins only); ENOTFOUND when none does.
func (s *Service) UnlistedName(ctx context.Context, actor *User, key string, offset, limit int) (*UnlistedName, []UnlistedAccount, error) {
	if !actor.HasRole(RoleAdmin) {
		return nil, nil, errAdminsOnly
	}
	us, err := s.unlisted()
	if err != nil {
		return nil, nil, err
	}
	n, err := us.UnlistedName(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	rows, _, err := us.UnlistedAccounts(ctx, key, offset, limit)
	return n, rows, err
}

// MergeBudget is how many accounts one call of MergeUnlisted moves; a
// name given by more is left under way, to be continued.
const MergeBudget = 500

// danglingRowAge is how old a row of an account that does not exist must
// be before a merge drops it (younger, the account may be being created).
const danglingRowAge = time.Minute

// MergeResult says what a merge did.
type MergeResult struct {
	Org      *Organisation
	Name     string // as typed
	Requests int    // accounts now asking to join the organisation
	Settled  int    // accounts already in it, already asking to join one, or erased: the name was taken off
	Left     int    // rows still to do: the merge is under way
}

// MergeUnlisted merges the typed name key into partner organisation orgID
// (admins only, audited): each account that gave it asks to join the
// organisation, whose managers or an admin then decide as for any request.
// An account already in the organisation, already asking to join one, or
// being erased only loses the typed name. Run again, it continues a merge
// that stopped; a name already merging into another organisation is a
// conflict.
func (s *Service) MergeUnlisted(ctx context.Context, actor *User, key, orgID string) (*MergeResult, error) {
	if !actor.HasRole(RoleAdmin) {
		return nil, errs.E(errs.EFORBIDDEN, "Only administrators merge organisations.")
	}
	us, err := s.unlisted()
	if err != nil {
		return nil, err
	}
	o, err := s.store.Org(ctx, orgID)
	if errs.Is(err, errs.ENOTFOUND) || err == nil && o.Kind != OrgPartner {
		return nil, errs.FieldErrors{"org": "Choose the partner organisation to merge into"}.Err()
	}
	if err != nil {
		return nil, err
	}
	n, err := us.UnlistedName(ctx, key)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, errs.E(errs.ENOTFOUND, "No account gives that organisation any more: it may have been merged already.")
	}
	if err != nil {
		return nil, err
	}
	if n.Merge != nil && n.Merge.OrgID != orgID {
		return nil, errs.E(errs.ECONFLICT, "“%s” is being merged into another organisation: finish that merge first.", n.Name)
	}
	now := s.Now().UTC()
	if n.Merge == nil {
		if err := us.SetUnlistedMerge(ctx, key, &UnlistedMerge{OrgID: orgID, By: actor.ID, Started: now}); err != nil {
			return nil, err
		}
		if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, OrgID: orgID, Action: "org.merge_unlisted", Target: "org:" + orgID,
			After: map[string]any{"name": n.Name, "accounts": n.Accounts}}); err != nil {
			return nil, err
		}
	}
	res := &MergeResult{Org: o, Name: n.Name}
	// Page through the name's rows: each account moved leaves the list, so
	// the offset moves on only past rows left behind.
	offset, tried := 0, 0
	for tried < MergeBudget {
		rows, _, err := us.UnlistedAccounts(ctx, key, offset, 50)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			break
		}
		for _, row := range rows {
			tried++
			u := row.User
			switch {
			case u == nil && now.Sub(row.Listed) > danglingRowAge, u != nil && UnlistedKey(u.UnlistedOrg) != key:
				if err := us.DropUnlistedRow(ctx, key, row.UserID, row.Listed); err != nil {
					return nil, err
				}
				continue
			case u == nil:
				offset++
				continue
			}
			r := mergeRequest(u, orgID, now)
			moved, err := us.MoveUnlisted(ctx, u.ID, u.UnlistedOrg, r, now)
			if err != nil {
				return nil, err
			}
			switch {
			case !moved: // changed meanwhile: the next run looks again
				offset++
			case r != nil:
				res.Requests++
			default:
				res.Settled++
			}
		}
	}
	left, err := us.UnlistedName(ctx, key)
	switch {
	case errs.Is(err, errs.ENOTFOUND):
		err = us.SetUnlistedMerge(ctx, key, nil)
	case err == nil:
		res.Left = left.Accounts
		if left.Accounts == 0 {
			err = us.SetUnlistedMerge(ctx, key, nil)
		}
	}
	return res, err
}

// mergeRequest is the request to join orgID that merging a typed name
// makes for u: none when u is in it already, is asking to join one, or is
// being erased.
func mergeRequest(u *User, orgID string, now time.Time) *JoinRequest {
	if u.Erasure != nil || u.ErasedAt != nil || u.OrgID == orgID || u.JoinRequest != nil {
		return nil
	}
	return &JoinRequest{OrgID: orgID, Requested: now.Truncate(time.Millisecond)} // as stored
}
