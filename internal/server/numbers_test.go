package server_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestCPDHoursNaNIsAFieldError: hours=NaN on the CPD form is a problem with
// the Hours field (422, the message beside the field), not a 500 that drops
// the database connection.
func TestCPDHoursNaNIsAFieldError(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Ada Lovelace", "ada@example.org")
	m := w.client(w.srv, w.session("manager"))
	for _, hours := range []string{"NaN", "nan", "Inf", "-Inf", "+Infinity", "1e400", "-1e309", "0x1p3"} {
		resp, body := m.postMultipart("/manage/advocates/"+id+"/cpd", map[string]string{"date": "2026-10-01", "title": "Reading", "type": "reading",
			"hours": hours, "learnt": "Things.", "impact": "More things."}, "", "", nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("hours=%s: got %d, want 422", hours, resp.StatusCode)
		}
		if !besideField(body, "f-hours", "Hours must be a number") {
			t.Fatalf("hours=%s: no message beside the Hours field", hours)
		}
	}
	if resp, _ := m.do("GET", "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after the bad input: %d", resp.StatusCode)
	}
	if resp, _ := m.do("GET", "/manage/advocates/"+id, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the advocate's page after the bad input: %d", resp.StatusCode)
	}
	a, err := w.env.DB.Advocate(context.Background(), id)
	if err != nil || len(a.CPD) != 0 {
		t.Fatalf("CPD entries after only bad input: %d, %v", len(a.CPD), err)
	}
}

// besideField reports whether the page shows msg as the error of the field
// with the given element id, and marks the field invalid.
func besideField(body, id, msg string) bool {
	return regexp.MustCompile(`id="`+regexp.QuoteMeta(id)+`-error"[^>]*>(?:<[^>]*>[^<]*</span>)?[^<]*`+regexp.QuoteMeta(msg)).MatchString(body) &&
		regexp.MustCompile(`<input id="`+regexp.QuoteMeta(id)+`"[^>]*aria-invalid="true"`).MatchString(body)
}

