package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestDeleteUserResetsKeepsOnlyTheNamedOne deletes a user's earlier resets
// (found through their person/ list) and leaves the kept one and other
// people's alone.
func TestDeleteUserResetsKeepsOnlyTheNamedOne(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, r := range []auth.Reset{{ID: "r1", UserID: "u1"}, {ID: "r2", UserID: "u1"}, {ID: "r3", UserID: "u1"}, {ID: "r4", UserID: "u2"}} {
		r.Created, r.Expires = now, now.Add(auth.ResetTokenLifetime)
		if err := e.DB.InsertReset(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	// A message to u1 is in the same list: it stays.
	if _, err := e.DB.InsertMessage(ctx, &notify.Message{ID: "m1", To: "u1@example.org", UserID: "u1", Subject: "s", Created: now, Status: notify.StatusRecorded}); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.DeleteUserResets(ctx, "u1", "r2"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"r1": false, "r2": true, "r3": false, "r4": true} {
		if _, err := e.DB.Reset(ctx, id); (err == nil) != want {
			t.Errorf("reset %s: got err %v, want kept %v", id, err, want)
		}
	}
	refs, err := e.DB.PersonRefs(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range refs {
		listed = append(listed, r.Collection+"/"+r.ID)
	}
	if got := strings.Join(listed, " "); !strings.Contains(got, "password_resets/r2") || strings.Contains(got, "password_resets/r1") ||
		strings.Contains(got, "password_resets/r3") || !strings.Contains(got, "outbox/m1") {
		t.Fatalf("person/u1 lists %s; want r2 and m1 only", got)
	}
	if err := e.DB.DeleteUserResets(ctx, "u1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Reset(ctx, "r2"); err == nil {
		t.Fatal("r2 kept with nothing to keep")
	}
}

// TestExportOfASecretMessageHoldsNoBody: a person's data download shows a
// message that carried a one-time link without its bodies.
func TestExportOfASecretMessageHoldsNoBody(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	m := &notify.Message{ID: "m-secret", To: "u1@example.org", UserID: "u1", Subject: "Reset your password", Text: "v1:sealed-text-needle",
		HTML: "v1:sealed-html-needle", Secret: true, Created: time.Now().UTC(), Status: notify.StatusRecorded}
	if _, err := e.DB.InsertMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	b, err := e.DB.ExportDoc(ctx, "outbox", m.ID, "u1")
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "needle") || !strings.Contains(got, notify.SecretNotShown) || !strings.Contains(got, "Reset your password") {
		t.Fatalf("exported message: %s", got)
	}
}
