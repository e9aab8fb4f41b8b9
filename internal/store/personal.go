package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/compliance"
)

// Person identifies whose records to find.
type Person struct {
	UserID           string
	Email            string   // normalised
	CertificateCodes []string // their certificates (revisions and hashes hang off them)
}

// Holding says what one collection holds about a person. Every collection
// in Collections has exactly one Holding; a test enforces it, so a new
// collection cannot be left out of exports and erasure silently.
type Holding struct {
	Collection string
	// Filter selects the person's documents.
	Filter func(p Person) bson.D
	// Omit lists fields left out of an export: secrets that identify
	// nothing about the person but would weaken their account if leaked.
	Omit []string
	// None, when the collection holds nothing about individual people,
	// says why (and Filter is nil).
	None string
}

func byUser(field string) func(Person) bson.D {
	return func(p Person) bson.D { return bson.D{{Key: field, Value: p.UserID}} }
}

func byCodes(field string) func(Person) bson.D {
	return func(p Person) bson.D {
		return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: append([]string{}, p.CertificateCodes...)}}}}
	}
}

// auditForExport shortens an audit event the person made about someone
// else to what it says about them: when they did what kind of thing. The
// target's identity and the values changed belong to the other person.
func auditForExport(doc bson.Raw, p Person) (bson.D, bool) {
	target, _ := doc.Lookup("target").StringValueOK()
	if target == "user:"+p.UserID || target == "advocate:"+p.UserID {
		return nil, false // about the person: all of it
	}
	kind, _, _ := strings.Cut(target, ":")
	at, _ := doc.Lookup("at").TimeOK()
	action, _ := doc.Lookup("action").StringValueOK()
	actor, _ := doc.Lookup("actor").StringValueOK()
	return bson.D{{Key: "at", Value: at}, {Key: "actor", Value: actor}, {Key: "action", Value: action}, {Key: "target", Value: kind},
		{Key: "note", Value: "An action you took on someone else's record; its details are theirs and are not included."}}, true
}

// Holdings lists every collection and how it relates to a person.
var Holdings = []Holding{
	{Collection: colUsers, Filter: byUser("_id"), Omit: []string{"password_hash", "totp_secret", "totp_pending", "recovery_hashes"}},
	{Collection: colUserEmails, Filter: func(p Person) bson.D {
		return bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "user_id", Value: p.UserID}}, bson.D{{Key: "_id", Value: p.Email}}}}}
	}},
	{Collection: colTOTPSteps, Filter: byUser("_id")},
	{Collection: colSessions, Filter: byUser("user_id"), Omit: []string{"_id"}}, // the _id is a hash of the session cookie
	{Collection: colResets, Filter: byUser("user_id"), Omit: []string{"_id"}},
	{Collection: colOutbox, Filter: func(p Person) bson.D {
		return bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "user_id", Value: p.UserID}}, bson.D{{Key: "to", Value: p.Email}}}}}
	}},
	{Collection: colNotifications, Filter: byUser("_id")},
	{Collection: colEnrolments, Filter: byUser("user_id")},
	{Collection: colAttempts, Filter: byUser("user_id")},
	{Collection: colSubmissions, Filter: byUser("user_id")},
	{Collection: colCertificates, Filter: byUser("user_id")},
	{Collection: colCertClaims, Filter: func(p Person) bson.D {
		return bson.D{{Key: "_id", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(p.UserID+"/")}}}
	}},
	{Collection: colCertRevs, Filter: byCodes("code")},
	{Collection: colCertHashes, Filter: byCodes("code")},
	{Collection: colJobs, Filter: byUser("by")},
	{Collection: colAudit, Filter: func(p Person) bson.D {
		return bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "actor_id", Value: p.UserID}},
			bson.D{{Key: "target", Value: bson.D{{Key: "$in", Value: bson.A{"user:" + p.UserID, "advocate:" + p.UserID}}}}},
		}}}
	}},
	{Collection: colAdvocates, Filter: byUser("_id")},
	{Collection: colRollups, Filter: func(p Person) bson.D {
		return bson.D{{Key: "rows." + p.UserID, Value: bson.D{{Key: "$exists", Value: true}}}}
	}},
	{Collection: colDBSScans, Filter: byUser("advocate_id")},
	{Collection: colOrgs, None: "organisations: names of agencies, not of people"},
	{Collection: colThrottle, None: "failed sign-in counters, keyed by a one-way keyed hash of an email or network address and deleted within 24 hours"},
	{Collection: colRateLimits, None: "request counters keyed by a one-way hash of a network address, deleted within minutes"},
	{Collection: colLeases, None: "which app instance runs a scheduled job"},
	{Collection: "meta", None: "the database's own settings"},
	{Collection: colLists, None: "the lists that find records without searching: rows of record IDs, and of names and emails kept in step with the accounts they come from (erasure anonymises the account, which rewrites its rows)"},
}

func init() {
	for _, q := range queues {
		Holdings = append(Holdings, Holding{Collection: workCollection(q), None: "work in progress, keyed by record IDs; each item is deleted when its work is done"})
	}
}

// Holding returns the holding of a collection.
func HoldingOf(collection string) (Holding, bool) {
	for _, h := range Holdings {
		if h.Collection == collection {
			return h, true
		}
	}
	return Holding{}, false
}

// EachPersonalDoc calls fn with every document of the holding's collection
// about p, one at a time, as relaxed extended JSON (secrets omitted). For
// the dashboard rollups, only p's own row is passed, decoded.
func (db *DB) EachPersonalDoc(ctx context.Context, h Holding, p Person, fn func(json []byte) error) error {
	if h.Filter == nil {
		return nil
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if len(h.Omit) > 0 {
		proj := bson.D{}
		for _, f := range h.Omit {
			proj = append(proj, bson.E{Key: f, Value: 0})
		}
		opts.SetProjection(proj)
	}
	cur, err := db.coll(h.Collection).Find(ctx, h.Filter(p), opts)
	if err != nil {
		return fmt.Errorf("store: %s: %w", h.Collection, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		doc := bson.Raw(cur.Current)
		var v any = doc
		if h.Collection == colRollups {
			var d rollupDoc
			if err := bson.Unmarshal(doc, &d); err != nil {
				return err
			}
			var row compliance.Row
			if err := bson.Unmarshal(d.Rows[p.UserID], &row); err != nil {
				return err
			}
			v = bson.D{{Key: "organisation", Value: d.OrgID}, {Key: "row", Value: row}}
		}
		if h.Collection == colAudit {
			if e, ok := auditForExport(doc, p); ok {
				v = e
			}
		}
		b, err := bson.MarshalExtJSON(v, false, false)
		if err != nil {
			return fmt.Errorf("store: %s as JSON: %w", h.Collection, err)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return cur.Err()
}
