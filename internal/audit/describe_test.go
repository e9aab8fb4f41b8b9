package audit_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/audit"
)

func TestActionsReadAsWords(t *testing.T) {
	for action, want := range map[string]string{
		"dbs.create":            "DBS check recorded",
		"advocate.notes_viewed": "Notes viewed",
		"certificate.revoke":    "Certificate revoked",
		"supervisions.delete":   "Supervision removed",
		"widget.bulk_change":    "Widget: bulk change", // not listed: still words
		"oddity":                "Oddity",
	} {
		if got := audit.ActionLabel(action); got != want {
			t.Errorf("ActionLabel(%q): got %q, want %q", action, got, want)
		}
	}
}

func TestFieldsReadAsWordsInTheirOrder(t *testing.T) {
	if got := audit.FieldLabel("received_at"); got != "Date received" {
		t.Errorf("received_at: got %q", got)
	}
	if got := audit.FieldLabel("some_new_field"); got != "Some new field" {
		t.Errorf("an unlisted field: got %q", got)
	}
	got := audit.FieldKeys(map[string]any{"outcome": "x", "reference": "r"}, map[string]any{"zeta": 1, "outcome": "y", "alpha": 2, "received_at": "2026-01-01"})
	want := []string{"reference", "outcome", "received_at", "alpha", "zeta"}
	if !slices.Equal(got, want) {
		t.Errorf("FieldKeys: got %v, want %v", got, want)
	}
	if k, id := audit.Target("advocate:abc:def"); k != "advocate" || id != "abc:def" {
		t.Errorf("Target: got %q %q", k, id)
	}
}

// TestEveryRecordedActionHasWords reads the code that records events: an
// action added without words here fails (the audit view would show it
// spelt as stored).
func TestEveryRecordedActionHasWords(t *testing.T) {
	// The forms that record an action: Action: "x.y", action := "x.y",
	// s.update/apply/audit/event(…, "x.y", …).
	re := regexp.MustCompile(`(?:Action: |action :?= |s\.(?:update|updateOwn|apply|audit|event)\([^"]*)"([a-z_]+\.[a-z_]+)"`)
	found := map[string]bool{}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Deleting a record is kind+".delete" (compliance.DeleteRecord).
	for _, kind := range []string{"cpd", "references", "supervisions"} {
		found[kind+".delete"] = true
	}
	if len(found) < 20 {
		t.Fatalf("found only %d actions in the code: is the pattern still right?", len(found))
	}
	for action := range found {
		if l := audit.ActionLabel(action); strings.Contains(l, ":") || strings.Contains(l, "_") {
			t.Errorf("action %s has no words of its own (reads %q)", action, l)
		}
	}
}
