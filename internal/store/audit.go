package store

import (
	"context"
	"fmt"

	"github.com/family-advocacy/lms/internal/audit"
)

const colAudit = "audit_events"

// InsertEvent appends an audit event, entered first in its lists (see
// audit_index.go).
func (db *DB) InsertEvent(ctx context.Context, e *audit.Event) error {
	if err := db.indexEvent(ctx, e); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return insertOnce(ctx, db.coll(colAudit), e, "audit event") // ECONFLICT: recorded already
}

// Events returns a page of events, newest first, the total matching (-1
// when the filters make it unknown) and the cursor of the next page.
func (db *DB) Events(ctx context.Context, q audit.Query) ([]audit.Event, int, error) {
	evs, total, _, err := db.events(ctx, q)
	return evs, total, err
}

// EventsPage returns a page of events, newest first, with the total (-1
// when unknown) and the cursor of the next page (see audit_index.go).
func (db *DB) EventsPage(ctx context.Context, q audit.Query) (*audit.Page, error) {
	evs, total, next, err := db.events(ctx, q)
	if err != nil {
		return nil, err
	}
	return &audit.Page{Events: evs, Total: total, Next: next}, nil
}
