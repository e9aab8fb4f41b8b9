package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/impact"
)

// colEvaluations keeps course evaluations: documents keyed
// "<course>/<YYYY-MM>/<shard>", each holding the rows of that course's
// learners who enrolled that month, one field per pseudonym (see package
// impact). colFollowUpsDue lists, per day, the enrolments whose follow-up
// falls due that day.
const (
	colEvaluations  = "evaluations"
	colFollowUpsDue = "followups_due"
)

// evaluationDoc is the stored form of one shard of a course-month: its
// rows, each one BSON value keyed by pseudonym, kept together as one
// opaque binary value (as the dashboard rollup is, and for the same
// reason: the embedded database parses every field of a document on each
// read, at a cost that grows with the square of their number). A row is
// changed by reading the document and writing it back (updateVersioned).
//
// Beside the rows, the document keeps their tally (impact.Tally, as one
// opaque value too), changed in the same write: a report reads only the
// tallies, with a projection that leaves the rows out.
type evaluationDoc struct {
	ID    string `bson:"_id"`
	Blob  []byte `bson:"b"`
	Tally []byte `bson:"t,omitempty"`
}

// tally returns the document's tally, made from its rows if a document
// written before tallies were kept has none.
func (d *evaluationDoc) tally(rows map[string][]byte) (*impact.Tally, error) {
	t := &impact.Tally{}
	if len(d.Tally) > 0 {
		if err := bson.Unmarshal(d.Tally, t); err != nil {
			return nil, fmt.Errorf("store: evaluation tally %s: %w", d.ID, err)
		}
		return t, nil
	}
	for pid, raw := range rows {
		var r impact.Row
		if err := bson.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("store: evaluation row: %w", err)
		}
		t.Add(pid, &r, 1)
	}
	return t, nil
}

type evaluationRows struct {
	Rows map[string][]byte `bson:"r"`
}

func (d *evaluationDoc) rows() (map[string][]byte, error) {
	rr := evaluationRows{}
	if len(d.Blob) > 0 {
		if err := bson.Unmarshal(d.Blob, &rr); err != nil {
			return nil, fmt.Errorf("store: evaluation %s: %w", d.ID, err)
		}
	}
	if rr.Rows == nil {
		rr.Rows = map[string][]byte{}
	}
	return rr.Rows, nil
}

// changeEvaluation applies fn to one row (nil: none yet; fn returns nil
// to delete it) in one versioned write of its document.
func (db *DB) changeEvaluation(ctx context.Context, docID, pseudonym string, create bool, fn func(r *impact.Row) *impact.Row) error {
	_, err := updateVersioned(ctx, db, colEvaluations, docID, "evaluation", create, func(d *evaluationDoc, exists bool) error {
		rows, err := d.rows()
		if err != nil {
			return err
		}
		tally, err := d.tally(rows)
		if err != nil {
			return err
		}
		var cur *impact.Row
		if raw, ok := rows[pseudonym]; ok {
			cur = &impact.Row{}
			if err := bson.Unmarshal(raw, cur); err != nil {
				return fmt.Errorf("store: evaluation row: %w", err)
			}
			tally.Add(pseudonym, cur, -1) // before fn, which may change cur in place
		} else if !create {
			return errNoChange
		}
		next := fn(cur)
		if next == nil {
			if cur == nil {
				return errNoChange
			}
			delete(rows, pseudonym)
		} else {
			raw, err := bson.Marshal(next)
			if err != nil {
				return fmt.Errorf("store: evaluation row: %w", err)
			}
			if string(rows[pseudonym]) == string(raw) && len(d.Tally) > 0 {
				return errNoChange
			}
			rows[pseudonym] = raw
		}
		tally.Add(pseudonym, next, 1)
		d.ID = docID
		if d.Blob, err = bson.Marshal(evaluationRows{Rows: rows}); err != nil {
			return err
		}
		d.Tally, err = bson.Marshal(tally)
		return err
	})
	if errors.Is(err, errNoChange) || errs.Is(err, errs.ENOTFOUND) && !create {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: evaluation %s: %w", docID, err)
	}
	return nil
}

// UpdateEvaluation applies u to one row, creating the row or its document
// if missing.
func (db *DB) UpdateEvaluation(ctx context.Context, docID, pseudonym string, u impact.Update) error {
	return db.changeEvaluation(ctx, docID, pseudonym, true, func(r *impact.Row) *impact.Row {
		if r == nil {
			r = &impact.Row{}
		}
		u.Apply(r)
		return r
	})
}

