package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

// The single-document writes erasure makes, one domain at a time: each
// implements a method of that domain's store interface, and each is
// idempotent (deleting what is gone already does nothing). A record is
// deleted before the rows that name it, as everywhere in the store.

func (db *DB) deleteByID(ctx context.Context, coll, id string) error {
	if _, err := db.coll(coll).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("store: delete %s %s: %w", coll, id, err)
	}
	return nil
}

// Accounts.

// DeleteTOTPStep forgets the last time step a user signed in with.
func (db *DB) DeleteTOTPStep(ctx context.Context, userID string) error {
	return db.deleteByID(ctx, colTOTPSteps, userID)
}

// DropUserSessionList deletes a user's list of sessions (erasure, once
// every session is deleted).
func (db *DB) DropUserSessionList(ctx context.Context, userID string) error {
	return db.userSessions(userID).Drop(ctx)
}

// UnlistUser removes from the lists of people the rows an account had as
// old that it no longer has as cur (UpdateUser does so after each write;
// erasure repeats it, so that a crash in between leaves no row with the
// old name or email).
func (db *DB) UnlistUser(ctx context.Context, old, cur *auth.User) error {
	return db.unindexUser(ctx, old, cur)
}

// Learning.

// DeleteEnrolment deletes an enrolment, then its completion's rows, its
// hand-over queue items and its row in its learner's list.
func (db *DB) DeleteEnrolment(ctx context.Context, e *learning.Enrolment) error {
	if err := db.deleteByID(ctx, colEnrolments, e.ID); err != nil {
		return err
	}
	if e.Completion != nil {
		if err := db.unindexCompletion(ctx, e, e.Completion); err != nil {
			return err
		}
	}
	for _, marker := range learning.PendingMarkers {
		if err := db.DoneWork(ctx, handoverQueue(marker), e.ID); err != nil {
			return err
		}
	}
	return db.forgetPerson(ctx, e.UserID, Ref{Collection: colEnrolments, ID: e.ID})
}

// DeleteAttempt deletes a drawn paper.
func (db *DB) DeleteAttempt(ctx context.Context, id string) error {
	return db.deleteByID(ctx, colAttempts, id)
}

// DeleteSubmission deletes a submitted attempt, and its queue item.
func (db *DB) DeleteSubmission(ctx context.Context, id string) error {
	if err := db.deleteByID(ctx, colSubmissions, id); err != nil {
		return err
	}
	return db.DoneWork(ctx, QueueSubmissions, id)
}

// Certificates.

// DeleteCertificate deletes a certificate, then its rows and queue items.
func (db *DB) DeleteCertificate(ctx context.Context, c *certificates.Certificate) error {
	if err := db.deleteByID(ctx, colCertificates, c.Code); err != nil {
		return err
	}
	for _, q := range []string{QueueCertificates, QueueReissue} {
		if err := db.DoneWork(ctx, q, c.Code); err != nil {
			return err
		}
	}
	return db.unindexCertificate(ctx, c)
}

// UnlistCertificateExpiry takes a certificate out of the list of those
// that expire (no renewal reminder goes to an erased holder).
func (db *DB) UnlistCertificateExpiry(ctx context.Context, c *certificates.Certificate) error {
	if c.ExpiresAt == nil {
		return nil
	}
	return db.certExpiries().Remove(ctx, c.Code, certExpirySort(c))
}

// DeleteClaim deletes a completion's claim.
func (db *DB) DeleteClaim(ctx context.Context, key string) error {
	return db.deleteByID(ctx, colCertClaims, key)
}

// DeleteHash deletes an issued file's hash.
func (db *DB) DeleteHash(ctx context.Context, sha string) error {
	return db.deleteByID(ctx, colCertHashes, sha)
}

// EraseRevisionName removes the name from revision n of a certificate
// and sets its reason (as redacted by the caller).
func (db *DB) EraseRevisionName(ctx context.Context, code string, n int, reason string) error {
	_, err := db.coll(colCertRevs).UpdateOne(ctx, bson.D{{Key: "_id", Value: code + "/" + strconv.Itoa(n)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: ""}, {Key: "reason", Value: reason}}}})
	if err != nil {
		return fmt.Errorf("store: erase name of revision %s/%d: %w", code, n, err)
	}
	return nil
}

