package store

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Holding says what one collection holds about a person. Every collection
// in Collections has exactly one Holding; a test enforces it, so a new
// collection cannot be left out of exports and erasure silently.
type Holding struct {
	Collection string
	// Found says how a person's documents in the collection are found:
	// always by _id, from their ID, from a list written with the record
	// (see person_index.go) or from another of their records. PersonData
	// follows it; a test checks that it fills every collection that says
	// how.
	Found string
	// Omit lists fields left out of an export: secrets that identify
	// nothing about the person but would weaken their account if leaked.
	Omit []string
	// None, when the collection holds nothing about individual people,
	// says why (and Found is empty).
	None string
}

// auditForExport shortens an audit event the person made about someone
// else to what it says about them: when they did what kind of thing. The
// target's identity and the values changed belong to the other person.
func auditForExport(doc bson.Raw, userID string) (bson.D, bool) {
	target, _ := doc.Lookup("target").StringValueOK()
	if target == "user:"+userID || target == "advocate:"+userID {
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
	{Collection: colUsers, Found: "_id: the user's ID", Omit: []string{"password_hash", "totp_secret", "totp_pending", "recovery_hashes"}},
	{Collection: colUserEmails, Found: "_id: the account's email address (and, during an erasure, the one it had), where the claim names the user"},
	{Collection: colTOTPSteps, Found: "_id: the user's ID"},
	{Collection: colThrottle, Found: `_id "acct:<keyed hash of the email>": recent sign-in attempts against their address (deleted within 24 hours)`},
	{Collection: colSessions, Found: "the sessions@<user> list", Omit: []string{"_id"}}, // the _id is a hash of the session cookie
	{Collection: colResets, Found: `"password_resets/<id>" rows of the person/<user> list`, Omit: []string{"_id", "stamp"}},
	{Collection: colOutbox, Found: `"outbox/<id>" rows of the person/<user> list, and the outbox@to/<address> list of their address`},
	{Collection: colNotifications, Found: "_id: the user's ID (their own list of notifications)"},
	{Collection: colEnrolments, Found: `"enrolments/<id>" rows of the person/<user> list`},
	{Collection: colAttempts, Found: "_id <enrolment>/<n> for each attempt on their enrolments (and the one after, which a crash may have left unrecorded)"},
	{Collection: colSubmissions, Found: "_id <enrolment>/<n>, as attempts"},
	{Collection: colCertificates, Found: `"certificates/<code>" rows of the person/<user> list, the codes on their enrolments and on the claims of their passes`},
	{Collection: colCertClaims, Found: "_id <enrolment>/<n> for each passed attempt on their enrolments"},
	{Collection: colCertRevs, Found: "_id <code>/<n> for each revision of their certificates"},
	{Collection: colCertHashes, Found: "_id: the SHA-256 recorded on their certificates and on each revision"},
	{Collection: colJobs, Found: `"jobs/<id>" rows of the person/<user> list (bulk jobs they started)`},
	{Collection: colAudit, Found: "the audit@actor/<user>, audit@target/user:<user> and audit@target/advocate:<user> lists"},
	{Collection: colAdvocates, Found: "_id: the user's ID"},
	{Collection: colRollups, Found: "_id: their advocate record's organisation (their row only)"},
	{Collection: colDBSScans, Found: "_id: the scan keys on their advocate record's DBS checks"},
	{Collection: colExports, Found: "the exports@<user> list"},
	{Collection: colRights, Found: `"rights_requests/<id>" rows of the person/<user> list: data-rights requests about their account (erasure keeps them as the record of what was done, with their name and contact taken out)`},
	{Collection: colLive, Found: `"live_sessions/<id>" rows of the person/<user> list: the live sessions they booked or wait for (their booking of each only)`},
	{Collection: colLiveFeeds, Found: "_id: the user's ID (the generation of their calendar feed link)"},
	{Collection: colEvaluations, None: "course evaluations kept apart from identities: each learner's answers sit under a per-course pseudonym (a keyed hash of their account ID), never their ID, name or email. The store cannot link them to a person; the impact service finds a learner's own from their enrolments, puts them in their data download (course_evaluations.json) and deletes them on erasure"},
	{Collection: colFollowUpsDue, None: "work in progress: per day, the enrolments whose course follow-up falls due that day; each day's list is deleted two weeks after the day, and an erased learner's entries are taken out"},
	{Collection: colTrends, None: "each organisation's daily counts of advocates cleared and requirements overdue: numbers, no people"},
	{Collection: colOrgs, None: "organisations: names of agencies, not of people"},
	{Collection: colRateLimits, None: "request counters, one field per hashed key (a keyed hash of a network or email address), deleted within two hours"},
	{Collection: colLeases, None: "which app instance runs a scheduled job"},
	{Collection: "meta", None: "the database's own settings"},
	{Collection: colLists, None: "the lists that find records without searching: rows of record IDs, and of names and emails kept in step with the accounts they come from, and the organisation names people typed at registration with their account IDs (erasure anonymises the account, which rewrites its rows, and removes its rows from the list of people who acted in the audit trail)"},
}

func init() {
	for _, q := range queues {
		h := Holding{Collection: workCollection(q), None: "work in progress, keyed by record IDs; each item is deleted when its work is done"}
		if q == QueueCompliance {
			h.None = "changes to advocates' records being made (while a new advocate's account and record are made, their name and email); each item is deleted within minutes, when its change is done"
		}
		Holdings = append(Holdings, h)
	}
}

// HoldingOf returns the holding of a collection.
func HoldingOf(collection string) (Holding, bool) {
	for _, h := range Holdings {
		if h.Collection == collection {
			return h, true
		}
	}
	return Holding{}, false
}
