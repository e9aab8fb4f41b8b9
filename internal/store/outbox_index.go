package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
)

// The outbox is read through lists written with each message:
//
//	outbox                  every message, newest first (bucket: the day
//	                        it was written, 2 shards): the admin's outbox
//	                        pages, and retention, which deletes whole days
//	outbox@to/<address>     the messages to one address (bucket: the month)
//	person/<user>           the recipient's and the mentioned people's lists
var (
	outboxAllSpec = listSpec{prefix: len("2006-01-02"), desc: true}
	outboxToSpec  = listSpec{prefix: len("2006-01"), desc: true}
)

// outboxRow says which other lists name a message, for retention.
type outboxRow struct {
	To     string   `bson:"h"` // the recipient's list (a hash of the address)
	UserID string   `bson:"u,omitempty"`
	About  []string `bson:"m,omitempty"`
}

// addressKey names an address's list without writing the address into a
// document _id.
func addressKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:12])
}

func messageSort(m *notify.Message) string { return timeKey(m.Created) + "/" + m.ID }

func (db *DB) outboxAll() list { return db.list("outbox", outboxAllSpec) }
func (db *DB) outboxTo(email string) list {
	return db.list("outbox@to/"+addressKey(email), outboxToSpec)
}

// indexMessage enters a message in its lists (before it is inserted).
func (db *DB) indexMessage(ctx context.Context, m *notify.Message) error {
	sort := messageSort(m)
	row := outboxRow{To: addressKey(m.To), UserID: m.UserID, About: m.About}
	if err := db.outboxAll().Add(ctx, m.ID, sort, row); err != nil {
		return err
	}
	if err := db.outboxTo(m.To).Add(ctx, m.ID, sort, struct{}{}); err != nil {
		return err
	}
	if err := db.notePerson(ctx, m.UserID, Ref{Collection: colOutbox, ID: m.ID}); err != nil {
		return err
	}
	for _, about := range m.About {
		if about != m.UserID {
			if err := db.notePerson(ctx, about, Ref{Collection: colOutbox, ID: m.ID, Mention: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Messages returns a page of messages, newest first, and the total; to
// filters by recipient when not empty. A page is a directory read, the one
// or two day buckets it falls in and a point read per message.
func (db *DB) Messages(ctx context.Context, to string, offset, limit int) ([]notify.Message, int, error) {
	l := db.outboxAll()
	if to != "" {
		l = db.outboxTo(to)
	}
	rows, total, err := l.Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: outbox: %w", err)
	}
	ms, err := readRows[notify.Message](ctx, db, colOutbox, rows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]notify.Message, 0, len(rows))
	for _, m := range ms {
		// Missing: deleted, or never written after its row.
		if m == nil || to != "" && !strings.EqualFold(m.To, to) {
			continue
		}
		out = append(out, *m)
	}
	return out, total, nil
}

// OldMessageCount counts the messages written before the given day (in
// UTC): what a retention run would delete. It reads the directory only.
func (db *DB) OldMessageCount(ctx context.Context, before time.Time) (int, error) {
	day := before.UTC().Format("2006-01-02")
	days, err := db.outboxAll().prefixes(ctx)
	n := 0
	for _, d := range days {
		if d.Key < day {
			n += d.N
		}
	}
	return n, err
}

// DeleteMessagesBefore deletes the messages written before the given day
// (in UTC), a day's bucket at a time and one point delete per message, and
// returns how many it deleted. A run that stops is finished by the next.
func (db *DB) DeleteMessagesBefore(ctx context.Context, before time.Time) (int, error) {
	day := before.UTC().Format("2006-01-02")
	all := db.outboxAll()
	deleted := 0
	err := all.ScanBuckets(ctx, func(p string) bool { return p < day }, func(prefix string, rows []Row) (bool, error) {
		for _, r := range rows {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			var or outboxRow
			if err := r.Decode(&or); err != nil {
				return false, err
			}
			res, err := db.coll(colOutbox).DeleteOne(ctx, bson.D{{Key: "_id", Value: r.Key}})
			if err != nil {
				return false, err
			}
			deleted += int(res.DeletedCount)
			if err := db.list("outbox@to/"+or.To, outboxToSpec).Remove(ctx, r.Key, r.Sort); err != nil {
				return false, err
			}
			if err := db.forgetPerson(ctx, or.UserID, Ref{Collection: colOutbox, ID: r.Key}); err != nil {
				return false, err
			}
			for _, about := range or.About {
				if err := db.forgetPerson(ctx, about, Ref{Collection: colOutbox, ID: r.Key, Mention: true}); err != nil {
					return false, err
				}
			}
		}
		return true, all.DropBucket(ctx, prefix)
	})
	if err != nil {
		return deleted, fmt.Errorf("store: delete old messages: %w", err)
	}
	return deleted, nil
}

// DeleteMessage deletes one message and its rows (erasure).
func (db *DB) DeleteMessage(ctx context.Context, id string) error {
	m, err := db.Message(ctx, id)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := db.coll(colOutbox).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return err
	}
	sort := messageSort(m)
	if err := db.outboxAll().Remove(ctx, id, sort); err != nil {
		return err
	}
	if err := db.outboxTo(m.To).Remove(ctx, id, sort); err != nil {
		return err
	}
	if err := db.DoneWork(ctx, QueueMail, id); err != nil {
		return err
	}
	if err := db.forgetPerson(ctx, m.UserID, Ref{Collection: colOutbox, ID: id}); err != nil {
		return err
	}
	for _, about := range m.About {
		if err := db.forgetPerson(ctx, about, Ref{Collection: colOutbox, ID: id, Mention: true}); err != nil {
			return err
		}
	}
	return nil
}
