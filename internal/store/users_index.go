package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/family-advocacy/lms/internal/auth"
)

// The admin's list of people is kept in name order in lists, so a page of
// it, a count, a filter by organisation or role and a search are each a
// few point reads however many people there are:
//
//	users                  everyone, by name (bucket: first 3 letters)
//	users@org/<org>        one organisation's people, by name
//	users@role/<role>      one role's people, by name (how admins and the
//	                       managers of an organisation are counted and found)
//	users@search           every word of every name and every email, by the
//	                       word (bucket: its first 3 letters): a search is a
//	                       prefix lookup
//
// Rows carry the name and email (for searching and sorting); the page reads
// each shown account by _id, so a row a crash left stale is never shown.
var (
	userListSpec   = listSpec{prefix: 3}
	userSearchSpec = listSpec{prefix: 3, uncounted: true}
)

// userRow is a row of the user lists: what the filters look at.
type userRow struct {
	Name  string      `bson:"n"`
	Email string      `bson:"e"`
	OrgID string      `bson:"o,omitempty"`
	Roles []auth.Role `bson:"r,omitempty"`
}

func rowOfUser(u *auth.User) userRow {
	return userRow{Name: u.Name, Email: u.Email, OrgID: u.OrgID, Roles: u.Roles}
}

// foldName returns s lower-cased without accents, for sorting and search.
func foldName(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(strings.TrimSpace(out))
}

func userSort(u *auth.User) string { return foldName(u.Name) + "\x00" + u.ID }

