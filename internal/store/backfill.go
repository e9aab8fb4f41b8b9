package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
)

// Layout is the version of the store's lists and queues. A database made
// before they existed (layout 0) gets them once, by Backfill; so does one
// whose lists had another shape (layouts 2 and 3, never released: kept
// rows as fields, or spread buckets over fixed shards that grew without
// bound; their lists are rebuilt).
const Layout = 4

// UpgradeComment marks the one-off reads of whole collections that an
// upgrade makes (the query check in the tests lets these through).
const UpgradeComment = "one-off upgrade"

// Backfill builds the lists and work queues of a database written before
// they existed, reading each collection once, and records the layout. It
// does nothing on a database at the current layout (every new one). Run it
// before serving, on one instance: it takes about a minute per 10,000
// learners. Messages and notifications written before the About field
// existed name nobody in it, so erasure finds no mention rows for them:
// their recipients' copies are deleted with time by retention.
func (db *DB) Backfill(ctx context.Context, now time.Time, log *slog.Logger) error {
	var inst struct {
		Layout int `bson:"layout"`
	}
	if err := db.coll("meta").FindOne(ctx, bson.D{{Key: "_id", Value: "installation"}}).Decode(&inst); err != nil {
		return fmt.Errorf("store: installation record: %w", err)
	}
	if inst.Layout >= Layout {
		return nil
	}
	log.Warn("this database predates the store's lists and work queues: building them once before serving", "layout", inst.Layout)
	start := time.Now()
	if inst.Layout > 0 {
		// Lists in an older form: rebuilt from the records.
		if err := db.DB.Collection(colLists).Drop(ctx); err != nil {
			return fmt.Errorf("store: upgrade lists: %w", err)
		}
		if err := db.DB.CreateCollection(ctx, colLists); err != nil {
			return fmt.Errorf("store: upgrade lists: %w", err)
		}
		if err := db.EnsureIDIndexes(ctx); err != nil {
			return err
		}
	}
	l := db.NewLoader()
	x := l.db // its lists gather in memory
	steps := []struct {
		coll string
		fn   func(bson.Raw) error
	}{
		{colUsers, func(r bson.Raw) error {
			var u auth.User
			if err := bson.Unmarshal(r, &u); err != nil {
				return err
			}
			return x.indexUser(ctx, &u)
		}},
		{colSessions, func(r bson.Raw) error {
			var s auth.Session
			if err := bson.Unmarshal(r, &s); err != nil {
				return err
			}
			if err := x.userSessions(s.UserID).Add(ctx, s.ID, s.ID, bson.D{}); err != nil {
				return err
			}
			return x.expireAt(ctx, colSessions, s.ID, s.UserID, s.Expires)
		}},
		{colResets, func(r bson.Raw) error {
			var s auth.Reset
			if err := bson.Unmarshal(r, &s); err != nil {
				return err
			}
			if err := x.notePerson(ctx, s.UserID, Ref{Collection: colResets, ID: s.ID}); err != nil {
				return err
			}
			return x.expireAt(ctx, colResets, s.ID, s.UserID, s.Expires)
		}},
		{colThrottle, func(r bson.Raw) error {
			var t auth.Throttle
			if err := bson.Unmarshal(r, &t); err != nil {
				return err
			}
			return x.expireAt(ctx, colThrottle, t.Key, "", throttleExpiry(t))
		}},
		{colRateLimits, func(r bson.Raw) error {
			id, _ := r.Lookup("_id").StringValueOK()
			at, _ := r.Lookup("expires_at").TimeOK()
			return x.expireAt(ctx, colRateLimits, id, "", at)
		}},
		{colEnrolments, func(r bson.Raw) error {
			var e learning.Enrolment
			if err := bson.Unmarshal(r, &e); err != nil {
				return err
			}
			if err := x.indexEnrolment(ctx, &e); err != nil {
				return err
			}
			if e.Completion != nil {
				if err := x.indexCompletion(ctx, &e, e.Completion); err != nil {
					return err
				}
			}
			for _, m := range e.Pending {
				if err := db.PutWork(ctx, handoverQueue(m), e.ID, now); err != nil {
					return err
				}
			}
			if e.OpenAttempt > 0 {
				// A submission the enrolment may not show yet.
				if err := db.PutWork(ctx, QueueSubmissions, e.ID+"/"+strconv.Itoa(e.OpenAttempt), now); err != nil {
					return err
				}
			}
			return nil
		}},
		{colCertificates, func(r bson.Raw) error {
			var c certificates.Certificate
			if err := bson.Unmarshal(r, &c); err != nil {
				return err
			}
			if err := x.indexCertificate(ctx, &c); err != nil {
				return err
			}
			if c.Status != certificates.StatusIssued || c.PendingRevision > 0 {
				if err := db.PutWork(ctx, QueueCertificates, c.Code, now); err != nil {
					return err
				}
			}
			if c.ReissueRequest != nil {
				return db.PutWork(ctx, QueueReissue, c.Code, now)
			}
			return nil
		}},
		{colJobs, func(r bson.Raw) error {
			var j certificates.Job
			if err := bson.Unmarshal(r, &j); err != nil {
				return err
			}
			if err := x.notePerson(ctx, j.By, Ref{Collection: colJobs, ID: j.ID}); err != nil {
				return err
			}
			if j.Finished.IsZero() {
				return db.PutWork(ctx, QueueJobs, j.ID, now)
			}
			return nil
		}},
		{colOutbox, func(r bson.Raw) error {
			var m notify.Message
			if err := bson.Unmarshal(r, &m); err != nil {
				return err
			}
			if err := x.indexMessage(ctx, &m); err != nil {
				return err
			}
			if m.Status == notify.StatusQueued {
				return db.PutWork(ctx, QueueMail, m.ID, m.NextTry)
			}
			return nil
		}},
		{colAdvocates, func(r bson.Raw) error {
			var a advocateDoc
			if err := bson.Unmarshal(r, &a); err != nil {
				return err
			}
			if err := x.advocateList().Add(ctx, a.Doc.ID, a.Doc.ID, struct{}{}); err != nil {
				return err
			}
			if s := endedSort(&a.Doc); s != "" {
				return x.endedList().Add(ctx, a.Doc.ID, s, struct{}{})
			}
			return nil
		}},
		{colAudit, func(r bson.Raw) error {
			var e audit.Event
			if err := bson.Unmarshal(r, &e); err != nil {
				return err
			}
			return x.indexEvent(ctx, &e)
		}},
	}
	for _, st := range steps {
		n := 0
		cur, err := db.coll(st.coll).Find(ctx, bson.D{}, options.Find().SetComment(UpgradeComment))
		if err != nil {
			return fmt.Errorf("store: upgrade %s: %w", st.coll, err)
		}
		for cur.Next(ctx) {
			if err := st.fn(cur.Current); err != nil {
				cur.Close(ctx)
				return fmt.Errorf("store: upgrade %s: %w", st.coll, err)
			}
			n++
		}
		if err := cur.Err(); err != nil {
			return fmt.Errorf("store: upgrade %s: %w", st.coll, err)
		}
		cur.Close(ctx)
		log.Info("upgrade: listed", "collection", st.coll, "documents", n)
	}
	if err := l.Flush(ctx); err != nil {
		return err
	}
	if _, err := db.coll("meta").UpdateOne(ctx, bson.D{{Key: "_id", Value: "installation"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "layout", Value: Layout}}}}); err != nil {
		return fmt.Errorf("store: installation record: %w", err)
	}
	log.Warn("upgrade done", "took", time.Since(start).Round(time.Second))
	return nil
}
