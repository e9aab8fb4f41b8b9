// Package notify sends messages to people. Every message is first written
// to the outbox collection under an ID chosen by the caller (so the same
// reminder queued twice is one message); with SMTP configured a delivery
// step then sends queued messages and marks them sent, retrying with
// back-off. Without SMTP the outbox is the record, readable by admins. The
// bodies of secret messages (password reset and invitation links) are kept
// encrypted and are readable by no one: only delivery opens them.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/lifecycle"
	"github.com/family-advocacy/lms/internal/secrets"
)

// Message statuses.
const (
	StatusRecorded = "recorded" // no SMTP configured: kept in the outbox only
	StatusQueued   = "queued"   // waiting for (another attempt at) delivery
	StatusSent     = "sent"
	StatusFailed   = "failed" // gave up after MaxAttempts
)

// MaxAttempts is how often delivery is tried before a message is marked failed.
const MaxAttempts = 8

// Message is one email.
type Message struct {
	ID      string `bson:"_id"`
	To      string `bson:"to"`
	Subject string `bson:"subject"`
	Text    string `bson:"text"`
	HTML    string `bson:"html,omitempty"`
	Kind    string `bson:"kind"` // e.g. password_reset, reminder, digest
	UserID  string `bson:"user_id,omitempty"`
	// About lists the other people the message names (an advocate in a
	// reminder to their manager), so erasing one of them finds it.
	About   []string  `bson:"about,omitempty"`
	Created time.Time `bson:"created_at"`
	Sent    time.Time `bson:"sent_at,omitempty"`
	// Secret marks a message whose body carries a secret (a password reset,
	// invitation or other one-time link). Its bodies are kept encrypted in the outbox,
	// opened only to deliver it, and never shown to staff (see Redacted).
	Secret bool `bson:"secret,omitempty"`
	// Calendar, when set, is an iCalendar invitation (METHOD:REQUEST or
	// CANCEL) sent with the message as invite.ics.
	Calendar string `bson:"calendar,omitempty"`

	Status   string    `bson:"status"`
	Attempts int       `bson:"attempts"`
	NextTry  time.Time `bson:"next_try"` // not before; also the lease of an attempt in progress
	Error    string    `bson:"error,omitempty"`
}

// SecretNotShown stands in for the body of a secret message wherever
// people read the outbox (the admin pages, a person's data download).
const SecretNotShown = "This message contains a one-time link that only its recipient may use, so it is not shown."

// Redacted returns the message as staff may see it: a secret message's
// bodies are replaced by SecretNotShown (subject and recipient stay).
func (m Message) Redacted() Message {
	if m.Secret {
		m.Text, m.HTML = SecretNotShown, ""
	}
	return m
}

// bodyContext binds a sealed body to its message and part, so a sealed
// body cannot be moved to another message.
func bodyContext(id, part string) string { return "outbox:" + id + ":" + part }

// OutboxStore keeps messages in the outbox collection.
type OutboxStore interface {
	// InsertMessage stores m unless a message with its ID exists; it
	// reports whether m was new.
	InsertMessage(ctx context.Context, m *Message) (bool, error)
	// ClaimMessage takes a queued message whose NextTry has come for one
	// attempt, moving NextTry to until; nil when another attempt has it.
	ClaimMessage(ctx context.Context, id string, now, until time.Time) (*Message, error)
	// FinishAttempt records an attempt's outcome.
	FinishAttempt(ctx context.Context, id string, o AttemptOutcome) error
	// DueMessages lists queued messages whose NextTry has come.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]string, error)

	// AddNotification puts n at the top of a user's list unless it is
	// there already; it reports whether it was new.
	AddNotification(ctx context.Context, userID string, n Notification) (bool, error)

	// Erasure (see personal.go).
	DeleteMessage(ctx context.Context, id string) error
	DropAddressList(ctx context.Context, email string) error
	RedactMessage(ctx context.Context, id string, redact func(string) string) (bool, error)
	DeleteInbox(ctx context.Context, userID string) error
	RedactInbox(ctx context.Context, userID string, redact func(string) string) (bool, error)
}

