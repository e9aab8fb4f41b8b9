package store

import (
	"context"
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Work queues hold the work a crash may leave half-done, so that the
// reconcilers never look for it in the big collections. Each queue is its
// own collection, "work_<queue>" (handover_certificate and handover_cpd hold
// completions to hand over), keyed by the work's key (an enrolment, an
// attempt, a certificate code, a message ID). An item is put before the
// write that creates the work, and deleted once the work is done: a
// reconciler reads the queue (empty when nothing is pending), checks each
// item against the record it names, finishes what is unfinished and drops
// what turns out to need nothing. Reading a queue is one bounded find with
// no filter, which FerretDB answers with SQLite's LIMIT.
const (
	QueueSubmissions  = "submissions"      // attempts submitted, result not yet on the enrolment
	QueueCertificates = "certificates"     // certificates claimed or with a revision not yet stored
	QueueJobs         = "jobs"             // bulk jobs not finished
	QueueMail         = "mail"             // messages waiting for (another) delivery attempt
	QueueReissue      = "reissue_requests" // learners' requests for a copy in a new name
	QueueExports      = "exports"          // data downloads being built
	QueueCompliance   = "compliance"       // changes to advocates' records still to follow up (compliance.FollowUp)
	QueueLiveHandOver = "live_handover"    // attendance marks whose certificate or CPD entry is not yet given ("<session>/<user>")
)

// queues lists every work queue.
var queues = []string{QueueSubmissions, handoverQueue(learning.PendingCertificate), handoverQueue(learning.PendingCPD), handoverQueue(learning.PendingImpact),
	QueueCertificates, QueueJobs, QueueMail, QueueReissue, QueueExports, QueueCompliance, QueueLiveHandOver}

func workCollection(queue string) string { return "work_" + queue }

// WorkItem is one item of a work queue.
type WorkItem struct {
	Key     string    `bson:"_id"`
	Due     time.Time `bson:"due"`        // not to be tried before
	Created time.Time `bson:"created_at"` // when the work was first queued
	Tries   int       `bson:"tries,omitempty"`
	Note    string    `bson:"note,omitempty"` // the last failure
}

// PutWork queues work (or, when it is queued already, moves its due time).
func (db *DB) PutWork(ctx context.Context, queue, key string, due time.Time) error {
	_, err := db.coll(workCollection(queue)).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "due", Value: due.UTC()}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "created_at", Value: due.UTC()}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: queue %s %s: %w", queue, key, err)
	}
	return nil
}

// RetryWork records a failed try and when to try again.
func (db *DB) RetryWork(ctx context.Context, queue, key string, due time.Time, note string) error {
	_, err := db.coll(workCollection(queue)).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "due", Value: due.UTC()}, {Key: "note", Value: note}}}, {Key: "$inc", Value: bson.D{{Key: "tries", Value: 1}}}})
	if err != nil {
		return fmt.Errorf("store: queue %s %s: %w", queue, key, err)
	}
	return nil
}

// DoneWork removes finished work (nothing when it is not queued).
func (db *DB) DoneWork(ctx context.Context, queue, key string) error {
	if _, err := db.coll(workCollection(queue)).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return fmt.Errorf("store: queue %s %s: %w", queue, key, err)
	}
	return nil
}

// Work returns up to limit items of a queue, due or not, in no order.
func (db *DB) Work(ctx context.Context, queue string, limit int) ([]WorkItem, error) {
	cur, err := db.coll(workCollection(queue)).Find(ctx, bson.D{}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: queue %s: %w", queue, err)
	}
	var out []WorkItem
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: queue %s: %w", queue, err)
	}
	return out, nil
}

// eachWork calls pending with the key of each item of a queue (up to
// limit). pending reports whether the item's record still shows work to do
// (an ENOTFOUND error: the record is not there). An item whose record
// shows none leaves the queue once it is a minute old (younger, the write
// that queued it may be about to create the work), and one whose record
// never appeared once it is staleWork old.
func (db *DB) eachWork(ctx context.Context, queue string, now time.Time, limit int, pending func(key string) (bool, error)) error {
	items, err := db.Work(ctx, queue, limit)
	if err != nil {
		return err
	}
	for _, it := range items {
		ok, err := pending(it.Key)
		missing := errs.Is(err, errs.ENOTFOUND)
		if err != nil && !missing {
			return err
		}
		if ok {
			continue
		}
		age := now.Sub(it.Created)
		if missing && age > staleWork || !missing && age > time.Minute {
			if err := db.DoneWork(ctx, queue, it.Key); err != nil {
				return err
			}
		}
	}
	return nil
}
