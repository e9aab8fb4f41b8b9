package notify

import (
	"context"
	"fmt"
)

// Notify puts n at the top of a user's list of notifications, unless one
// with its ID is there already (so a retried caller adds it once).
func (m *Mailer) Notify(ctx context.Context, userID string, n Notification) error {
	if n.At.IsZero() {
		n.At = m.Now().UTC()
	}
	if _, err := m.outbox.AddNotification(ctx, userID, n); err != nil {
		return fmt.Errorf("notify: add notification: %w", err)
	}
	return nil
}

// EraseMessages deletes messages (those sent to an erased person), with
// their places in the outbox's lists and delivery queue, and then the
// lists of messages to their addresses.
func (m *Mailer) EraseMessages(ctx context.Context, ids, addresses []string) error {
	for _, id := range ids {
		if err := m.outbox.DeleteMessage(ctx, id); err != nil {
			return fmt.Errorf("notify: delete message %s: %w", id, err)
		}
	}
	for _, a := range addresses {
		if err := m.outbox.DropAddressList(ctx, a); err != nil {
			return fmt.Errorf("notify: messages to an address: %w", err)
		}
	}
	return nil
}

// EraseInbox deletes a user's list of notifications.
func (m *Mailer) EraseInbox(ctx context.Context, userID string) error {
	return m.outbox.DeleteInbox(ctx, userID)
}

// RedactMentions applies redact (which replaces an erased person's name
// and email) to other people's messages and lists of notifications that
// name them, and returns how many changed.
func (m *Mailer) RedactMentions(ctx context.Context, messages, inboxes []string, redact func(string) string) (int, error) {
	n := 0
	for _, id := range messages {
		changed, err := m.outbox.RedactMessage(ctx, id, redact)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	for _, owner := range inboxes {
		changed, err := m.outbox.RedactInbox(ctx, owner, redact)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}
