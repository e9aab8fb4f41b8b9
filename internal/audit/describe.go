package audit

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The words the audit view shows for what is stored: an action
// ("dbs.decision") as "DBS decision recorded", a field of Before or After
// ("received_at") as "Date received". An action or field not listed here
// still reads as words, from its name.

// actionLabels names every action recorded.
var actionLabels = map[string]string{
	"advocate.create":             "Advocate record created",
	"advocate.update":             "Profile changed",
	"advocate.mandatory_training": "Mandatory training changed",
	"advocate.notes_viewed":       "Notes viewed",
	"advocate.reminded":           "Reminder sent",
	"advocate.retention_delete":   "Record deleted at the end of its retention period",
	"dbs.create":                  "DBS check recorded",
	"dbs.status_check":            "Update Service status check recorded",
	"dbs.decision":                "DBS decision recorded",
	"dbs.reveal_number":           "DBS certificate number revealed",
	"dbs.consent":                 "Consent to Update Service status checks recorded",
	"dbs.consent_withdrawn":       "Consent to Update Service status checks withdrawn",
	"dbs.reveal_dob":              "Date of birth revealed",
	"dbs.status_review":           "Decision on a status check recorded",
	"dbs.scan_deleted":            "DBS certificate scan deleted",
	"dbs.notes_deleted":           "DBS decision notes deleted",
	"reference.create":            "Reference recorded",
	"reference.outcome":           "Reference outcome recorded",
	"reference.verify":            "Reference verified",
	"references.delete":           "Reference removed",
	"cpd.create":                  "CPD entry recorded",
	"cpd.verify":                  "CPD entry verified",
	"cpd.delete":                  "CPD entry removed",
	"supervision.create":          "Supervision recorded",
	"supervisions.delete":         "Supervision removed",
	"certificate.revoke":          "Certificate revoked",
	"certificate.reissue":         "Certificate reissued",
	"certificate.bulk_reissue":    "Certificates of a course reissued",
	"user.join_approve":           "Request to join approved",
	"user.join_decline":           "Request to join declined",
	"user.export":                 "Personal data downloaded",
	"user.erase":                  "Personal data erased",
	"user.invite":                 "Person added and invited",
	"user.invitation_resend":      "Invitation sent again",
	"user.invitation_revoke":      "Invitation revoked",
	"user.invitation_accept":      "Invitation accepted",
	"user.bulk_upload":            "People added from a file",
	"user.password_reset_sent":    "Password reset link sent",
	"user.two_factor_reset":       "Two-factor authentication reset",
	"user.sign_out_everywhere":    "Signed out everywhere",
	"org.merge_unlisted":          "Unlisted organisation merged into a partner organisation",
	"rights.create":               "Data-rights request logged",
	"rights.status":               "Data-rights request moved on",
	"impact.comment_published":    "A course evaluation comment marked publishable (or unmarked)",
}

// ActionLabel returns the words for an action, e.g. "Certificate revoked"
// for certificate.revoke.
func ActionLabel(action string) string {
	if l, ok := actionLabels[action]; ok {
		return l
	}
	// "widget.bulk_change" → "Widget: bulk change".
	area, what, ok := strings.Cut(action, ".")
	if !ok {
		return Words(action)
	}
	return Words(area) + ": " + strings.ReplaceAll(what, "_", " ")
}

// fields lists the fields of Before and After in the order they are shown,
// with their labels.
var fields = []struct{ Key, Label string }{
	// Which record the event is about.
	{"check", "DBS check"}, {"reference", "Reference"}, {"entry", "CPD entry"}, {"supervision", "Supervision"},
	{"records", "Notes of"}, {"checks", "DBS checks"}, {"requirement", "Requirement"},
	// The profile.
	{"name", "Name"}, {"status", "Status"}, {"profession", "Profession"}, {"professional_body", "Professional body"},
	{"registration_no", "Registration number"}, {"registration_due", "Registration due"}, {"contract_start", "Contract start"},
	{"manager_id", "Named manager"}, {"mandatory_courses", "Mandatory courses"},
	// DBS checks.
	{"level", "Level"}, {"workforce", "Workforce"}, {"barred_lists", "Barred lists"}, {"role_eligible", "Role eligibility"},
	{"issue_date", "Issue date"}, {"update_service", "On the Update Service"}, {"result", "Result"},
	{"decision", "Decision"}, {"notes_changed", "Notes changed"}, {"how", "How consent was given"}, {"scan", "Certificate scan kept"},
	// References, CPD and supervisions.
	{"referee", "Referee"}, {"organisation", "Organisation"}, {"outcome", "Outcome"}, {"received_at", "Date received"},
	{"title", "Title"}, {"type", "Type"}, {"kind", "Kind"}, {"supervisor", "Supervisor"}, {"date", "Date"},
	{"hours", "Hours"}, {"evidence", "Evidence files"}, {"source", "Source"}, {"version", "Course version"},
	{"verified", "Verified"},
	// Certificates and accounts.
	{"state", "State"}, {"reason", "Reason"}, {"revision", "Revision"}, {"job", "Job"},
	{"certificates", "Certificates"}, {"org_id", "Organisation"}, {"due", "Due by"},
}

// FieldLabel returns the words for a field of Before or After, e.g.
// "Date received" for received_at.
func FieldLabel(key string) string {
	for _, f := range fields {
		if f.Key == key {
			return f.Label
		}
	}
	return Words(key)
}

// FieldKeys returns the keys of before and after together, once each, in
// the order they are shown: the listed fields first, then the others by
// name.
func FieldKeys(before, after map[string]any) []string {
	var keys []string
	for _, m := range []map[string]any{before, after} {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	rank := func(k string) int {
		if i := slices.IndexFunc(fields, func(f struct{ Key, Label string }) bool { return f.Key == k }); i >= 0 {
			return i
		}
		return len(fields)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return keys
}

// Target splits an event's target ("advocate:<id>") into its kind and ID;
// a target without a kind is all ID.
func Target(target string) (kind, id string) {
	if k, id, ok := strings.Cut(target, ":"); ok {
		return k, id
	}
	return "", target
}

// Words turns a stored name into words: "professional_body" →
// "Professional body", "not-suitable" → "Not suitable".
func Words(name string) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(name))
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
