package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/family-advocacy/lms/internal/errs"
)

// redactDoc applies redact to every string in document id of coll (not
// its _id, and not values sealed with the app key, which start "v1:"),
// and sets the top-level fields that changed, in one write. A document
// with a version (notifications) is written only if the version is still
// the one read, and its version increases; on the embedded database the
// read and the write happen under the write lock. It reports whether the
// document changed.
func (db *DB) redactDoc(ctx context.Context, coll, id string, redact func(string) string) (bool, error) {
	raw := db.DB.Collection(coll)
	for attempt := 0; attempt < 5; attempt++ {
		changed, err := func() (bool, error) {
			if db.wmu != nil {
				if err := db.wmu.Lock(ctx); err != nil {
					return false, err
				}
				defer db.wmu.Unlock()
			}
			var d bson.D
			err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
			if errors.Is(err, mongo.ErrNoDocuments) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			var set bson.D
			var version any
			for _, e := range d {
				switch e.Key {
				case "_id":
					continue
				case "version":
					version = e.Value
					continue
				}
				if nv, hit := redactValue(e.Value, redact); hit {
					set = append(set, bson.E{Key: e.Key, Value: nv})
				}
			}
			if len(set) == 0 {
				return false, nil
			}
			filter := bson.D{{Key: "_id", Value: id}}
			update := bson.D{{Key: "$set", Value: set}}
			if version != nil {
				if db.wmu == nil {
					filter = append(filter, bson.E{Key: "version", Value: version})
				}
				update = append(update, bson.E{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}})
			}
			res, err := raw.UpdateOne(ctx, filter, update)
			if err != nil {
				return false, err
			}
			if res.MatchedCount == 0 {
				return false, errRetry
			}
			return true, nil
		}()
		if !errors.Is(err, errRetry) {
			if err != nil {
				return false, fmt.Errorf("store: redact %s %s: %w", coll, id, err)
			}
			return changed, nil
		}
	}
	return false, errs.E(errs.ECONFLICT, "This record is being changed by someone else; please try again.")
}

// redactValue walks a decoded value, applying redact to its strings.
func redactValue(v any, redact func(string) string) (any, bool) {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "v1:") {
			return x, false // sealed: no plain text to find
		}
		if r := redact(x); r != x {
			return r, true
		}
	case bson.D:
		out, hit := make(bson.D, len(x)), false
		for i, e := range x {
			nv, h := redactValue(e.Value, redact)
			out[i], hit = bson.E{Key: e.Key, Value: nv}, hit || h
		}
		return out, hit
	case bson.A:
		out, hit := make(bson.A, len(x)), false
		for i, e := range x {
			nv, h := redactValue(e, redact)
			out[i], hit = nv, hit || h
		}
		return out, hit
	}
	return v, false
}
