package store

import (
	"context"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/audit"
)

const colAudit = "audit_events"

// InsertEvent appends an audit event.
func (db *DB) InsertEvent(ctx context.Context, e *audit.Event) error {
	_, err := db.coll(colAudit).InsertOne(ctx, e)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// Events returns a page of events, newest first, and the total matching.
func (db *DB) Events(ctx context.Context, q audit.Query) ([]audit.Event, int, error) {
	f := bson.D{}
	if q.Action != "" {
		f = append(f, bson.E{Key: "action", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(q.Action)}})
	}
	if q.Target != "" {
		f = append(f, bson.E{Key: "target", Value: q.Target})
	}
	if q.Actor != "" {
		f = append(f, bson.E{Key: "actor", Value: bson.Regex{Pattern: regexp.QuoteMeta(q.Actor), Options: "i"}})
	}
	if q.ActorID != "" {
		f = append(f, bson.E{Key: "actor_id", Value: q.ActorID})
	}
	if q.OrgID != "" {
		f = append(f, bson.E{Key: "org_id", Value: q.OrgID})
	}
	at := bson.D{}
	if !q.From.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: q.From})
	}
	if !q.To.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: q.To})
	}
	if len(at) > 0 {
		f = append(f, bson.E{Key: "at", Value: at})
	}
	coll := db.coll(colAudit)
	total, err := coll.CountDocuments(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("store: count audit: %w", err)
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	cur, err := coll.Find(ctx, f, options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetSkip(int64(q.Offset)).SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, fmt.Errorf("store: audit: %w", err)
	}
	var out []audit.Event
	return out, int(total), cur.All(ctx, &out)
}
