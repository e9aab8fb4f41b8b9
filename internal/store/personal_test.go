package store_test

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestEveryCollectionSaysWhatItHoldsAboutPeople enumerates the database's
// collections: each must be declared in store.Holdings, either with a way to
// find a person's records (used by the data download and by erasure) or
// with the reason it holds none. A new collection fails this test until it
// is declared, so it cannot be left out of either silently.
func TestEveryCollectionSaysWhatItHoldsAboutPeople(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	if err := e.DB.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := e.DB.DB.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < len(store.Collections) {
		t.Fatalf("the database has %d collections, the app declares %d", len(names), len(store.Collections))
	}
	for _, name := range names {
		h, ok := store.HoldingOf(name)
		switch {
		case !ok:
			t.Errorf("collection %q is not in store.Holdings: say how a person's records are found in it, or why it holds none", name)
		case (h.Found == "") == (h.None == ""):
			t.Errorf("collection %q: say either how a person's records are Found or why it holds None, not both or neither", name)
		}
		if !slices.Contains(store.Collections, name) {
			t.Errorf("collection %q exists but is not in store.Collections", name)
		}
	}
	for _, h := range store.Holdings {
		if !slices.Contains(names, h.Collection) {
			t.Errorf("store.Holdings names %q, which the database does not have", h.Collection)
		}
	}
}
