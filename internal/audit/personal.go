package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/family-advocacy/lms/internal/errs"
)

// The audit trail is append-only, with one exception: when a person's data
// is erased, the events they caused and those about them stay (who did
// what, when) but their name and email are taken out of them.

// RecordOnce writes an event with a fixed ID unless it exists already (a
// step of an idempotent job, which may run again after a crash).
func (l *Log) RecordOnce(ctx context.Context, e Event) error {
	if e.ID == "" {
		return errors.New("audit: RecordOnce needs an event ID")
	}
	_, err := l.store.Event(ctx, e.ID)
	if err == nil {
		return nil
	}
	if !errs.Is(err, errs.ENOTFOUND) {
		return err
	}
	return l.Record(ctx, e)
}

// RedactPerson takes an erased person out of the trail: the list of people
// who acted names them under as (instead of each name in names), and
// redact (which replaces their name and email) is applied to the events
// (ids: those they caused and those about them). It returns how many
// events changed. The list goes first: the names are found from the
// events, which no longer show them afterwards.
func (l *Log) RedactPerson(ctx context.Context, userID string, names []string, as string, ids []string, redact func(string) string) (int, error) {
	if len(names) > 0 {
		if err := l.store.RenameActor(ctx, userID, names, as); err != nil {
			return 0, fmt.Errorf("audit: rename actor: %w", err)
		}
	}
	n := 0
	for _, id := range ids {
		changed, err := l.store.RedactEvent(ctx, id, redact)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}