// TestEveryNumberAndDateFieldSaysWhatIsWrongBesideIt: each number and date
// field of the forms refuses NaN, infinities, absurd ranges and days that do
// not exist with a 422 and a message beside the field.
func TestEveryNumberAndDateFieldSaysWhatIsWrongBesideIt(t *testing.T) {
	w := newWorld(t, sampleDir)
	id := w.createAdvocate("Mary Seacole", "mary@example.org")
	m := w.client(w.srv, w.session("manager"))
	dbs := maps.Clone(dbsFields)
	dbs["update_service"] = "yes"
	if resp, body := m.postMultipart("/manage/advocates/"+id+"/dbs", dbs, "", "", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dbs: %d %s", resp.StatusCode, body)
	}
	if resp, _ := m.post("/manage/advocates/"+id+"/references", url.Values{"referee": {"Rosa"}, "relationship": {"Former manager"}, "contact": {"r@example.org"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reference: %d", resp.StatusCode)
	}
	a, err := w.env.DB.Advocate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	adv := "/manage/advocates/" + id
	cpd := map[string]string{"date": "2026-10-01", "title": "Reading", "type": "reading", "hours": "2", "learnt": "x", "impact": "y"}
	with := func(base map[string]string, k, v string) map[string]string {
		out := maps.Clone(base)
		out[k] = v
		return out
	}
	profile := map[string]string{"profession": "other-advocate", "status": "active"}
	tests := []struct {
		name, target string
		fields       map[string]string
		multipart    bool
		id, want     string
	}{
		{"CPDHoursAbove100", adv + "/cpd", with(cpd, "hours", "101"), true, "f-hours", "at most 100"},
		{"CPDHoursZero", adv + "/cpd", with(cpd, "hours", "0"), true, "f-hours", "more than 0"},
		{"CPDDateNotADay", adv + "/cpd", with(cpd, "date", "2026-02-30"), true, "f-date", "Date must be a real date"},
		{"CPDDateFiveDigitYear", adv + "/cpd", with(cpd, "date", "99999-01-01"), true, "f-date", "Date must be a real date"},
		{"CPDPeerDateInf", adv + "/cpd", with(with(cpd, "peer_name", "Pat"), "peer_date", "Inf"), true, "f-peer_date", "must be a real date"},
		{"DBSIssueDateAncient", adv + "/dbs", with(dbsFields, "issue_date", "1899-12-31"), true, "f-issue_date", "too far in the past"},
		{"DBSSeenInTheFuture", adv + "/dbs", with(dbsFields, "original_seen_at", "9999-12-31"), true, "f-original_seen_at", "cannot be in the future"},
		{"ProfileRenewalFarAhead", adv + "/profile", with(profile, "registration_due", "9999-12-31"), false, "f-registration_due", "within the next 10 years"},
		{"ProfileContractNaN", adv + "/profile", with(profile, "contract_start", "NaN"), false, "f-contract_start", "must be a real date"},
		{"NewAdvocateContractYearZero", "/manage/advocates", with(with(with(profile, "name", "Ann"), "email", "ann@example.org"), "contract_start", "0000-01-01"), false,
			"f-contract_start", "too far in the past"},
		{"StatusCheckNotADay", adv + "/dbs/" + a.DBS[0].ID + "/status-check", map[string]string{"check_date": "2026-13-01", "result": "no-change"}, false,
			"f-check-date-" + a.DBS[0].ID, "must be a real date"},
		{"ReferenceRequestedNotADay", adv + "/references", map[string]string{"referee": "Ruth", "relationship": "Former manager", "contact": "x@example.org",
			"requested_at": "2026-04-31"}, false, "f-requested_at", "must be a real date"},
		{"OutcomeReceivedNaN", adv + "/references/" + a.References[0].ID + "/outcome", map[string]string{"received_at": "NaN", "outcome": "satisfactory"}, false,
			"f-received-" + a.References[0].ID, "must be a real date"},
		{"SupervisionDateNegativeOverflow", adv + "/supervisions", map[string]string{"sup_date": "-1e309", "supervisor": "Sam", "kind": "group"}, false,
			"f-sup_date", "must be a real date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tt.multipart {
				resp, body = m.postMultipart(tt.target, tt.fields, "", "", nil)
			} else {
				form := url.Values{}
				for k, v := range tt.fields {
					form.Set(k, v)
				}
				resp, body = m.post(tt.target, form)
			}
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", resp.StatusCode)
			}
			if !besideField(body, tt.id, tt.want) {
				t.Fatalf("no %q beside #%s", tt.want, tt.id)
			}
		})
	}
	t.Run("PageNumbers", func(t *testing.T) {
		// A page number that is no page number shows the first page; a
		// huge one used to overflow the offset into an empty list.
		admin := w.client(w.srv, w.session("admin"))
		for _, page := range []string{"NaN", "9223372036854775807", "-1", "1e400", "1.5", "0x10"} {
			resp, body := admin.do("GET", "/admin/users?page="+url.QueryEscape(page), nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "learner@example.org") {
				t.Errorf("page=%s: got %d, want 200 with the first page", page, resp.StatusCode)
			}
		}
	})
	t.Run("AuditFilterDates", func(t *testing.T) {
		admin := w.client(w.srv, w.session("admin"))
		for q, want := range map[string][2]string{
			"from=2026-02-30": {"f-from", "From must be a real date"},
			"to=NaN":          {"f-to", "To must be a real date"},
			"from=0001-01-01": {"f-from", "too far in the past"},
			"to=9999-12-31":   {"f-to", "too far in the future"},
		} {
			resp, body := admin.do("GET", "/admin/audit?"+q, nil)
			if resp.StatusCode != http.StatusUnprocessableEntity || !besideField(body, want[0], want[1]) {
				t.Errorf("%s: got %d, want 422 with %q beside #%s", q, resp.StatusCode, want[1], want[0])
			}
		}
	})
}
