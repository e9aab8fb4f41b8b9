package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestUnlistedOrganisationsAreListedWithTheirAccounts: the names typed at
// registration are listed once per key with their account counts; a
// rename leaves them, erasure and a move take the account out, and a name
// with no account left goes, even while another account gives it at the
// same time.
func TestUnlistedOrganisationsAreListedWithTheirAccounts(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	add := func(id, org string, day int) *auth.User {
		t.Helper()
		u := &auth.User{ID: id, Email: id + "@example.org", Name: "Person " + id, Roles: []auth.Role{auth.RoleLearner}, Created: at(day), Updated: at(day), UnlistedOrg: org}
		if err := e.DB.InsertUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	names := func() map[string]int {
		t.Helper()
		ns, total, err := e.DB.UnlistedNames(ctx, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, n := range ns {
			out[n.Name] = n.Accounts
		}
		if total != len(ns) {
			t.Errorf("total %d, page of %d", total, len(ns))
		}
		return out
	}
	a := add("a", "Leeds Refuge", 1)
	add("b", "LEEDS REFUGE.", 2)
	c := add("c", "Hull Aid", 3)
	add("n", "", 4)
	if got := names(); len(got) != 2 || got["Leeds Refuge"] != 2 || got["Hull Aid"] != 1 {
		t.Fatalf("names: got %v, want Leeds Refuge (as first typed) 2, Hull Aid 1", got)
	}
	rows, n, err := e.DB.UnlistedAccounts(ctx, "leeds refuge", 0, 10)
	if err != nil || n != 2 || len(rows) != 2 || rows[0].User == nil || rows[0].User.ID != "a" || rows[1].User.ID != "b" {
		t.Fatalf("Leeds accounts: %+v (%d) %v; want a then b", rows, n, err)
	}

	t.Run("ARenameKeepsTheRows", func(t *testing.T) {
		if err := e.DB.UpdateUser(ctx, a.ID, auth.UserUpdate{Name: new("Ann Renamed")}); err != nil {
			t.Fatal(err)
		}
		if got := names(); got["Leeds Refuge"] != 2 {
			t.Fatalf("after a rename: %v", got)
		}
	})
	t.Run("ErasureTakesTheAccountOut", func(t *testing.T) {
		if err := e.DB.UpdateUser(ctx, c.ID, auth.UserUpdate{Erasure: &auth.Erasure{Started: at(5), Name: c.Name, Email: c.Email}, Disabled: new(true)}); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.UpdateUser(ctx, c.ID, auth.UserUpdate{Name: new(auth.ErasedName), Email: new(auth.ErasedEmail(c.ID))}); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 1 || got["Hull Aid"] != 0 {
			t.Fatalf("after erasing Hull Aid's only account: %v, want Hull Aid gone", got)
		}
	})
	t.Run("AMoveIsOneConditionalWrite", func(t *testing.T) {
		r := &auth.JoinRequest{OrgID: "org-p", Requested: at(6)}
		if ok, err := e.DB.MoveUnlisted(ctx, a.ID, "not what it typed", r, at(6)); err != nil || ok {
			t.Fatalf("move with the wrong name: %v %v, want nothing done", ok, err)
		}
		if n, _ := e.DB.CountJoinRequests(ctx, "org-p"); n != 0 {
			t.Fatalf("a move not done left %d request rows", n)
		}
		// Many at once: one moves.
		var wg sync.WaitGroup
		results := make([]bool, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], _ = e.DB.MoveUnlisted(ctx, a.ID, "Leeds Refuge", r, at(6))
			}()
		}
		wg.Wait()
		moved := 0
		for _, ok := range results {
			if ok {
				moved++
			}
		}
		u, err := e.DB.User(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if moved != 1 || u.UnlistedOrg != "" || u.JoinRequest == nil || u.JoinRequest.OrgID != "org-p" {
			t.Fatalf("moved %d times; account unlisted %q request %+v", moved, u.UnlistedOrg, u.JoinRequest)
		}
		if n, _ := e.DB.CountJoinRequests(ctx, "org-p"); n != 1 {
			t.Errorf("org-p's requests: %d, want 1", n)
		}
		if got := names(); got["Leeds Refuge"] != 1 {
			t.Errorf("after the move: %v, want Leeds Refuge 1", got)
		}
	})
	t.Run("TheLastAccountLeavingWhileAnotherArrives", func(t *testing.T) {
		// b leaves the name as d gives it: the name is listed with d.
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := e.DB.MoveUnlisted(ctx, "b", "LEEDS REFUGE.", nil, at(7)); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			add("d", "Leeds refuge", 7)
		}()
		wg.Wait()
		if got := names(); got["Leeds Refuge"]+got["Leeds refuge"] != 1 {
			t.Fatalf("names: %v, want the Leeds name with d", got)
		}
		if _, err := e.DB.MoveUnlisted(ctx, "d", "Leeds refuge", nil, at(8)); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 0 {
			t.Fatalf("names: %v, want none", got)
		}
		if _, err := e.DB.UnlistedName(ctx, "leeds refuge"); err == nil {
			t.Error("a name no account gives is still found")
		}
	})
	t.Run("ManyNamesArePaged", func(t *testing.T) {
		for i := range 30 {
			add(fmt.Sprintf("p%02d", i), fmt.Sprintf("Agency %02d", i), 9)
		}
		page, total, err := e.DB.UnlistedNames(ctx, 25, 25)
		if err != nil || total != 30 || len(page) != 5 || page[0].Name != "Agency 25" {
			t.Fatalf("second page: %d names of %d (%v), first %+v", len(page), total, err, page)
		}
	})
}