// AttemptOutcome is what a delivery attempt leaves on its message: the new
// status and error ("" when delivered), and when it was sent or, when it
// was not, when to try again. Its fields are named as Message's.
type AttemptOutcome struct {
	Status  string
	Sent    *time.Time // nil: unchanged
	NextTry *time.Time // nil: unchanged
	Error   string
}

// OutboxReader reads the outbox for the admin pages.
type OutboxReader interface {
	Messages(ctx context.Context, to string, offset, limit int) ([]Message, int, error)
	Message(ctx context.Context, id string) (*Message, error)
}

// Sender opens sessions with a mail server (SMTP in production and tests).
type Sender interface {
	// Open connects to the server for one or more messages.
	Open(ctx context.Context) (Session, error)
}

// Session is one connection to a mail server, reused for many messages.
type Session interface {
	Send(ctx context.Context, m *Message) error
	Close() error
}

// DefaultWorkers is how many messages are delivered at once unless the
// Mailer says otherwise.
const DefaultWorkers = 4

// Mailer queues and delivers messages. Its outbox stays inside: other
// packages use the methods. Delivery runs in a fixed pool of workers, each
// keeping its connection to the mail server between messages, fed from
// the outbox: a message is handed to the pool as it is queued, and the
// ones left over (a full pool, a retry after back-off, a restart) by
// DeliverDue.
type Mailer struct {
	outbox OutboxStore
	Sender Sender // nil: messages are only recorded in the outbox
	Now    func() time.Time
	Log    *slog.Logger
	// Box encrypts the bodies of secret messages at rest (the key of the
	// other sensitive fields); a secret message cannot be queued without it.
	Box *secrets.Box
	// Workers is the size of the delivery pool (DefaultWorkers when 0).
	Workers int

	startOnce sync.Once
	group     *lifecycle.Group // owns the workers
	ownGroup  bool             // the group was made here (no Start): Close stops it
	queue     chan delivery
	pending   sync.WaitGroup // handed to the pool and not yet attempted
}

// delivery is one message handed to the pool; done, when set, is told
// once it has been attempted.
type delivery struct {
	id   string
	done *sync.WaitGroup
}

// NewMailer returns a mailer on the outbox; sender may be nil (messages
// are then only recorded).
func NewMailer(outbox OutboxStore, sender Sender, now func() time.Time, log *slog.Logger) *Mailer {
	return &Mailer{outbox: outbox, Sender: sender, Now: now, Log: log}
}

// Start runs the delivery workers in g, which stops them at shutdown.
// Without Start, the first message to deliver starts them in a group of
// the Mailer's own (stopped by Close).
func (m *Mailer) Start(g *lifecycle.Group) { m.start(g) }

func (m *Mailer) start(g *lifecycle.Group) {
	m.startOnce.Do(func() {
		if g == nil {
			g, m.ownGroup = lifecycle.New(context.Background()), true
		}
		m.group = g
		n := m.Workers
		if n <= 0 {
			n = DefaultWorkers
		}
		m.queue = make(chan delivery, 256)
		for range n {
			g.Go(m.worker)
		}
	})
}

// Close stops workers the Mailer started itself (see Start).
func (m *Mailer) Close() {
	if m.ownGroup {
		m.group.Stop(0)
	}
}

// Wait waits until every message handed to the pool so far has been
// attempted (at shutdown, and in tests).
func (m *Mailer) Wait() { m.pending.Wait() }

