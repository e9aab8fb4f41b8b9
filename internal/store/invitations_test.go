package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestInvitationWritesAreConditional: a new link replaces the invitation
// only while it is still the one read; accepting works once, with the
// newest link, for an enabled account without a password; and of several
// requests accepting at once, one does (on either engine).
func TestInvitationWritesAreConditional(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	inv := &auth.Invitation{TokenHash: "h1", First: now, Sent: now, Expires: now.Add(auth.InvitationLifetime), Sends: 1}
	u := &auth.User{ID: "u1", Email: "u1@example.org", Name: "Una", Roles: []auth.Role{auth.RoleLearner}, Created: now, Invitation: inv, Version: 1}
	if err := e.DB.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	set := func(prev, next string, disabled *bool) bool {
		t.Helper()
		n := *inv
		n.TokenHash = next
		ok, err := e.DB.SetInvitation(ctx, "u1", prev, &n, disabled, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if set("stale", "h2", nil) {
		t.Fatal("replaced an invitation that was not the one named")
	}
	if !set("h1", "h2", nil) {
		t.Fatal("did not replace the invitation named")
	}
	if ok, _ := e.DB.AcceptInvitation(ctx, "u1", "h1", "hash", now); ok {
		t.Fatal("accepted with the old link")
	}
	// Revoked (the link ends, the account is disabled): nothing accepts.
	if !set("h2", "", new(true)) {
		t.Fatal("did not revoke")
	}
	if ok, _ := e.DB.AcceptInvitation(ctx, "u1", "", "hash", now); ok {
		t.Fatal("accepted an ended link")
	}
	if !set("", "h3", new(false)) {
		t.Fatal("did not send a new link after revoking")
	}
	// Several at once: one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			ok, err := e.DB.AcceptInvitation(ctx, "u1", "h3", "hash", now)
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		})
	}
	wg.Wait()
	close(wins)
	n := 0
	for ok := range wins {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of 8 acceptances took, want 1", n)
	}
	got, err := e.DB.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "hash" || got.Invitation.TokenHash != "" || got.Invitation.Accepted == nil || got.Disabled || got.Version < 2 {
		t.Fatalf("after accepting: %+v, invitation %+v", got, got.Invitation)
	}
	// With a password, no new link replaces the invitation.
	if set("", "h4", nil) {
		t.Fatal("replaced the invitation of an account with a password")
	}
}
