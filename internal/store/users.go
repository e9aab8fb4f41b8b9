package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Collections used for accounts. user_emails is keyed by the normalised
// email, so sign-in is two point reads.
const (
	colUsers      = "users"
	colUserEmails = "user_emails"
	colTOTPSteps  = "totp_steps"
)

type emailClaim struct {
	Email   string    `bson:"_id"`
	UserID  string    `bson:"user_id"`
	Claimed time.Time `bson:"claimed_at"`
}

// ClaimEmail records that email belongs to userID; ECONFLICT when taken.
func (db *DB) ClaimEmail(ctx context.Context, email, userID string, now time.Time) error {
	_, err := db.coll(colUserEmails).InsertOne(ctx, emailClaim{Email: email, UserID: userID, Claimed: now})
	if mongo.IsDuplicateKeyError(err) {
		return errs.Wrap(errs.ECONFLICT, err, "email already registered")
	}
	if err != nil {
		return fmt.Errorf("store: claim email: %w", err)
	}
	return nil
}

// EmailClaim returns the owner of email.
func (db *DB) EmailClaim(ctx context.Context, email string) (string, time.Time, error) {
	var c emailClaim
	err := db.coll(colUserEmails).FindOne(ctx, bson.D{{Key: "_id", Value: email}}).Decode(&c)
	if err != nil {
		return "", time.Time{}, notFound(err, "account")
	}
	return c.UserID, c.Claimed, nil
}

// TakeOverEmail moves a dangling claim (its user was never created) to toUserID.
func (db *DB) TakeOverEmail(ctx context.Context, email, fromUserID, toUserID string, now time.Time) error {
	old, err := updateByIDIf(ctx, db, colUserEmails, email, bson.D{{Key: "user_id", Value: fromUserID}},
		func(c *emailClaim) bool { return c.UserID == fromUserID },
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: toUserID}, {Key: "claimed_at", Value: now}}}})
	if err != nil {
		return fmt.Errorf("store: take over email: %w", err)
	}
	if old == nil {
		return errs.E(errs.ECONFLICT, "email already registered")
	}
	return nil
}

// ReleaseEmail deletes an email claim.
func (db *DB) ReleaseEmail(ctx context.Context, email string) error {
	_, err := db.coll(colUserEmails).DeleteOne(ctx, bson.D{{Key: "_id", Value: email}})
	return err
}

// InsertUser inserts a new account, entered first in the lists of people
// (see users_index.go).
func (db *DB) InsertUser(ctx context.Context, u *auth.User) error {
	if err := db.indexUser(ctx, u); err != nil {
		return err
	}
	_, err := db.coll(colUsers).InsertOne(ctx, u)
	return err
}

// User returns the account with this ID.
func (db *DB) User(ctx context.Context, id string) (*auth.User, error) {
	var u auth.User
	if err := db.coll(colUsers).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&u); err != nil {
		return nil, notFound(err, "account")
	}
	return &u, nil
}

// listed reports whether an update changes what the lists of people hold.
func listed(u auth.UserUpdate) bool {
	return u.Name != nil || u.Email != nil || u.OrgID != nil || u.Roles != nil
}

// UpdateUser applies u to one account and increases its version. A change
// to what the lists of people show enters the new rows first and removes
// the old ones after.
func (db *DB) UpdateUser(ctx context.Context, id string, u auth.UserUpdate) error {
	var old *auth.User
	if listed(u) {
		var err error
		if old, err = db.User(ctx, id); err != nil {
			return err
		}
		next := *old
		applyUserUpdate(&next, u)
		if err := db.indexUser(ctx, &next); err != nil {
			return err
		}
		defer func() {
			if old != nil {
				_ = db.unindexUser(context.WithoutCancel(ctx), old, &next)
			}
		}()
	}
	res, err := db.coll(colUsers).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		userUpdate(u).doc(bson.E{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}))
	if err != nil {
		old = nil
		return fmt.Errorf("store: update user %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		old = nil
		return errs.E(errs.ENOTFOUND, "account not found")
	}
	return nil
}

// applyUserUpdate applies the listed fields of an update to a copy.
func applyUserUpdate(x *auth.User, u auth.UserUpdate) {
	if u.Name != nil {
		x.Name = *u.Name
	}
	if u.Email != nil {
		x.Email = *u.Email
	}
	if u.OrgID != nil {
		x.OrgID = *u.OrgID
	}
	if u.Roles != nil {
		x.Roles = *u.Roles
	}
}

// ListUsers returns a page of accounts, sorted by name, and the total
// matching (see users_index.go).
func (db *DB) ListUsers(ctx context.Context, q auth.UserQuery) ([]auth.User, int, error) {
	return db.listUsers(ctx, q)
}

// CountUsers returns the number of accounts (a directory read).
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	return db.list("users", userListSpec).Count(ctx)
}

// CountAdmins returns the number of enabled admin accounts (a point read
// of each admin).
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	admins, err := db.RoleMembers(ctx, auth.RoleAdmin)
	n := 0
	for _, a := range admins {
		if !a.Disabled {
			n++
		}
	}
	return n, err
}

// UseRecoveryCode removes a recovery code's hash if the user still has it:
// of two requests using the same code at once, only one succeeds.
func (db *DB) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	before, err := updateByIDIf(ctx, db, colUsers, userID, bson.D{{Key: "recovery_hashes", Value: hash}},
		func(u *auth.User) bool { return slices.Contains(u.RecoveryHashes, hash) },
		bson.D{{Key: "$pull", Value: bson.D{{Key: "recovery_hashes", Value: hash}}}})
	return before != nil, err
}

// totpStep is the last time step whose code a user signed in with: one
// document per user, so it never grows.
type totpStep struct {
	UserID string `bson:"_id"`
	Step   int64  `bson:"step"`
}

// UseTOTPStep records that a user's code for a time step was accepted;
// ECONFLICT when that step, or a later one, was used already (a replayed
// code: RFC 6238, section 5.2). One conditional single-document write.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	before, err := updateByIDIf(ctx, db, colTOTPSteps, userID, bson.D{{Key: "step", Value: bson.D{{Key: "$lt", Value: step}}}},
		func(t *totpStep) bool { return t.Step < step },
		bson.D{{Key: "$set", Value: bson.D{{Key: "step", Value: step}}}})
	if err != nil || before != nil {
		return err
	}
	_, err = db.coll(colTOTPSteps).InsertOne(ctx, totpStep{UserID: userID, Step: step})
	if mongo.IsDuplicateKeyError(err) {
		return errs.E(errs.ECONFLICT, "code already used")
	}
	return err
}