// DeleteJob deletes a bulk job, then its queue item and its row in its
// starter's list.
func (db *DB) DeleteJob(ctx context.Context, j *certificates.Job) error {
	if err := db.deleteByID(ctx, colJobs, j.ID); err != nil {
		return err
	}
	if err := db.DoneWork(ctx, QueueJobs, j.ID); err != nil {
		return err
	}
	return db.forgetPerson(ctx, j.By, Ref{Collection: colJobs, ID: j.ID})
}

// Messages and notifications.

// DropAddressList deletes the list of messages to an address (erasure,
// once every message to it is deleted): its name is a hash of the address.
func (db *DB) DropAddressList(ctx context.Context, email string) error {
	return db.outboxTo(email).Drop(ctx)
}

// RedactMessage applies redact to the text of a message (its subject,
// bodies and any other string).
func (db *DB) RedactMessage(ctx context.Context, id string, redact func(string) string) (bool, error) {
	return db.redactDoc(ctx, colOutbox, id, redact)
}

// DeleteInbox deletes a user's notifications, then the rows that told the
// people they named.
func (db *DB) DeleteInbox(ctx context.Context, userID string) error {
	in, err := db.Inbox(ctx, userID)
	if err != nil {
		return err
	}
	if err := db.deleteByID(ctx, colNotifications, userID); err != nil {
		return err
	}
	var about []string
	for _, n := range in.Items {
		about = append(about, n.About...)
	}
	slices.Sort(about)
	for _, a := range slices.Compact(about) {
		if a == userID {
			continue
		}
		if err := db.forgetPerson(ctx, a, Ref{Collection: colNotifications, ID: userID, Mention: true}); err != nil {
			return err
		}
	}
	return nil
}

// RedactInbox applies redact to the text of a user's notifications.
func (db *DB) RedactInbox(ctx context.Context, userID string, redact func(string) string) (bool, error) {
	return db.redactDoc(ctx, colNotifications, userID, redact)
}

// Compliance.

// DeleteAdvocate deletes an advocate's compliance record, then its rows.
func (db *DB) DeleteAdvocate(ctx context.Context, id string) error {
	a, err := db.Advocate(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		return db.advocateList().Remove(ctx, id, id)
	}
	if err != nil {
		return err
	}
	if err := db.deleteByID(ctx, colAdvocates, id); err != nil {
		return err
	}
	if s := endedSort(a); s != "" {
		if err := db.endedList().Remove(ctx, id, s); err != nil {
			return err
		}
	}
	return db.advocateList().Remove(ctx, id, id)
}

// The audit trail: kept, with the erased person's name and email taken out.

// Event returns one audit event.
func (db *DB) Event(ctx context.Context, id string) (*audit.Event, error) {
	return findByID[audit.Event](ctx, db.coll(colAudit), id, "event")
}

// RedactEvent applies redact to the strings of an audit event (who acted,
// the note, the values before and after).
func (db *DB) RedactEvent(ctx context.Context, id string, redact func(string) string) (bool, error) {
	return db.redactDoc(ctx, colAudit, id, redact)
}

// RenameActor replaces an actor's rows in the list of people who acted
// (one per name they acted under) by one row under the name to, which
// is what their events now show.
func (db *DB) RenameActor(ctx context.Context, actorID string, from []string, to string) error {
	l := db.auditActors()
	if to != "" {
		key := actorID + "\x00" + to
		if err := l.Add(ctx, key, foldName(to)+"\x00"+key, auditActor{ID: actorID, Name: to}); err != nil {
			return err
		}
	}
	for _, name := range from {
		if name == to {
			continue
		}
		key := actorID + "\x00" + name
		if err := l.Remove(ctx, key, foldName(name)+"\x00"+key); err != nil {
			return err
		}
	}
	return nil
}
