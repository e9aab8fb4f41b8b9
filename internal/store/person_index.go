package store

import (
	"context"
	"strings"

	"github.com/family-advocacy/lms/internal/learning"
)

// Each person has a list, "person/<user id>", of the records about them
// that cannot be found from their ID alone (messages to them, their
// enrolments and certificates, jobs they started, password resets) and of
// the records of other people that mention them ("m/" rows: a manager's
// reminder naming an advocate, a notification about them). It is written
// with the record, before it, so the data download and erasure read the
// person's documents by _id and never search a collection for them.
//
// Records keyed by the person's ID (the account, notifications, the
// advocate record, TOTP steps) need no row; nor do those reached from a
// listed record (attempts and submissions from an enrolment, revisions
// and hashes from a certificate), or those with a list of their own
// (sessions@<id>, audit@actor/<id>, audit@target/user:<id>).
var personSpec = listSpec{prefix: 0, uncounted: true}

func (db *DB) personList(userID string) list { return db.list("person/"+userID, personSpec) }

// Ref names one document.
type Ref struct {
	Collection string
	ID         string
	Mention    bool // a record about someone else that mentions the person
}

func refKey(r Ref) string {
	k := r.Collection + "/" + r.ID
	if r.Mention {
		k = "m/" + k
	}
	return k
}

// notePerson enters a record in the person's list (before it is written).
func (db *DB) notePerson(ctx context.Context, userID string, r Ref) error {
	if userID == "" {
		return nil
	}
	k := refKey(r)
	return db.personList(userID).Add(ctx, k, k, struct{}{})
}

// forgetPerson takes a record out of the person's list (after it is deleted).
func (db *DB) forgetPerson(ctx context.Context, userID string, r Ref) error {
	if userID == "" {
		return nil
	}
	k := refKey(r)
	return db.personList(userID).Remove(ctx, k, k)
}

// PersonRefs returns every record the person's list names, in no
// particular order.
func (db *DB) PersonRefs(ctx context.Context, userID string) ([]Ref, error) {
	var out []Ref
	err := db.personList(userID).Scan(ctx, "", func(r Row) (bool, error) {
		k, mention := strings.CutPrefix(r.Key, "m/")
		coll, id, ok := strings.Cut(k, "/")
		if ok {
			out = append(out, Ref{Collection: coll, ID: id, Mention: mention})
		}
		return true, nil
	})
	return out, err
}

// DropPersonList deletes the person's list (the last step of an erasure).
func (db *DB) DropPersonList(ctx context.Context, userID string) error {
	return db.personList(userID).Drop(ctx)
}

// indexEnrolment enters an enrolment in its learner's list.
func (db *DB) indexEnrolment(ctx context.Context, e *learning.Enrolment) error {
	return db.notePerson(ctx, e.UserID, Ref{Collection: colEnrolments, ID: e.ID})
}
