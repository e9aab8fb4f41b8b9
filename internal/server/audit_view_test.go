package server

import (
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/compliance"
)

// TestEventsReadAsWords: an event names its record by what a person knows
// it by (the DBS check by its level and date), shows a change as before →
// after, leaves out fields a change kept, and writes values as words.
func TestEventsReadAsWords(t *testing.T) {
	issued := time.Date(2026, 3, 3, 0, 0, 0, 0, compliance.London)
	a := &compliance.Advocate{ID: "a1", Name: "Amira", DBS: []compliance.DBSCheck{{ID: "d1", Level: "enhanced", IssueDate: issued}}}
	n := &eventNames{people: map[string]string{"a1": "Amira", "m1": "Maya Manager"}, advocates: map[string]*compliance.Advocate{"a1": a}}
	got := n.view(audit.Event{Action: "dbs.decision", Target: "advocate:a1",
		Before: map[string]any{"check": "d1", "decision": "pending"}, After: map[string]any{"check": "d1", "decision": "not-suitable", "notes_changed": true}})
	want := []changeView{{Label: "DBS check", After: "Enhanced check issued 3 March 2026"}, {Label: "Decision", Before: "Pending", After: "Not suitable"},
		{Label: "Notes changed", After: "yes"}}
	if got.What != "DBS decision recorded" || got.Record != "Amira" || got.Link != "/manage/advocates/a1" || len(got.Changes) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got.Changes[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got.Changes[i], want[i])
		}
	}
	// A profile change shows only what changed; the manager by name.
	got = n.view(audit.Event{Action: "advocate.update", Target: "advocate:a1",
		Before: map[string]any{"name": "Amira", "status": "active", "manager_id": ""}, After: map[string]any{"name": "Amira", "status": "paused", "manager_id": "m1"}})
	var lines []string
	for _, c := range got.Changes {
		lines = append(lines, c.Label+": "+c.Before+" → "+c.After)
	}
	if s := strings.Join(lines, "; "); s != "Status: Active → Paused; Named manager: none → Maya Manager" {
		t.Errorf("profile change: %s", s)
	}
	// A record no longer there, and a person no longer here.
	got = n.view(audit.Event{Action: "dbs.reveal_number", Target: "advocate:gone", After: map[string]any{"check": "zz"}})
	if got.Record != "a person no longer here" || got.Changes[0].After != "one no longer on the record" {
		t.Errorf("gone: %+v", got)
	}
}