// NewID returns a random message ID.
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Send queues msg (recording it once, whatever the retries: the caller may
// fix msg.ID) and hands it to the delivery pool. It reports whether the
// message was new.
func (m *Mailer) Send(ctx context.Context, msg Message) (bool, error) {
	if msg.ID == "" {
		msg.ID = NewID()
	}
	if msg.To == "" {
		return false, errs.E(errs.EINVALID, "A message needs a recipient.")
	}
	now := m.Now().UTC()
	if msg.Created.IsZero() {
		msg.Created = now
	}
	if msg.Secret {
		if m.Box == nil {
			return false, errs.E(errs.EINTERNAL, "notify: a message with a secret needs the encryption key")
		}
		msg.Text, msg.HTML = m.Box.Seal(msg.Text, bodyContext(msg.ID, "text")), m.Box.Seal(msg.HTML, bodyContext(msg.ID, "html"))
	}
	msg.Status, msg.NextTry = StatusRecorded, now
	if m.Sender != nil {
		msg.Status = StatusQueued
	}
	fresh, err := m.outbox.InsertMessage(ctx, &msg)
	if err != nil {
		return false, fmt.Errorf("notify: queue message: %w", err)
	}
	if fresh && m.Sender != nil {
		// In the background: the caller's response must not wait for (or,
		// on a password reset, reveal by its timing) the mail server. A
		// full pool leaves the message to DeliverDue.
		m.start(nil)
		m.pending.Add(1)
		select {
		case m.queue <- delivery{id: msg.ID}:
		default:
			m.pending.Done()
		}
	}
	return fresh, nil
}

// sessionIdle is how long a worker keeps an idle connection open.
const sessionIdle = 20 * time.Second

// worker delivers messages from the queue until ctx ends, keeping one
// connection to the mail server open between them.
func (m *Mailer) worker(ctx context.Context) error {
	var sess Session
	closeSession := func() {
		if sess != nil {
			_ = sess.Close()
			sess = nil
		}
	}
	defer closeSession()
	idle := time.NewTimer(sessionIdle)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			m.drain()
			return nil
		case <-idle.C:
			closeSession()
			continue
		case d := <-m.queue:
			m.deliver(ctx, d.id, &sess)
			if d.done != nil {
				d.done.Done()
			} else {
				m.pending.Done()
			}
			idle.Reset(sessionIdle)
		}
	}
}

// drain marks what is left in the queue as handled without attempting it,
// at shutdown: it stays queued in the outbox for the next start.
func (m *Mailer) drain() {
	for {
		select {
		case d := <-m.queue:
			if d.done != nil {
				d.done.Done()
			} else {
				m.pending.Done()
			}
		default:
			return
		}
	}
}

// attemptLease is how long one delivery attempt holds a message.
const attemptLease = 2 * time.Minute

// deliver makes one attempt at a message, if no other attempt holds it,
// on the worker's session (opened when there is none; closed after a
// failure, so the next message starts on a fresh connection).
func (m *Mailer) deliver(ctx context.Context, id string, sess *Session) {
	now := m.Now().UTC()
	msg, err := m.outbox.ClaimMessage(ctx, id, now, now.Add(attemptLease))
	if err != nil || msg == nil {
		return
	}
	if err = m.open(msg); err == nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		if *sess == nil {
			*sess, err = m.Sender.Open(sctx)
		}
		if err == nil {
			if err = (*sess).Send(sctx, msg); err != nil {
				_ = (*sess).Close()
				*sess = nil
			}
		}
		cancel()
	}
	out := AttemptOutcome{Status: StatusSent, Sent: new(m.Now().UTC())}
	if err != nil {
		// Back off 1, 2, 4 … minutes, at most an hour, then give up.
		wait := min(time.Minute<<(msg.Attempts-1), time.Hour)
		out = AttemptOutcome{Status: StatusQueued, NextTry: new(m.Now().UTC().Add(wait)), Error: err.Error()}
		if msg.Attempts >= MaxAttempts {
			out.Status = StatusFailed
		}
		if m.Log != nil {
			m.Log.Warn("email not delivered", "message", id, "kind", msg.Kind, "attempt", msg.Attempts, "err", err)
		}
	}
	// Recorded even when ctx ended meanwhile: the outcome happened.
	if err := m.outbox.FinishAttempt(context.WithoutCancel(ctx), id, out); err != nil && m.Log != nil {
		m.Log.Warn("recording a delivery attempt failed", "message", id, "err", err)
	}
}

