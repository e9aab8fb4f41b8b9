package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Data-rights requests (a person asking for a copy of their data, or for
// it to be erased) are one document each in rights_requests, found by
// two lists, so the admins' queue is a page of rows and the requests they
// name however many there have been:
//
//	rights        every request, newest received first (counted, paged)
//	rights@open   the open ones (received or identity checked), soonest
//	              due first: a short list, read whole for the queue and
//	              the daily reminder
//
// A request about an account is also a row of that person's list
// (person/<user>), so their data download and erasure find it. Rows are
// written before the request and an open row removed after the request
// is closed; a row whose request is missing, or closed, is skipped.
const colRights = "rights_requests"

// RightsRequest is one data-rights request and what was done about it.
type RightsRequest struct {
	ID        string       `bson:"_id"`
	Kind      string       `bson:"kind"`      // access or erasure
	Requester string       `bson:"requester"` // who asked, as they gave their name
	Contact   string       `bson:"contact"`   // where to answer them (an email or postal address)
	How       string       `bson:"how"`       // how it came: email, letter, phone, in person, in the app
	UserID    string       `bson:"user_id,omitempty"`
	Received  time.Time    `bson:"received"` // the London day it arrived (midnight)
	Due       time.Time    `bson:"due"`      // the day the answer is due by
	Status    string       `bson:"status"`
	Reason    string       `bson:"reason,omitempty"` // why it was refused
	Steps     []RightsStep `bson:"steps"`
	Created   time.Time    `bson:"created_at"`
	Version   int64        `bson:"version"`
}

// RightsStep is one change of a request's status: who, when, to what.
type RightsStep struct {
	At     time.Time `bson:"at"`
	ByID   string    `bson:"by_id"`
	By     string    `bson:"by"`
	Status string    `bson:"status"`
	Note   string    `bson:"note,omitempty"`
}

// Open reports whether the request still needs an answer.
func (r *RightsRequest) Open() bool { return r.Status == "received" || r.Status == "identity-checked" }

var (
	rightsAllSpec  = listSpec{prefix: 4, desc: true} // a bucket per year received, split as it grows
	rightsOpenSpec = listSpec{}
)

func (db *DB) rightsAll() list  { return db.list("rights", rightsAllSpec) }
func (db *DB) rightsOpen() list { return db.list("rights@open", rightsOpenSpec) }

func rightsSort(r *RightsRequest) string { return r.Received.UTC().Format("20060102") + "/" + r.ID }
func rightsDueSort(r *RightsRequest) string {
	return r.Due.UTC().Format("20060102") + "/" + r.ID
}

// InsertRightsRequest records a new request: its rows first, then the
// request (ECONFLICT when one with its ID exists already).
func (db *DB) InsertRightsRequest(ctx context.Context, r *RightsRequest) error {
	if r.UserID != "" {
		if err := db.notePerson(ctx, r.UserID, Ref{Collection: colRights, ID: r.ID}); err != nil {
			return err
		}
	}
	if err := db.rightsAll().Add(ctx, r.ID, rightsSort(r), bson.D{}); err != nil {
		return fmt.Errorf("store: list rights request: %w", err)
	}
	if r.Open() {
		if err := db.rightsOpen().Add(ctx, r.ID, rightsDueSort(r), bson.D{}); err != nil {
			return fmt.Errorf("store: list rights request: %w", err)
		}
	}
	return insertOnce(ctx, db.coll(colRights), r, "data-rights request")
}

// RightsRequest returns one request.
func (db *DB) RightsRequest(ctx context.Context, id string) (*RightsRequest, error) {
	return findByID[RightsRequest](ctx, db.coll(colRights), id, "data-rights request")
}

// SetRightsStatus moves a request from one status to another, adding the
// step, in one write conditional on its status still being from; it
// reports false, changing nothing, when it is not. A request that closes
// leaves the open list after.
func (db *DB) SetRightsStatus(ctx context.Context, id, from string, step RightsStep, reason string) (bool, error) {
	set := bson.D{{Key: "status", Value: step.Status}}
	if reason != "" {
		set = append(set, bson.E{Key: "reason", Value: reason})
	}
	before, err := updateByIDIf(ctx, db, colRights, id, bson.D{{Key: "status", Value: from}},
		func(r *RightsRequest) bool { return r.Status == from },
		bson.D{{Key: "$set", Value: set}, {Key: "$push", Value: bson.D{{Key: "steps", Value: step}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil || before == nil {
		return false, err
	}
	after := *before
	after.Status = step.Status
	if !after.Open() {
		if err := db.rightsOpen().Remove(ctx, id, rightsDueSort(before)); err != nil {
			return true, fmt.Errorf("store: unlist rights request: %w", err)
		}
	}
	return true, nil
}

// RightsRequests returns a page of every request, newest received first,
// and how many there are.
func (db *DB) RightsRequests(ctx context.Context, offset, limit int) ([]*RightsRequest, int, error) {
	rows, total, err := db.rightsAll().Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	rs, err := readRows[RightsRequest](ctx, db, colRights, rows)
	if err != nil {
		return nil, 0, err
	}
	return present(rs), total, nil
}

// OpenRightsRequests returns every open request, soonest due first.
func (db *DB) OpenRightsRequests(ctx context.Context) ([]*RightsRequest, error) {
	var rows []Row
	if err := db.rightsOpen().Scan(ctx, "", func(r Row) (bool, error) { rows = append(rows, r); return true, nil }); err != nil {
		return nil, err
	}
	rs, err := readRows[RightsRequest](ctx, db, colRights, rows)
	if err != nil {
		return nil, err
	}
	var out []*RightsRequest
	for _, r := range present(rs) {
		if r.Open() {
			out = append(out, r)
		}
	}
	return out, nil
}

// RedactRightsRequest applies redact to who asked, how to answer them and
// the notes of each step (erasure: the request stays, as the record that
// it was dealt with); it reports whether the request changed.
func (db *DB) RedactRightsRequest(ctx context.Context, id string, redact func(string) string) (bool, error) {
	r, err := db.RightsRequest(ctx, id)
	if err != nil {
		return false, err
	}
	changed := false
	red := func(s string) string {
		out := redact(s)
		changed = changed || out != s
		return out
	}
	set := bson.D{{Key: "requester", Value: red(r.Requester)}, {Key: "contact", Value: red(r.Contact)}, {Key: "reason", Value: red(r.Reason)}}
	steps := make([]RightsStep, len(r.Steps))
	for i, st := range r.Steps {
		st.Note = red(st.Note)
		steps[i] = st
	}
	if !changed {
		return false, nil
	}
	set = append(set, bson.E{Key: "steps", Value: steps})
	return true, db.updateByID(ctx, colRights, id, bson.D{{Key: "$set", Value: set}})
}

// present drops the requests a row named that are not there.
func present[T any](rs []*T) []*T {
	out := make([]*T, 0, len(rs))
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}
