package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Organisation names typed at registration (auth.User.UnlistedOrg) are
// kept in three lists, so the admins' page of names with their counts is a
// page of one list and a directory read per name, however many people
// register:
//
//	unlisted                 one row per name, by its key (auth.UnlistedKey):
//	                         the name as last typed
//	unlisted@name/<key>      one row per account that gave it, oldest first
//	                         (its count is how many accounts gave it)
//	unlisted@merging         names being merged into an organisation
//
// An account's rows are written with its other lists, before the account
// (indexUser), and removed after it no longer gives the name
// (unindexUser): the account's row first, then, when the name has no
// account left, the name's row, entered again if an account gave it
// meanwhile (a registration writes its account's row before the name's).
var (
	unlistedNamesSpec    = listSpec{prefix: 2}
	unlistedAccountsSpec = listSpec{}
	unlistedMergingSpec  = listSpec{}
)

func (db *DB) unlistedNames() list { return db.list("unlisted", unlistedNamesSpec) }
func (db *DB) unlistedAccounts(key string) list {
	return db.list("unlisted@name/"+key, unlistedAccountsSpec)
}
func (db *DB) unlistedMerging() list { return db.list("unlisted@merging", unlistedMergingSpec) }

// unlistedNameRow is a row of the list of names.
type unlistedNameRow struct {
	Name string `bson:"n"`
}

// unlistedAccountRow is a row of a name's list of accounts.
type unlistedAccountRow struct {
	Name string    `bson:"n"` // as this account typed it
	At   time.Time `bson:"at"`
}

// unlistedKeyOf returns the key of the name an account gave ("" for none).
func unlistedKeyOf(u *auth.User) string {
	if u == nil || u.UnlistedOrg == "" {
		return ""
	}
	return auth.UnlistedKey(u.UnlistedOrg)
}

// listedUnlisted returns the key under which u is listed: none for an
// account being erased or erased.
func listedUnlisted(u *auth.User) string {
	if u == nil || u.Erasure != nil || u.ErasedAt != nil {
		return ""
	}
	return unlistedKeyOf(u)
}

func unlistedSort(at time.Time, userID string) string {
	return at.UTC().Format("20060102T150405.000") + "/" + userID
}

// indexUnlisted enters the name u gave, if any, in the lists of names.
func (db *DB) indexUnlisted(ctx context.Context, u *auth.User) error {
	key := listedUnlisted(u)
	if key == "" {
		return nil
	}
	if err := db.unlistedAccounts(key).Add(ctx, u.ID, unlistedSort(u.Created, u.ID), unlistedAccountRow{Name: u.UnlistedOrg, At: u.Created}); err != nil {
		return fmt.Errorf("store: list unlisted organisation: %w", err)
	}
	// The name is shown as first typed.
	if first, err := db.unlistedNameRow(ctx, key); err != nil || first != "" {
		return err
	}
	if err := db.unlistedNames().Add(ctx, key, key, unlistedNameRow{Name: u.UnlistedOrg}); err != nil {
		return fmt.Errorf("store: list unlisted organisation: %w", err)
	}
	return nil
}

// unlistedNameRow returns the name of key as the list of names shows it
// ("" when it has no row).
func (db *DB) unlistedNameRow(ctx context.Context, key string) (string, error) {
	var name string
	err := db.unlistedNames().Scan(ctx, key, func(r Row) (bool, error) {
		if r.Key == key {
			var nr unlistedNameRow
			if err := r.Decode(&nr); err != nil {
				return false, err
			}
			name = nr.Name
		}
		return false, nil
	})
	return name, err
}

// unindexUnlisted removes the row of the name old gave when u (the
// account as it is now; nil when gone) is no longer listed under it.
func (db *DB) unindexUnlisted(ctx context.Context, old, u *auth.User) error {
	key := unlistedKeyOf(old)
	if key == "" || listedUnlisted(u) == key && u.Created.Equal(old.Created) {
		return nil
	}
	return db.dropUnlisted(ctx, key, old.ID, old.Created)
}

// dropUnlisted removes an account's row from a name's list, and the name
// when no account gives it any more.
func (db *DB) dropUnlisted(ctx context.Context, key, userID string, at time.Time) error {
	accounts := db.unlistedAccounts(key)
	if err := accounts.Remove(ctx, userID, unlistedSort(at, userID)); err != nil {
		return fmt.Errorf("store: unlist unlisted organisation: %w", err)
	}
	n, err := accounts.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	if err := db.unlistedNames().Remove(ctx, key, key); err != nil {
		return fmt.Errorf("store: unlist unlisted organisation: %w", err)
	}
	// An account that gave the name meanwhile wrote its row before the
	// name's: if there is one now, the name is entered again, as it typed it.
	rows, _, err := accounts.Page(ctx, 0, 1)
	if err != nil || len(rows) == 0 {
		return err
	}
	var ar unlistedAccountRow
	if err := rows[0].Decode(&ar); err != nil {
		return err
	}
	return db.unlistedNames().Add(ctx, key, key, unlistedNameRow{Name: ar.Name})
}

