// Package audit records who did what, when: append-only events for changes
// to compliance records, certificate revocations and reissues, and every
// view of a decrypted sensitive field.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// Event is one audited action. Before and After hold non-sensitive fields
// only; sensitive values are never copied here.
type Event struct {
	ID      string         `bson:"_id"`
	At      time.Time      `bson:"at"`
	ActorID string         `bson:"actor_id"`
	Actor   string         `bson:"actor"` // name at the time, for reading the log
	OrgID   string         `bson:"org_id,omitempty"`
	Action  string         `bson:"action"` // e.g. certificate.revoke, dbs.reveal
	Target  string         `bson:"target"` // e.g. certificate:K7QX-…, advocate:<id>
	Before  map[string]any `bson:"before,omitempty"`
	After   map[string]any `bson:"after,omitempty"`
	Note    string         `bson:"note,omitempty"`
}

// Query selects events for the audit view.
type Query struct {
	Action, Target, ActorID, OrgID string
	Actor                          string // part of the actor's name, any case
	From, To                       time.Time
	// Before continues a listing after the page that ended there (the
	// cursor a page returns); empty for the newest page.
	Before        string
	Offset, Limit int
}

// Store keeps events; it never deletes them, and changes them only to
// take an erased person's name out.
type Store interface {
	InsertEvent(ctx context.Context, e *Event) error
	Events(ctx context.Context, q Query) ([]Event, int, error)
	EventsPage(ctx context.Context, q Query) (*Page, error)
	Event(ctx context.Context, id string) (*Event, error)

	// Erasure's one exception to append-only (see personal.go).

	// RedactEvent applies redact to the strings of an event; it reports
	// whether the event changed.
	RedactEvent(ctx context.Context, id string, redact func(string) string) (bool, error)
	// RenameActor replaces an actor's rows in the list of people who
	// acted, one per name in from, by one row under the name to.
	RenameActor(ctx context.Context, actorID string, from []string, to string) error
}

// Log writes audit events and reads them back for the audit view. Its
// store stays inside: other packages use the methods.
type Log struct {
	store Store
	Now   func() time.Time
}

// NewLog returns the log on st.
func NewLog(st Store, now func() time.Time) *Log { return &Log{store: st, Now: now} }

// Page is one page of the audit view.
type Page struct {
	Events []Event
	// Total counts every match; -1 when the filters make it unknown
	// without reading the whole trail.
	Total int
	// Next continues the listing after this page (Query.Before); empty on
	// the last page.
	Next string
}

// Events returns a page of events, newest first, and the total matching
// (-1 when unknown).
func (l *Log) Events(ctx context.Context, q Query) ([]Event, int, error) {
	return l.store.Events(ctx, q)
}

// EventsPage returns a page of events, newest first, with the cursor of
// the next page.
func (l *Log) EventsPage(ctx context.Context, q Query) (*Page, error) {
	return l.store.EventsPage(ctx, q)
}

// Record writes one event. It fills in the ID and time when they are not
// set. An event whose ID is set is recorded once however often it is
// given (a follow-up that records it again after a crash).
func (l *Log) Record(ctx context.Context, e Event) error {
	fixed := e.ID != ""
	if !fixed {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		e.ID = hex.EncodeToString(b)
	}
	if e.At.IsZero() {
		e.At = l.Now().UTC()
	}
	err := l.store.InsertEvent(ctx, &e)
	if fixed && errs.Is(err, errs.ECONFLICT) {
		return nil
	}
	return err
}
