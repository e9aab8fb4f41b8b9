package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
)

// Requests to join an organisation wait on the account
// (auth.User.JoinRequest) and as rows of two lists, so the managers' page
// is a page of rows and the accounts they name, and its count a directory
// read, however many people register:
//
//	joins@org/<org>   one organisation's requests, oldest first
//	joins             every organisation's (the admins' page)
//
// A row holds nothing but the account's ID (its key) and when it asked
// (its sort key). Rows are written before the account names the request
// and removed after it no longer does; a row whose account does not have
// that request is not shown.
var joinListSpec = listSpec{}

func (db *DB) joinList(orgID string) list {
	if orgID == "" {
		return db.list("joins", joinListSpec)
	}
	return db.list("joins@org/"+orgID, joinListSpec)
}

// joinSort is a request's sort key: when it was made, to the millisecond
// (as stored), then the account.
func joinSort(userID string, r auth.JoinRequest) string {
	return r.Requested.UTC().Format("20060102T150405.000") + "/" + userID
}

// sameJoin reports whether the account's pending request is r.
func sameJoin(have *auth.JoinRequest, r auth.JoinRequest) bool {
	return have != nil && have.OrgID == r.OrgID && have.Requested.Equal(r.Requested)
}

// ListJoinRequest enters an account's request in the lists of requests.
func (db *DB) ListJoinRequest(ctx context.Context, userID string, r auth.JoinRequest) error {
	for _, org := range []string{r.OrgID, ""} {
		if err := db.joinList(org).Add(ctx, userID, joinSort(userID, r), bson.D{}); err != nil {
			return fmt.Errorf("store: list join request: %w", err)
		}
	}
	return nil
}

// EndJoinRequest takes request r off the account in one conditional write
// (approved, setting its organisation, whose list of people is written
// first), then out of the lists of requests. It reports false, changing
// nothing, when the account no longer has r.
func (db *DB) EndJoinRequest(ctx context.Context, userID string, r auth.JoinRequest, approve bool, now time.Time) (bool, error) {
	cur, err := db.User(ctx, userID)
	if err != nil {
		return false, err
	}
	if !sameJoin(cur.JoinRequest, r) {
		return false, nil
	}
	set := bson.D{{Key: "updated_at", Value: now}}
	next := *cur
	if approve {
		next.OrgID = r.OrgID
		if err := db.indexUser(ctx, &next); err != nil {
			return false, err
		}
		set = append(set, bson.E{Key: "org_id", Value: r.OrgID})
	}
	before, err := updateByIDIf(ctx, db, colUsers, userID,
		bson.D{{Key: "join_request.org_id", Value: r.OrgID}, {Key: "join_request.requested_at", Value: r.Requested}},
		func(u *auth.User) bool { return sameJoin(u.JoinRequest, r) },
		bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "join_request", Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil || before == nil {
		if approve { // decided meanwhile: the rows entered above go, unless they are the account's now
			if after, rerr := db.User(context.WithoutCancel(ctx), userID); rerr == nil {
				_ = db.unindexUser(context.WithoutCancel(ctx), &next, after)
			}
		}
		return false, err
	}
	if approve {
		if err := db.unindexUser(ctx, before, &next); err != nil {
			return true, err
		}
	}
	for _, org := range []string{r.OrgID, ""} {
		if err := db.joinList(org).Remove(ctx, userID, joinSort(userID, r)); err != nil {
			return true, fmt.Errorf("store: unlist join request: %w", err)
		}
	}
	return true, nil
}

// JoinRequests returns a page of the accounts with a request to join orgID
// ("": any organisation), oldest first, and the number of rows in its list.
func (db *DB) JoinRequests(ctx context.Context, orgID string, offset, limit int) ([]*auth.User, int, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, total, err := db.joinList(orgID).Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	us, err := readRows[auth.User](ctx, db, colUsers, rows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*auth.User, 0, len(us))
	for i, u := range us {
		if u != nil && u.JoinRequest != nil && joinSort(u.ID, *u.JoinRequest) == rows[i].Sort && (orgID == "" || u.JoinRequest.OrgID == orgID) {
			out = append(out, u)
		}
	}
	return out, total, nil
}

// CountJoinRequests returns the number of requests to join orgID ("": any
// organisation): a directory read.
func (db *DB) CountJoinRequests(ctx context.Context, orgID string) (int, error) {
	return db.joinList(orgID).Count(ctx)
}

// SetEmailConfirm replaces the account's pending address confirmation
// (removes it when next is nil) if the one pending still has the token
// hash prev: of a confirmation and a new link asked for at once, or two
// uses of one link, only one takes effect.
func (db *DB) SetEmailConfirm(ctx context.Context, userID, prev string, next *auth.EmailConfirm) (bool, error) {
	change := bson.E{Key: "$unset", Value: bson.D{{Key: "email_confirm", Value: ""}}}
	if next != nil {
		change = bson.E{Key: "$set", Value: bson.D{{Key: "email_confirm", Value: next}}}
	}
	before, err := updateByIDIf(ctx, db, colUsers, userID, bson.D{{Key: "email_confirm.token_hash", Value: prev}},
		func(u *auth.User) bool { return u.EmailConfirm != nil && u.EmailConfirm.TokenHash == prev },
		bson.D{change, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	return before != nil, err
}
