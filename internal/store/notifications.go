package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// Each user's in-app notifications are one document keyed by the user's ID
// (a point read for the list); job leases are documents keyed by job name.
const (
	colNotifications = "notifications"
	colLeases        = "leases"
)

// inboxLimit is how many notifications a user's list keeps.
const inboxLimit = 100

// AddNotification puts n at the top of the user's list unless a
// notification with its ID is there already; it reports whether it was
// new. A notification already there costs one point read and no write
// (reminder runs offer the same one every day until its stage passes). The
// people it names are told in their lists first.
func (db *DB) AddNotification(ctx context.Context, userID string, n notify.Notification) (bool, error) {
	if in, err := db.Inbox(ctx, userID); err != nil {
		return false, err
	} else if slices.ContainsFunc(in.Items, func(x notify.Notification) bool { return x.ID == n.ID }) {
		return false, nil
	}
	for _, about := range n.About {
		if about != userID {
			if err := db.notePerson(ctx, about, Ref{Collection: colNotifications, ID: userID, Mention: true}); err != nil {
				return false, err
			}
		}
	}
	added := false
	_, err := updateVersioned(ctx, db, colNotifications, userID, "notifications", true, func(in *notify.Inbox, exists bool) error {
		in.UserID = userID
		if slices.ContainsFunc(in.Items, func(x notify.Notification) bool { return x.ID == n.ID }) {
			return errNoChange
		}
		added = true
		in.Items = append([]notify.Notification{n}, in.Items...)
		if len(in.Items) > inboxLimit {
			in.Items = in.Items[:inboxLimit]
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return added, err
}

// Inbox returns a user's notifications, newest first (empty when none).
func (db *DB) Inbox(ctx context.Context, userID string) (*notify.Inbox, error) {
	in, err := findByID[notify.Inbox](ctx, db.coll(colNotifications), userID, "notifications")
	if errs.Is(err, errs.ENOTFOUND) {
		return &notify.Inbox{UserID: userID}, nil
	}
	return in, err
}

// MarkNotificationsRead marks every notification of a user read.
func (db *DB) MarkNotificationsRead(ctx context.Context, userID string, at time.Time) error {
	_, err := updateVersioned(ctx, db, colNotifications, userID, "notifications", true, func(in *notify.Inbox, _ bool) error {
		in.UserID = userID
		for i := range in.Items {
			if in.Items[i].ReadAt == nil {
				in.Items[i].ReadAt = &at
			}
		}
		return nil
	})
	return err
}

// lease is who runs a scheduled job until when, and the last day it finished.
type lease struct {
	Name    string    `bson:"_id"`
	Owner   string    `bson:"owner"`
	Until   time.Time `bson:"until"`
	Taken   time.Time `bson:"taken_at"`
	DoneDay string    `bson:"done_day"`
}

// TakeLease gives owner the named job until the given time, unless another
// owner holds an unexpired lease or the job is already done for day. One
// conditional single-document update (or the first insert) decides.
func (db *DB) TakeLease(ctx context.Context, name, owner, day string, now, until time.Time) (bool, error) {
	old, err := updateByIDIf(ctx, db, colLeases, name,
		bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}, {Key: "done_day", Value: bson.D{{Key: "$ne", Value: day}}}},
		func(l *lease) bool { return l.Until.Before(now) && l.DoneDay != day },
		bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: owner}, {Key: "until", Value: until}, {Key: "taken_at", Value: now}}}})
	if err != nil {
		return false, fmt.Errorf("store: take lease %s: %w", name, err)
	}
	if old != nil {
		return true, nil
	}
	_, err = db.coll(colLeases).InsertOne(ctx, lease{Name: name, Owner: owner, Until: until, Taken: now})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil // someone holds it, or it is done for the day
	}
	return err == nil, err
}

// ownedBy updates owner's lease; false when owner no longer holds it.
func (db *DB) ownedBy(ctx context.Context, name, owner string, set bson.D) (bool, error) {
	old, err := updateByIDIf(ctx, db, colLeases, name, bson.D{{Key: "owner", Value: owner}},
		func(l *lease) bool { return l.Owner == owner }, bson.D{{Key: "$set", Value: set}})
	return old != nil, err
}

// RenewLease extends owner's lease; false when owner no longer holds it.
func (db *DB) RenewLease(ctx context.Context, name, owner string, until time.Time) (bool, error) {
	return db.ownedBy(ctx, name, owner, bson.D{{Key: "until", Value: until}})
}

// FinishLease records the job done for day and releases owner's lease.
func (db *DB) FinishLease(ctx context.Context, name, owner, day string, now time.Time) error {
	_, err := db.ownedBy(ctx, name, owner, bson.D{{Key: "done_day", Value: day}, {Key: "until", Value: now}})
	return err
}