// searchWords returns the words a user is found by: each word of the name
// and the whole email address.
func searchWords(u *auth.User) []string {
	words := strings.FieldsFunc(foldName(u.Name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if u.Email != "" {
		words = append(words, strings.ToLower(u.Email))
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// userLists returns the name-ordered lists a user belongs to.
func (db *DB) userLists(u *auth.User) []list {
	out := []list{db.list("users", userListSpec)}
	if u.OrgID != "" {
		out = append(out, db.list("users@org/"+u.OrgID, userListSpec))
	}
	for _, r := range u.Roles {
		out = append(out, db.list("users@role/"+string(r), userListSpec))
	}
	return out
}

func (db *DB) userSearch() list { return db.list("users@search", userSearchSpec) }

// indexUser enters u in its lists (before the account is written).
func (db *DB) indexUser(ctx context.Context, u *auth.User) error {
	row := rowOfUser(u)
	for _, l := range db.userLists(u) {
		if err := l.Add(ctx, u.ID, userSort(u), row); err != nil {
			return err
		}
	}
	s := db.userSearch()
	for _, w := range searchWords(u) {
		if err := s.Add(ctx, w+"\x00"+u.ID, w+"\x00"+u.ID, row); err != nil {
			return err
		}
	}
	return db.indexUnlisted(ctx, u) // the organisation typed at registration (unlisted.go)
}

// unindexUser removes the rows of old that now differs from u (after the
// account was written); with u nil, every row of old.
func (db *DB) unindexUser(ctx context.Context, old, u *auth.User) error {
	keep := map[string]bool{}
	keepWords := map[string]bool{}
	if u != nil {
		for _, l := range db.userLists(u) {
			keep[l.name+"\x00"+userSort(u)] = true
		}
		for _, w := range searchWords(u) {
			keepWords[w] = true
		}
	}
	for _, l := range db.userLists(old) {
		if !keep[l.name+"\x00"+userSort(old)] {
			if err := l.Remove(ctx, old.ID, userSort(old)); err != nil {
				return err
			}
		}
	}
	s := db.userSearch()
	for _, w := range searchWords(old) {
		if !keepWords[w] {
			if err := s.Remove(ctx, w+"\x00"+old.ID, w+"\x00"+old.ID); err != nil {
				return err
			}
		}
	}
	return db.unindexUnlisted(ctx, old, u)
}

// listUsers answers the admin's list of people: a page in name order of
// everyone, an organisation or a role, or of those whose name or email has
// a word starting with the search.
func (db *DB) listUsers(ctx context.Context, q auth.UserQuery) ([]auth.User, int, error) {
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// A filter by a list the user belongs to, the narrowest one.
	var l list
	switch {
	case q.Role != "" && q.Role != auth.RoleLearner:
		l = db.list("users@role/"+string(q.Role), userListSpec)
	case q.OrgID != "":
		l = db.list("users@org/"+q.OrgID, userListSpec)
	case q.Role != "":
		l = db.list("users@role/"+string(q.Role), userListSpec)
	default:
		l = db.list("users", userListSpec)
	}
	match := func(u *auth.User) bool {
		return (q.OrgID == "" || u.OrgID == q.OrgID) && (q.Role == "" || u.HasRole(q.Role))
	}
	search := strings.TrimSpace(q.Search)
	if search == "" && (q.OrgID == "" || q.Role == "") {
		rows, total, err := l.Page(ctx, q.Offset, limit)
		if err != nil {
			return nil, 0, err
		}
		users, err := db.usersOfRows(ctx, rows, func(r Row, u *auth.User) bool { return r.Sort == userSort(u) && match(u) })
		return users, total, err
	}
	// Filtered: collect the candidates' rows, then page them by name.
	var cands []Row
	if search != "" {
		var err error
		if cands, err = db.searchUsers(ctx, search); err != nil {
			return nil, 0, err
		}
	} else {
		err := l.Scan(ctx, "", func(r Row) (bool, error) { cands = append(cands, r); return true, nil })
		if err != nil {
			return nil, 0, err
		}
	}
	// Filter the rows, in name order; the total counts every match, and
	// only the page's accounts are read.
	var page []Row
	total := 0
	for _, r := range cands {
		var ur userRow
		if err := r.Decode(&ur); err != nil {
			return nil, 0, err
		}
		u := &auth.User{ID: r.Key, Name: ur.Name, Email: ur.Email, OrgID: ur.OrgID, Roles: ur.Roles}
		if !match(u) || (search != "" && !matchesSearch(u, search)) {
			continue
		}
		if total >= q.Offset && len(page) < limit {
			page = append(page, r)
		}
		total++
	}
	users, err := db.usersOfRows(ctx, page, func(_ Row, u *auth.User) bool { return match(u) && (search == "" || matchesSearch(u, search)) })
	return users, total, err
}

// matchesSearch reports whether every word of the search starts a word of
// the user's name or email.
func matchesSearch(u *auth.User, search string) bool {
	words := searchWords(u)
	for _, q := range strings.Fields(foldName(search)) {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return true
}

// searchUsers returns a row (key: the user's ID, sort: the name order) for
// each user with a word starting with the search's first word, by name.
func (db *DB) searchUsers(ctx context.Context, search string) ([]Row, error) {
	words := strings.Fields(foldName(search))
	if len(words) == 0 {
		return nil, nil
	}
	first := words[0]
	// The longest word narrows best.
	for _, w := range words {
		if len(w) > len(first) {
			first = w
		}
	}
	seen := map[string]bool{}
	var out []Row
	collect := func(r Row) {
		w, id, ok := strings.Cut(r.Key, "\x00")
		if !ok || !strings.HasPrefix(w, first) || seen[id] {
			return
		}
		var ur userRow
		if err := r.Decode(&ur); err != nil {
			return
		}
		seen[id] = true
		out = append(out, Row{Key: id, Sort: foldName(ur.Name) + "\x00" + id, Data: r.Data})
	}
	s := db.userSearch()
	var err error
	if len(first) >= userSearchSpec.prefix {
		err = s.Scan(ctx, first, func(r Row) (bool, error) {
			if !strings.HasPrefix(r.Sort, first) {
				return false, nil
			}
			collect(r)
			return true, nil
		})
	} else {
		err = s.ScanBuckets(ctx, func(p string) bool { return strings.HasPrefix(p, first) },
			func(_ string, rows []Row) (bool, error) {
				for _, r := range rows {
					collect(r)
				}
				return true, nil
			})
	}
	if err != nil {
		return nil, fmt.Errorf("store: search users: %w", err)
	}
	slices.SortFunc(out, func(a, b Row) int { return strings.Compare(a.Sort, b.Sort) })
	return out, nil
}

// usersOfRows reads the accounts a page of rows names, leaving out those
// gone or no longer as the row says.
func (db *DB) usersOfRows(ctx context.Context, rows []Row, current func(Row, *auth.User) bool) ([]auth.User, error) {
	us, err := readRows[auth.User](ctx, db, colUsers, rows)
	if err != nil {
		return nil, err
	}
	out := make([]auth.User, 0, len(rows))
	for i, u := range us {
		if u != nil && current(rows[i], u) {
			out = append(out, *u)
		}
	}
	return out, nil
}

// Users returns the accounts with these IDs, in order (nil where there is
// none): point reads, a few at a time.
func (db *DB) Users(ctx context.Context, ids []string) ([]*auth.User, error) {
	return readIDs[auth.User](ctx, db, colUsers, ids)
}

// RoleMembers returns every account with a role (a short list for every
// role but learner), by name.
func (db *DB) RoleMembers(ctx context.Context, role auth.Role) ([]auth.User, error) {
	var rows []Row
	err := db.list("users@role/"+string(role), userListSpec).Scan(ctx, "", func(r Row) (bool, error) { rows = append(rows, r); return true, nil })
	if err != nil {
		return nil, err
	}
	return db.usersOfRows(ctx, rows, func(_ Row, u *auth.User) bool { return u.HasRole(role) })
}
