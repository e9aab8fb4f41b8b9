package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
)

// colTrends keeps each organisation's daily compliance counts in one
// document keyed by the organisation: days maps 2006-01-02 to the day's
// point, at most compliance.TrendDays of them.
const colTrends = "compliance_trends"

type trendDoc struct {
	OrgID string                           `bson:"_id"`
	Days  map[string]compliance.TrendPoint `bson:"days"`
}

// PutTrendPoint sets one day's point and drops the days before dropBefore,
// in one update of the organisation's document.
func (db *DB) PutTrendPoint(ctx context.Context, orgID, day string, p compliance.TrendPoint, dropBefore string) error {
	old, err := db.Trend(ctx, orgID)
	if err != nil && !errs.Is(err, errs.ENOTFOUND) {
		return err
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "days." + day, Value: p}}}}
	var drop bson.D
	for d := range old {
		if d < dropBefore {
			drop = append(drop, bson.E{Key: "days." + d, Value: ""})
		}
	}
	if len(drop) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: drop})
	}
	if _, err := db.coll(colTrends).UpdateOne(ctx, bson.D{{Key: "_id", Value: orgID}}, update, options.UpdateOne().SetUpsert(true)); err != nil {
		return fmt.Errorf("store: trend %s: %w", orgID, err)
	}
	return nil
}

// Trend returns an organisation's daily points (ENOTFOUND: none yet).
func (db *DB) Trend(ctx context.Context, orgID string) (map[string]compliance.TrendPoint, error) {
	doc, err := findByID[trendDoc](ctx, db.coll(colTrends), orgID, "compliance trend")
	if err != nil {
		return nil, err
	}
	return doc.Days, nil
}
