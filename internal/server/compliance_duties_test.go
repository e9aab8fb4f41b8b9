package server_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
)

// TestNobodyActsOnTheirOwnComplianceRecord gives an advocate the manager
// role, then the admin role, and has them try, as a client would, every
// action on their own record: reading the notes written about them,
// turning a "not suitable" DBS decision into "clear", passing their own
// references, adding self-verified referees, verifying and removing what
// their manager recorded. Each is refused and changes nothing; another
// manager still can.
func TestNobodyActsOnTheirOwnComplianceRecord(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	id := w.createAdvocate("Dana Dual", "dana@example.org")
	m := w.client(w.srv, w.session("manager"))
	fields := maps.Clone(dbsFields)
	fields["decision"] = "not-suitable"
	fields["decision_notes"] = "needle-dbs-concern-2231"
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", fields, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"Rosa Parks"}, "relationship": {"Former line manager"},
		"contact": {"rosa@example.org"}, "received_at": {"2026-02-10"}, "outcome": {"unsatisfactory"}, "notes": {"needle-reference-8812"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference: %d", resp.StatusCode)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/supervisions", url.Values{"sup_date": {"2026-11-01"}, "supervisor": {"Maya"}, "kind": {"individual"}, "sup_notes": {"needle-supervision-7720"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("supervision: %d", resp.StatusCode)
	}
	cpd := map[string]string{"date": "2026-10-01", "title": "Manager's entry", "type": "reading", "hours": "2", "learnt": "x", "impact": "y"}
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/cpd", cpd, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cpd: %d %s", resp.StatusCode, body)
	}
	before, err := w.env.DB.Advocate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.NewReplacer(":id", id, ":check", before.DBS[0].ID, ":ref", before.References[0].ID, ":entry", before.CPD[0].ID, ":n", "0")
	valid := map[string]url.Values{ // what a manager would post on each route: the refusal is not a form error
		"/manage/advocates/:id/dbs/:check/decision":     {"decision": {"clear"}, "decision_notes": {"fine"}},
		"/manage/advocates/:id/references/:ref/outcome": {"received_at": {"2026-03-01"}, "outcome": {"satisfactory"}},
		"/manage/advocates/:id/references":              {"referee": {"My Friend"}, "relationship": {"Friend"}, "contact": {"f@example.org"}, "received_at": {"2026-02-10"}, "outcome": {"satisfactory"}, "verified_directly": {"yes"}},
		"/manage/advocates/:id/supervisions":            {"sup_date": {"2026-11-02"}, "supervisor": {"Me"}, "kind": {"individual"}},
		"/manage/advocates/:id/profile":                 {"profession": {"other-advocate"}, "status": {"active"}, "contract_start": {"2026-03-01"}},
		"/manage/advocates/:id/dbs/:check/status-check": {"check_date": {"2026-11-20"}, "result": {"no-new-information"}},
	}
	for _, roles := range [][]auth.Role{
		{auth.RoleLearner, auth.RoleAdvocate, auth.RoleManager},
		{auth.RoleLearner, auth.RoleAdvocate, auth.RoleAdmin},
	} {
		if err := w.svc.Auth.SetRolesAndOrg(ctx, id, roles, w.orgA.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.env.DB.UpdateUser(ctx, id, auth.UserUpdate{TOTPEnabled: new(true)}); err != nil { // staff have 2FA set up
			t.Fatal(err)
		}
		self := w.client(w.srv, w.sessionFor(id))
		// Their own record, opened from the managers' pages, is the
		// advocate's view: no notes about them, nothing to act with.
		resp, page := self.do("GET", "/manage/advocates/"+id, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%v: own record: %d", roles, resp.StatusCode)
		}
		for _, needle := range []string{"needle-dbs-concern-2231", "needle-reference-8812", "needle-supervision-7720", "/decision", "/reveal", "Mark as verified", ">Verify</button>", "/manage/advocates/" + id + "/"} {
			if strings.Contains(page, needle) {
				t.Fatalf("%v: their own record shows %q", roles, needle)
			}
		}
		for _, rt := range w.srv.Routes() {
			if rt.Method != "POST" || !strings.HasPrefix(rt.Path, "/manage/advocates/:id/") || rt.Path == "/manage/advocates/:id/cpd" {
				continue // adding CPD to one's own record is theirs to do
			}
			target := ids.Replace(rt.Path)
			if strings.Contains(rt.Path, ":kind") {
				for kind, rec := range map[string]string{"cpd": before.CPD[0].ID, "references": before.References[0].ID, "supervisions": before.Supervisions[0].ID} {
					if resp, _ := self.post(strings.NewReplacer(":kind", kind, ":record", rec).Replace(target), nil); resp.StatusCode != http.StatusForbidden {
						t.Errorf("%v: removing their own %s: %d, want 403", roles, kind, resp.StatusCode)
					}
				}
				continue
			}
			if resp, body := self.post(target, valid[rt.Path]); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%v: POST %s on their own record: %d, want 403 (%.200s)", roles, rt.Path, resp.StatusCode, body)
			}
		}
		// Nor, as an advocate, may they remove what their manager recorded.
		if resp, _ := self.post("/my/compliance/cpd/"+before.CPD[0].ID+"/delete", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%v: removing the manager's CPD entry: %d, want 403", roles, resp.StatusCode)
		}
	}
	after, err := w.env.DB.Advocate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.DBS[0]; d.Decision != "not-suitable" || len(after.DBS) != 1 || len(d.StatusChecks) != 0 {
		t.Fatalf("the DBS record changed: %+v", d)
	}
	if r := after.References; len(r) != 1 || r[0].Outcome != "unsatisfactory" || r[0].VerifiedAt != nil {
		t.Fatalf("the references changed: %+v", r)
	}
	if len(after.Supervisions) != 1 || len(after.CPD) != 1 || after.CPD[0].VerifiedAt != nil || after.Status != before.Status {
		t.Fatalf("the record changed: %d supervisions, %+v", len(after.Supervisions), after.CPD)
	}
	// Another manager acts on it as before.
	if resp, _ := m.post("/manage/advocates/"+id+"/dbs/"+before.DBS[0].ID+"/decision", url.Values{"decision": {"clear-after-risk-assessment"}, "decision_notes": {"Risk assessed by the panel."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another manager's decision: %d", resp.StatusCode)
	}
}