// UnlistedNames returns a page of the typed names, by key, each with how
// many accounts gave it and any merge under way, and how many names there
// are.
func (db *DB) UnlistedNames(ctx context.Context, offset, limit int) ([]auth.UnlistedName, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, total, err := db.unlistedNames().Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	merges, err := db.unlistedMerges(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]auth.UnlistedName, 0, len(rows))
	for _, r := range rows {
		var nr unlistedNameRow
		if err := r.Decode(&nr); err != nil {
			return nil, 0, err
		}
		n, err := db.unlistedAccounts(r.Key).Count(ctx)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, auth.UnlistedName{Key: r.Key, Name: nr.Name, Accounts: n, Merge: merges[r.Key]})
	}
	return out, total, nil
}

// unlistedMerges returns the merges under way, by name key (a short list).
func (db *DB) unlistedMerges(ctx context.Context) (map[string]*auth.UnlistedMerge, error) {
	out := map[string]*auth.UnlistedMerge{}
	err := db.unlistedMerging().Scan(ctx, "", func(r Row) (bool, error) {
		var m auth.UnlistedMerge
		if err := r.Decode(&m); err != nil {
			return false, err
		}
		out[r.Key] = &m
		return true, nil
	})
	return out, err
}

// UnlistedName returns one typed name, with how many accounts gave it and
// any merge under way; ENOTFOUND when no account gives it and no merge of
// it is under way.
func (db *DB) UnlistedName(ctx context.Context, key string) (*auth.UnlistedName, error) {
	n := &auth.UnlistedName{Key: key}
	var err error
	if n.Name, err = db.unlistedNameRow(ctx, key); err != nil {
		return nil, err
	}
	if n.Accounts, err = db.unlistedAccounts(key).Count(ctx); err != nil {
		return nil, err
	}
	merges, err := db.unlistedMerges(ctx)
	if err != nil {
		return nil, err
	}
	n.Merge = merges[key]
	if n.Name == "" && n.Accounts > 0 { // the name's row is being entered again
		rows, _, err := db.unlistedAccounts(key).Page(ctx, 0, 1)
		if err != nil {
			return nil, err
		}
		var ar unlistedAccountRow
		if len(rows) > 0 && rows[0].Decode(&ar) == nil {
			n.Name = ar.Name
		}
	}
	if n.Name == "" && n.Merge == nil {
		return nil, errs.E(errs.ENOTFOUND, "No account gives that organisation.")
	}
	return n, nil
}

// UnlistedAccounts returns a page of the accounts that gave a name, oldest
// first (User nil where the account is missing), and how many rows there
// are.
func (db *DB) UnlistedAccounts(ctx context.Context, key string, offset, limit int) ([]auth.UnlistedAccount, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, total, err := db.unlistedAccounts(key).Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	us, err := readRows[auth.User](ctx, db, colUsers, rows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]auth.UnlistedAccount, len(rows))
	for i, r := range rows {
		var ar unlistedAccountRow
		if err := r.Decode(&ar); err != nil {
			return nil, 0, err
		}
		out[i] = auth.UnlistedAccount{UserID: r.Key, Listed: ar.At, User: us[i]}
	}
	return out, total, nil
}

// SetUnlistedMerge records (m not nil) or clears a merge of a name under way.
func (db *DB) SetUnlistedMerge(ctx context.Context, key string, m *auth.UnlistedMerge) error {
	if m == nil {
		return db.unlistedMerging().Remove(ctx, key, key)
	}
	return db.unlistedMerging().Add(ctx, key, key, m)
}

// DropUnlistedRow removes a name's row of an account that does not give
// it (or does not exist).
func (db *DB) DropUnlistedRow(ctx context.Context, key, userID string, listed time.Time) error {
	return db.dropUnlisted(ctx, key, userID, listed)
}

// MoveUnlisted takes the typed name off an account in one conditional
// write if it still has name, setting r (when not nil) if it has no
// request to join an organisation; the rows of the lists of requests are
// written first, and the name's row removed after. It reports false,
// changing nothing, when the account is no longer so.
func (db *DB) MoveUnlisted(ctx context.Context, userID, name string, r *auth.JoinRequest, now time.Time) (bool, error) {
	if r != nil {
		if err := db.ListJoinRequest(ctx, userID, *r); err != nil {
			return false, err
		}
	}
	set := bson.D{{Key: "updated_at", Value: now}}
	where := bson.D{{Key: "unlisted_org", Value: name}}
	if r != nil {
		set = append(set, bson.E{Key: "join_request", Value: r})
		where = append(where, bson.E{Key: "join_request", Value: bson.D{{Key: "$exists", Value: false}}})
	}
	before, err := updateByIDIf(ctx, db, colUsers, userID, where,
		func(u *auth.User) bool { return u.UnlistedOrg == name && (r == nil || u.JoinRequest == nil) },
		bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "unlisted_org", Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil || before == nil {
		if r != nil { // not moved: the request rows entered above go, unless they are the account's now
			bg := context.WithoutCancel(ctx)
			if cur, rerr := db.User(bg, userID); rerr == nil && !sameJoin(cur.JoinRequest, *r) {
				for _, org := range []string{r.OrgID, ""} {
					_ = db.joinList(org).Remove(bg, userID, joinSort(userID, *r))
				}
			}
		}
		return false, err
	}
	after := *before
	after.UnlistedOrg, after.JoinRequest = "", r
	return true, db.unindexUnlisted(ctx, before, &after)
}

var _ auth.UnlistedStore = (*DB)(nil)