// Evaluation returns one row (ENOTFOUND: none).
func (db *DB) Evaluation(ctx context.Context, docID, pseudonym string) (*impact.Row, error) {
	rows, err := db.EvaluationDoc(ctx, docID)
	if err != nil {
		return nil, err
	}
	row, ok := rows[pseudonym]
	if !ok {
		return nil, errs.E(errs.ENOTFOUND, "no evaluation")
	}
	return &row, nil
}

// EvaluationDoc returns the rows of one document (none: an empty map).
func (db *DB) EvaluationDoc(ctx context.Context, docID string) (map[string]impact.Row, error) {
	doc, err := findByID[evaluationDoc](ctx, db.coll(colEvaluations), docID, "evaluation")
	if errs.Is(err, errs.ENOTFOUND) {
		return map[string]impact.Row{}, nil
	}
	if err != nil {
		return nil, err
	}
	raw, err := doc.rows()
	if err != nil {
		return nil, err
	}
	out := make(map[string]impact.Row, len(raw))
	for pid, b := range raw {
		var r impact.Row
		if err := bson.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("store: evaluation row: %w", err)
		}
		out[pid] = r
	}
	return out, nil
}

// EvaluationTally returns the tally of one document's rows (none: an
// empty tally), reading the document without its rows.
func (db *DB) EvaluationTally(ctx context.Context, docID string) (*impact.Tally, error) {
	var d evaluationDoc
	err := db.coll(colEvaluations).FindOne(ctx, bson.D{{Key: "_id", Value: docID}}, options.FindOne().SetProjection(bson.D{{Key: "b", Value: 0}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &impact.Tally{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: evaluation tally %s: %w", docID, err)
	}
	if len(d.Tally) > 0 {
		return d.tally(nil)
	}
	// Written before tallies were kept: made from the rows (the next write
	// to the document keeps it).
	full, err := findByID[evaluationDoc](ctx, db.coll(colEvaluations), docID, "evaluation")
	if err != nil {
		return nil, err
	}
	rows, err := full.rows()
	if err != nil {
		return nil, err
	}
	return full.tally(rows)
}

// DeleteEvaluation removes one row from its document.
func (db *DB) DeleteEvaluation(ctx context.Context, docID, pseudonym string) error {
	return db.changeEvaluation(ctx, docID, pseudonym, false, func(*impact.Row) *impact.Row { return nil })
}

type followUpDay struct {
	Day        string   `bson:"_id"`
	Enrolments []string `bson:"enrolments"`
}

// AddFollowUpDue lists an enrolment under the day its follow-up is due
// (listing it twice is harmless).
func (db *DB) AddFollowUpDue(ctx context.Context, day, enrolmentID string) error {
	_, err := db.coll(colFollowUpsDue).UpdateOne(ctx, bson.D{{Key: "_id", Value: day}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "enrolments", Value: enrolmentID}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("store: follow-up due %s: %w", day, err)
	}
	return nil
}

// FollowUpsDue returns the enrolments listed under a day.
func (db *DB) FollowUpsDue(ctx context.Context, day string) ([]string, error) {
	doc, err := findByID[followUpDay](ctx, db.coll(colFollowUpsDue), day, "follow-ups due")
	if errs.Is(err, errs.ENOTFOUND) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return doc.Enrolments, nil
}

// RemoveFollowUpDue takes one enrolment off a day's list (its learner was
// erased).
func (db *DB) RemoveFollowUpDue(ctx context.Context, day, enrolmentID string) error {
	_, err := db.coll(colFollowUpsDue).UpdateOne(ctx, bson.D{{Key: "_id", Value: day}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "enrolments", Value: enrolmentID}}}})
	return err
}

// DropFollowUpDay deletes a day's list.
func (db *DB) DropFollowUpDay(ctx context.Context, day string) error {
	_, err := db.coll(colFollowUpsDue).DeleteOne(ctx, bson.D{{Key: "_id", Value: day}})
	return err
}

// PutEvaluationDoc replaces one shard document's rows (used when seeding
// the scale bench).
func (db *DB) PutEvaluationDoc(ctx context.Context, docID string, rows map[string]impact.Row) error {
	raw := make(map[string][]byte, len(rows))
	for pid, r := range rows {
		b, err := bson.Marshal(r)
		if err != nil {
			return err
		}
		raw[pid] = b
	}
	_, err := updateVersioned(ctx, db, colEvaluations, docID, "evaluation", true, func(d *evaluationDoc, exists bool) error {
		d.ID = docID
		var err error
		if d.Blob, err = bson.Marshal(evaluationRows{Rows: raw}); err != nil {
			return err
		}
		d.Tally, err = bson.Marshal(impact.TallyOf(rows))
		return err
	})
	return err
}
