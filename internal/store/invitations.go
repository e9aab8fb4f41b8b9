package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
)

// Invitations live on the account (auth.User.Invitation): each change is
// one conditional write of the user's document by _id, so a link is used
// once and a new link ends the old one whatever requests race (see
// auth/invitations.go). Nothing a list of people shows changes, so the
// lists are not touched.

// SetInvitation replaces the invitation of an account that has no
// password and whose invitation's token hash is prev (and sets disabled,
// when given); it reports whether it did.
func (db *DB) SetInvitation(ctx context.Context, userID, prev string, next *auth.Invitation, disabled *bool, now time.Time) (bool, error) {
	set := bson.D{{Key: "invitation", Value: next}, {Key: "updated_at", Value: now}}
	if disabled != nil {
		set = append(set, bson.E{Key: "disabled", Value: *disabled})
	}
	before, err := updateByIDIf(ctx, db, colUsers, userID,
		bson.D{{Key: "password_hash", Value: ""}, {Key: "invitation.token_hash", Value: prev}},
		func(u *auth.User) bool {
			return u.PasswordHash == "" && u.Invitation != nil && u.Invitation.TokenHash == prev
		},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	return before != nil, err
}

// AcceptInvitation sets the first password of an enabled account whose
// invitation's token hash is hash, ends the invitation and removes any
// pending address confirmation, in one conditional write.
func (db *DB) AcceptInvitation(ctx context.Context, userID, hash, passwordHash string, at time.Time) (bool, error) {
	if hash == "" {
		return false, nil
	}
	before, err := updateByIDIf(ctx, db, colUsers, userID,
		bson.D{{Key: "password_hash", Value: ""}, {Key: "disabled", Value: false}, {Key: "invitation.token_hash", Value: hash}},
		func(u *auth.User) bool {
			return u.PasswordHash == "" && !u.Disabled && u.Invitation != nil && u.Invitation.TokenHash == hash
		},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "password_hash", Value: passwordHash}, {Key: "invitation.token_hash", Value: ""},
				{Key: "invitation.accepted_at", Value: at}, {Key: "updated_at", Value: at}}},
			{Key: "$unset", Value: bson.D{{Key: "email_confirm", Value: ""}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		})
	return before != nil, err
}
