package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/notify"
)

// One held document as the data download writes it.

// ExportDoc returns one of the person's documents as relaxed extended JSON
// (nil when it is gone), with the holding's secrets left out. Of a
// dashboard, only the person's row; of an audit event they caused about
// someone else, only when and what kind of action (auditForExport).
func (db *DB) ExportDoc(ctx context.Context, coll, id, userID string) ([]byte, error) {
	h, ok := HoldingOf(coll)
	if !ok || h.Found == "" {
		return nil, fmt.Errorf("store: %s holds nothing about people", coll)
	}
	opts := options.FindOne()
	switch {
	case coll == colRollups, coll == colLive:
		// The rows are one value; the person's is picked out below.
	case len(h.Omit) > 0:
		proj := bson.D{}
		for _, f := range h.Omit {
			proj = append(proj, bson.E{Key: f, Value: 0})
		}
		opts.SetProjection(proj)
	}
	var doc bson.Raw
	err := db.coll(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, opts).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s %s: %w", coll, id, err)
	}
	var v any = doc
	switch coll {
	case colRollups:
		var d rollupDoc
		if err := bson.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		rows, err := d.rows()
		if err != nil {
			return nil, err
		}
		raw, ok := rows[userID]
		if !ok {
			return nil, nil
		}
		var row compliance.Row
		if err := bson.Unmarshal(raw, &row); err != nil {
			return nil, err
		}
		v = bson.D{{Key: "organisation", Value: d.OrgID}, {Key: "row", Value: row}}
	case colLive:
		var d versioned[liveDoc]
		if err := bson.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		s, err := d.Doc.session()
		if err != nil {
			return nil, err
		}
		b := s.Bookings[userID]
		if b == nil {
			return nil, nil
		}
		needs := ""
		if b.Access != "" || b.Dietary != "" {
			needs = "You gave access or dietary needs for this session; they are kept encrypted, seen only by the trainer, and deleted 30 days after it."
		}
		v = bson.D{{Key: "session", Value: s.Title}, {Key: "start", Value: s.Start}, {Key: "end", Value: s.End}, {Key: "mode", Value: s.Mode},
			{Key: "venue", Value: s.Venue}, {Key: "status", Value: b.Status}, {Key: "booked_at", Value: b.At}, {Key: "booked_by", Value: b.By},
			{Key: "needs", Value: needs}, {Key: "attendance", Value: b.Attendance}, {Key: "minutes_attended", Value: b.Minutes},
			{Key: "cpd_hours", Value: s.Credited(b)}, {Key: "certificate", Value: b.Certificate}}
	case colAudit:
		if e, ok := auditForExport(doc, userID); ok {
			v = e
		}
	case colOutbox:
		if secret, _ := doc.Lookup("secret").BooleanOK(); secret {
			v = redactSecretMessage(doc)
		}
	}
	b, err := bson.MarshalExtJSON(v, false, false)
	if err != nil {
		return nil, fmt.Errorf("store: %s as JSON: %w", coll, err)
	}
	return b, nil
}

// redactSecretMessage returns a message that carries a secret (a reset or
// invitation link, encrypted at rest) with its bodies replaced by
// notify.SecretNotShown: a data download never holds a live link.
func redactSecretMessage(doc bson.Raw) bson.D {
	elems, _ := doc.Elements()
	out := make(bson.D, 0, len(elems))
	for _, e := range elems {
		switch e.Key() {
		case "text":
			out = append(out, bson.E{Key: "text", Value: notify.SecretNotShown})
		case "html":
		default:
			out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	return out
}
