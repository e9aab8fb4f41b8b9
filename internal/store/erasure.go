package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
)

// CertificatesOfUser returns every certificate of a user, whatever its
// state (a scan; for exports and erasure).
func (db *DB) CertificatesOfUser(ctx context.Context, userID string) ([]certificates.Certificate, error) {
	cur, err := db.coll(colCertificates).Find(ctx, bson.D{{Key: "user_id", Value: userID}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: certificates of user: %w", err)
	}
	var out []certificates.Certificate
	return out, cur.All(ctx, &out)
}

// CountPersonal counts a person's documents in one collection.
func (db *DB) CountPersonal(ctx context.Context, h Holding, p Person) (int, error) {
	if h.Filter == nil {
		return 0, nil
	}
	n, err := db.coll(h.Collection).CountDocuments(ctx, h.Filter(p))
	return int(n), err
}

// DeletePersonal deletes a person's documents from one collection.
func (db *DB) DeletePersonal(ctx context.Context, h Holding, p Person) (int, error) {
	if h.Filter == nil {
		return 0, nil
	}
	res, err := db.coll(h.Collection).DeleteMany(ctx, h.Filter(p))
	if err != nil {
		return 0, fmt.Errorf("store: erase from %s: %w", h.Collection, err)
	}
	return int(res.DeletedCount), nil
}

// ClearRevisionNames removes the name from every revision of the
// certificates (erasure, when certificates are kept for verification).
func (db *DB) ClearRevisionNames(ctx context.Context, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	revisions := byCodes("code")(Person{CertificateCodes: codes}) // as in Holdings
	_, err := db.coll(colCertRevs).UpdateMany(ctx, revisions, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("store: clear revision names: %w", err)
	}
	return nil
}

// SetFields sets fields of one document (for tests that arrange a state
// the app cannot reach on its own).
func (db *DB) SetFields(ctx context.Context, collection, id string, set bson.D) error {
	_, err := db.coll(collection).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// RedactMentions replaces every mention of the given phrases (whole words,
// any case) in the string fields of every document of the collections with
// replacement, one document at a time, and returns how many documents
// changed. Erasure uses it for what other people's records say about the
// person: messages, notifications, audit entries and records they made.
func (db *DB) RedactMentions(ctx context.Context, collections []string, phrases []string, replacement string) (int, error) {
	var alts []string
	for _, p := range phrases {
		if p != "" {
			alts = append(alts, regexp.QuoteMeta(p))
		}
	}
	if len(alts) == 0 {
		return 0, nil
	}
	re := regexp.MustCompile(`(?i)\b(?:` + strings.Join(alts, "|") + `)\b`)
	changed := 0
	for _, name := range collections {
		c := db.coll(name)
		cur, err := c.Find(ctx, bson.D{})
		if err != nil {
			return changed, fmt.Errorf("store: scan %s: %w", name, err)
		}
		var docs []bson.D
		err = cur.All(ctx, &docs)
		if err != nil {
			return changed, err
		}
		for _, d := range docs {
			out, hit := redactValue(d, re, replacement)
			if !hit {
				continue
			}
			id := d[0].Value
			for _, e := range d {
				if e.Key == "_id" {
					id = e.Value
				}
			}
			if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, out); err != nil {
				return changed, fmt.Errorf("store: redact %s: %w", name, err)
			}
			changed++
		}
	}
	return changed, nil
}

// redactValue walks a decoded document, replacing matches in strings.
func redactValue(v any, re *regexp.Regexp, repl string) (any, bool) {
	switch x := v.(type) {
	case string:
		if re.MatchString(x) {
			return re.ReplaceAllString(x, repl), true
		}
	case bson.D:
		out, hit := make(bson.D, len(x)), false
		for i, e := range x {
			nv, h := redactValue(e.Value, re, repl)
			if e.Key == "_id" {
				nv, h = e.Value, false // keys stay as they are
			}
			out[i], hit = bson.E{Key: e.Key, Value: nv}, hit || h
		}
		return out, hit
	case bson.A:
		out, hit := make(bson.A, len(x)), false
		for i, e := range x {
			nv, h := redactValue(e, re, repl)
			out[i], hit = nv, hit || h
		}
		return out, hit
	}
	return v, false
}

// EndedAdvocates returns advocates whose contract ended before the given
// time (a scan; for the retention job).
func (db *DB) EndedAdvocates(ctx context.Context, before time.Time) ([]compliance.Advocate, error) {
	cur, err := db.coll(colAdvocates).Find(ctx, bson.D{{Key: "status", Value: compliance.StatusEnded}, {Key: "ended_at", Value: bson.D{{Key: "$lt", Value: before}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("store: ended advocates: %w", err)
	}
	var out []compliance.Advocate
	return out, cur.All(ctx, &out)
}

// OldMessages lists outbox messages created before the given time.
func (db *DB) OldMessages(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return findIDs(ctx, db.coll(colOutbox), bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: before}}}}, limit)
}

// DeleteMessages deletes outbox messages by ID.
func (db *DB) DeleteMessages(ctx context.Context, ids []string) error {
	_, err := db.coll(colOutbox).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	return err
}

// Compact makes deleted data unrecoverable from the embedded database's
// files: FerretDB's SQLite runs with secure_delete, which overwrites freed
// content, and this moves the write-ahead log (which may still hold older
// page images) into the database and truncates it. No-op on MongoDB.
func (db *DB) Compact(ctx context.Context) error {
	if db.sqliteDir == "" {
		return nil
	}
	if db.wmu != nil {
		db.wmu.Lock()
		defer db.wmu.Unlock()
	}
	file := filepath.Join(db.sqliteDir, db.DB.Name()+".sqlite")
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=secure_delete(on)")
	if err != nil {
		return err
	}
	defer conn.Close()
	var busy, logFrames, checkpointed int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("store: checkpoint: the database was busy; run it again")
	}
	return nil
}
