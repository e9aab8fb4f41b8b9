package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestJoinRequestsAreListedAndDecidedOnce: requests are listed by
// organisation and for all, counted, and ended by one conditional write
// however many decide at once; a row whose account no longer has the
// request is not shown.
func TestJoinRequestsAreListedAndDecidedOnce(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	add := func(id, name, org string, day int) *auth.User {
		t.Helper()
		u := &auth.User{ID: id, Email: id + "@example.org", Name: name, Roles: []auth.Role{auth.RoleLearner}, Created: at(day), Updated: at(day),
			JoinRequest: &auth.JoinRequest{OrgID: org, Requested: at(day)}}
		if err := e.DB.ListJoinRequest(ctx, u.ID, *u.JoinRequest); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.InsertUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a1, a2 := add("a1", "Ann", "org-a", 2), add("a2", "Abe", "org-a", 1)
	b1 := add("b1", "Bea", "org-b", 3)
	ids := func(org string) []string {
		t.Helper()
		us, _, err := e.DB.JoinRequests(ctx, org, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	count := func(org string) int {
		t.Helper()
		n, err := e.DB.CountJoinRequests(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := ids("org-a"); len(got) != 2 || got[0] != "a2" || got[1] != "a1" {
		t.Fatalf("org-a's requests: got %v, want [a2 a1] (oldest first)", got)
	}
	if got := ids(""); len(got) != 3 || count("") != 3 || count("org-b") != 1 {
		t.Fatalf("every request: got %v, counts %d and %d; want 3 requests, 3 and 1", got, count(""), count("org-b"))
	}

	t.Run("DecidedOnceWhateverTheRace", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]bool, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := e.DB.EndJoinRequest(ctx, a1.ID, *a1.JoinRequest, i%2 == 0, at(5))
				if err != nil {
					t.Error(err)
				}
				results[i] = ok
			}()
		}
		wg.Wait()
		n := 0
		for _, ok := range results {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d decisions took effect, want 1", n)
		}
		got, err := e.DB.User(ctx, a1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.JoinRequest != nil || got.OrgID != "" && got.OrgID != "org-a" {
			t.Fatalf("after deciding: organisation %q, request %+v", got.OrgID, got.JoinRequest)
		}
		members, _, err := e.DB.ListUsers(ctx, auth.UserQuery{OrgID: "org-a", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if in := len(members) == 1 && members[0].ID == a1.ID; in != (got.OrgID == "org-a") {
			t.Fatalf("org-a's people %v, with the account in organisation %q", members, got.OrgID)
		}
		if got := ids("org-a"); len(got) != 1 || got[0] != "a2" || count("org-a") != 1 || count("") != 2 {
			t.Fatalf("after deciding: org-a's requests %v, counts %d and %d; want [a2], 1 and 2", got, count("org-a"), count(""))
		}
	})
	t.Run("ApprovalJoinsTheOrganisationsPeople", func(t *testing.T) {
		if ok, err := e.DB.EndJoinRequest(ctx, b1.ID, *b1.JoinRequest, true, at(6)); err != nil || !ok {
			t.Fatalf("approving: %v, %v", ok, err)
		}
		members, total, err := e.DB.ListUsers(ctx, auth.UserQuery{OrgID: "org-b", Limit: 50})
		if err != nil || total != 1 || len(members) != 1 || members[0].ID != b1.ID || members[0].OrgID != "org-b" {
			t.Fatalf("org-b's people: %v (%d), %v", members, total, err)
		}
	})
	t.Run("ARequestNoLongerOnTheAccountIsNotShown", func(t *testing.T) {
		// As a crash between the row and the account would leave it.
		ghost := auth.JoinRequest{OrgID: "org-a", Requested: at(7)}
		if err := e.DB.ListJoinRequest(ctx, "ghost", ghost); err != nil {
			t.Fatal(err)
		}
		if got := ids("org-a"); len(got) != 1 || got[0] != a2.ID {
			t.Fatalf("org-a's requests: got %v, want only [a2]", got)
		}
	})
}

func TestSetEmailConfirmIsConditionalOnTheLinkPending(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	u := &auth.User{ID: "u1", Email: "u1@example.org", Name: "U", Created: at(1), Updated: at(1),
		EmailConfirm: &auth.EmailConfirm{TokenHash: "first", Sent: at(1), Expires: at(2)}}
	if err := e.DB.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	next := &auth.EmailConfirm{TokenHash: "second", Sent: at(3), Expires: at(4)}
	if ok, err := e.DB.SetEmailConfirm(ctx, u.ID, "other", next); err != nil || ok {
		t.Fatalf("replacing a link that is not pending: %v, %v; want false", ok, err)
	}
	if ok, err := e.DB.SetEmailConfirm(ctx, u.ID, "first", next); err != nil || !ok {
		t.Fatalf("replacing the pending link: %v, %v; want true", ok, err)
	}
	if ok, err := e.DB.SetEmailConfirm(ctx, u.ID, "first", nil); err != nil || ok {
		t.Fatalf("confirming with the replaced link: %v, %v; want false", ok, err)
	}
	if ok, err := e.DB.SetEmailConfirm(ctx, u.ID, "second", nil); err != nil || !ok {
		t.Fatalf("confirming with the pending link: %v, %v; want true", ok, err)
	}
	got, err := e.DB.User(ctx, u.ID)
	if err != nil || got.EmailConfirm != nil || got.Version != 2 {
		t.Fatalf("after confirming: %+v (version %d), %v; want none pending, version 2", got.EmailConfirm, got.Version, err)
	}
}
