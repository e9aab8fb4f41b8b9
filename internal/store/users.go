package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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

func init() {
	indexes[colUsers] = append(indexes[colUsers], mongo.IndexModel{Keys: bson.D{{Key: "org_id", Value: 1}}})
}

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

// InsertUser inserts a new account.
func (db *DB) InsertUser(ctx context.Context, u *auth.User) error {
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

// UpdateUser applies u to one account and increases its version.
func (db *DB) UpdateUser(ctx context.Context, id string, u auth.UserUpdate) error {
	res, err := db.coll(colUsers).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		userUpdate(u).doc(bson.E{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}))
	if err != nil {
		return fmt.Errorf("store: update user %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return errs.E(errs.ENOTFOUND, "account not found")
	}
	return nil
}

// ListUsers returns a page of accounts, sorted by name, and the total matching.
func (db *DB) ListUsers(ctx context.Context, q auth.UserQuery) ([]auth.User, int, error) {
	filter := bson.D{}
	if q.Search != "" {
		re := bson.Regex{Pattern: regexp.QuoteMeta(q.Search), Options: "i"}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{bson.D{{Key: "name", Value: re}}, bson.D{{Key: "email", Value: re}}}})
	}
	if q.OrgID != "" {
		filter = append(filter, bson.E{Key: "org_id", Value: q.OrgID})
	}
	if q.Role != "" {
		filter = append(filter, bson.E{Key: "roles", Value: q.Role})
	}
	coll := db.coll(colUsers)
	total, err := coll.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("store: count users: %w", err)
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}).SetSkip(int64(q.Offset)).SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, fmt.Errorf("store: list users: %w", err)
	}
	var users []auth.User
	if err := cur.All(ctx, &users); err != nil {
		return nil, 0, fmt.Errorf("store: list users: %w", err)
	}
	return users, int(total), nil
}

// CountUsers returns the number of accounts.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	n, err := db.coll(colUsers).EstimatedDocumentCount(ctx)
	return int(n), err
}

// CountAdmins returns the number of enabled admin accounts.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	n, err := db.coll(colUsers).CountDocuments(ctx, bson.D{{Key: "roles", Value: auth.RoleAdmin}, {Key: "disabled", Value: false}})
	return int(n), err
}

// UseRecoveryCode removes a recovery code's hash if the user still has it:
// of two requests using the same code at once, only one succeeds.
func (db *DB) UseRecoveryCode(ctx context.Context, userID, hash string) (bool, error) {
	before, err := updateByIDIf(ctx, db, colUsers, userID, bson.D{{Key: "recovery_hashes", Value: hash}},
		func(u *auth.User) bool { return slices.Contains(u.RecoveryHashes, hash) },
		bson.D{{Key: "$pull", Value: bson.D{{Key: "recovery_hashes", Value: hash}}}})
	return before != nil, err
}

// UseTOTPStep records that a user's code for a time step was accepted;
// ECONFLICT when it already was (a replayed code).
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	_, err := db.coll(colTOTPSteps).InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%d", userID, step)}, {Key: "user_id", Value: userID}})
	if mongo.IsDuplicateKeyError(err) {
		return errs.E(errs.ECONFLICT, "code already used")
	}
	return err
}
