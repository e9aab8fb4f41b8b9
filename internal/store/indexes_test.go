package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// EnsureIndexes runs at every start-up, so it must succeed on a database
// that already has the indexes.
func TestEnsureIndexesTwice(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := e.DB.EnsureIndexes(ctx); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
}
