package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/errs"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// What a person's data holds of the compliance record and the audit trail
// (see person_data.go).

// compliance: the advocate record, their dashboard row, DBS scans awaiting
// deletion, and evidence and scan files.
func (g *gathering) compliance(ctx context.Context, _ []Ref) error {
	a, err := g.db.Advocate(ctx, g.p.UserID)
	if errs.Is(err, errs.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	g.p.Advocate = a
	g.add(colAdvocates, a.ID)
	orgs := []string{a.OrgID}
	if g.p.User != nil && g.p.User.OrgID != a.OrgID {
		orgs = append(orgs, g.p.User.OrgID)
	}
	for _, org := range orgs {
		ok, err := g.db.hasRollupRow(ctx, org, a.ID)
		if err != nil {
			return err
		}
		if ok {
			g.add(colRollups, org)
		}
	}
	for _, e := range a.CPD {
		for i, ev := range e.Evidence {
			g.p.Files = append(g.p.Files, File{Key: ev.Key, Name: fmt.Sprintf("files/cpd-evidence/%s-%d-%s", e.ID, i+1, safeName(ev.Name)), Sealed: ev.Sealed})
		}
	}
	for _, d := range a.DBS {
		if d.ScanKey == "" {
			continue
		}
		g.p.Files = append(g.p.Files, File{Key: d.ScanKey, Name: "files/dbs-scans/" + d.ID + path.Ext(d.ScanKey), Sealed: d.ScanSealed})
		if err := g.addIfExists(ctx, colDBSScans, d.ScanKey); err != nil {
			return err
		}
	}
	return nil
}

// hasRollupRow reports whether an organisation's dashboard has a row for
// the advocate (a point read of that row only).
func (db *DB) hasRollupRow(ctx context.Context, orgID, id string) (bool, error) {
	if orgID == "" {
		return false, nil
	}
	var d rollupDoc
	err := db.coll(colRollups).FindOne(ctx, bson.D{{Key: "_id", Value: orgID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rows, err := d.rows()
	if err != nil {
		return false, err
	}
	_, ok := rows[id]
	return ok, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

// audit: the events they caused and those about them, the advocates they
// acted on and the names they acted under.
func (g *gathering) audit(ctx context.Context, _ []Ref) error {
	uid := g.p.UserID
	names := map[string]bool{}
	byThem := map[string]bool{}
	acted := map[string]bool{}
	err := g.db.auditByActor(uid).Scan(ctx, "", func(r Row) (bool, error) {
		var ar auditRow
		if err := r.Decode(&ar); err != nil {
			return false, err
		}
		byThem[r.Key] = true
		if id, ok := strings.CutPrefix(ar.Target, "advocate:"); ok && id != uid && !acted[id] {
			acted[id] = true
			g.p.ActedOn = append(g.p.ActedOn, id)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	var ids []string
	for id := range byThem {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, t := range []string{"user:" + uid, "advocate:" + uid} {
		err := g.db.auditByTarget(t).Scan(ctx, "", func(r Row) (bool, error) {
			ids = append(ids, r.Key)
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	for _, id := range ids {
		if g.seen[colAudit+"/"+id] {
			continue
		}
		e, err := findByID[audit.Event](ctx, g.db.coll(colAudit), id, "event")
		if errs.Is(err, errs.ENOTFOUND) {
			continue // a row whose event was never written
		}
		if err != nil {
			return err
		}
		g.add(colAudit, id)
		if e.ActorID == uid && e.Actor != "" && !names[e.Actor] {
			names[e.Actor] = true
			g.p.ActorNames = append(g.p.ActorNames, e.Actor)
		}
	}
	return nil
}
