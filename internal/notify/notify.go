// Package notify sends messages to people: email through SMTP when
// configured, otherwise into the outbox collection that admins can read.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Message is one email.
type Message struct {
	ID      string    `bson:"_id"`
	To      string    `bson:"to"`
	Subject string    `bson:"subject"`
	Text    string    `bson:"text"`
	Kind    string    `bson:"kind"` // e.g. password_reset, reminder
	UserID  string    `bson:"user_id,omitempty"`
	Created time.Time `bson:"created_at"`
	Sent    time.Time `bson:"sent_at,omitempty"`
}

// OutboxStore keeps messages in the outbox collection.
type OutboxStore interface {
	InsertMessage(ctx context.Context, m *Message) error
}

// OutboxReader reads the outbox for the admin pages.
type OutboxReader interface {
	Messages(ctx context.Context, to string, offset, limit int) ([]Message, int, error)
	Message(ctx context.Context, id string) (*Message, error)
}

// Mailer delivers messages. Without SMTP it only records them in the outbox.
type Mailer struct {
	Outbox OutboxStore
	Now    func() time.Time
}

// Send records m in the outbox (and, once SMTP is configured, delivers it).
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if msg.ID == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		msg.ID = hex.EncodeToString(b)
	}
	if msg.Created.IsZero() {
		msg.Created = m.Now().UTC()
	}
	return m.Outbox.InsertMessage(ctx, &msg)
}