// open decrypts the bodies of a secret message for its delivery (they stay
// encrypted in the outbox).
func (m *Mailer) open(msg *Message) error {
	if !msg.Secret {
		return nil
	}
	if m.Box == nil {
		return errors.New("a message with a secret needs the encryption key")
	}
	text, err := m.Box.Open(msg.Text, bodyContext(msg.ID, "text"))
	if err != nil {
		return fmt.Errorf("message body: %w", err)
	}
	html, err := m.Box.Open(msg.HTML, bodyContext(msg.ID, "html"))
	if err != nil {
		return fmt.Errorf("message body: %w", err)
	}
	msg.Text, msg.HTML = text, html
	return nil
}

// DeliverDue hands every queued message whose time has come to the
// delivery pool, a batch at a time, and waits until each batch has been
// attempted; it returns how many it handed over. Safe to run on every
// instance: each attempt first claims its message.
func (m *Mailer) DeliverDue(ctx context.Context) (int, error) {
	if m.Sender == nil {
		return 0, nil
	}
	m.start(nil)
	n := 0
	for ctx.Err() == nil {
		ids, err := m.outbox.DueMessages(ctx, m.Now().UTC(), 100)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		var batch sync.WaitGroup
		for _, id := range ids {
			batch.Add(1)
			select {
			case m.queue <- delivery{id: id, done: &batch}:
				n++
			case <-ctx.Done():
				batch.Done()
			}
		}
		waited := make(chan struct{})
		go func() { batch.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-ctx.Done():
			return n, ctx.Err()
		}
		if len(ids) < 100 {
			break
		}
	}
	return n, ctx.Err()
}

// Notification is one item of a user's in-app list.
type Notification struct {
	ID      string     `bson:"id"` // the message ID when it was also emailed
	At      time.Time  `bson:"at"`
	Subject string     `bson:"subject"`
	Text    string     `bson:"text"`
	Link    string     `bson:"link,omitempty"` // a path in the app
	ReadAt  *time.Time `bson:"read_at,omitempty"`
	// About lists the other people the notification names.
	About []string `bson:"about,omitempty"`
	// Items are the things a summary is about (the weekly summary's
	// overdue and missing requirements), each with its own link; at most
	// MaxItems are kept, and More counts the rest.
	Items []Item `bson:"items,omitempty"`
	More  int    `bson:"more,omitempty"`
}

// MaxItems is how many items one notification keeps: a user's list holds
// up to a hundred notifications in one document, so a summary of a large
// organisation names the first items and counts the rest (its link leads
// to all of them).
const MaxItems = 50

// SetItems keeps the first MaxItems of items on n and counts the rest.
func (n *Notification) SetItems(items []Item) {
	n.Items, n.More = nil, 0
	if len(items) > MaxItems {
		n.More = len(items) - MaxItems
		items = items[:MaxItems]
	}
	n.Items = append([]Item(nil), items...)
}

// Summary is the notification's text as the list shows it. A summary
// stored before its items were kept ends "need attention:" over nothing;
// it reads as a sentence instead, and its link leads to the items.
func (n *Notification) Summary() string {
	if len(n.Items) == 0 {
		if t, ok := strings.CutSuffix(strings.TrimSpace(n.Text), ":"); ok {
			return t + "."
		}
	}
	return n.Text
}

// Inbox is a user's notifications, newest first.
type Inbox struct {
	UserID string         `bson:"_id"`
	Items  []Notification `bson:"items"`
}

// Unread counts the unread notifications.
func (in *Inbox) Unread() int {
	n := 0
	for _, x := range in.Items {
		if x.ReadAt == nil {
			n++
		}
	}
	return n
}
