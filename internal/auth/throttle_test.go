package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// TestSecondFactorGuessesTakeTheirAttemptFirst sends 16 wrong codes for
// one sign-in at once: only the limit's worth are checked (the others are
// refused as locked before any check), and the right code is refused
// until the lock runs out.
func TestSecondFactorGuessesTakeTheirAttemptFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.register(t, "sam@example.org")
	setup, err := f.svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u, _ = f.db.User(ctx, u.ID)
	if _, err := f.svc.ConfirmTOTP(ctx, u, auth.CurrentCode(setup.Secret, f.clock())); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	res, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "10.0.0.1", "test")
	if err != nil || !res.NeedsCode {
		t.Fatalf("login: %v", err)
	}
	u, _ = f.db.User(ctx, u.ID)
	const guesses = 16
	valid := map[string]bool{}
	for _, skew := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[auth.CurrentCode(setup.Secret, f.clock().Add(skew))] = true
	}
	codes := []string{}
	for i := 0; len(codes) < guesses; i++ {
		if c := fmt.Sprintf("%06d", i); !valid[c] {
			codes = append(codes, c)
		}
	}
	results := make([]error, guesses)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = f.svc.VerifySecondFactor(ctx, res.Session.ID, u, codes[i])
		}()
	}
	close(start)
	wg.Wait()
	wrong, locked := 0, 0
	for _, err := range results {
		switch {
		case errs.Fields(err)["code"] != "":
			wrong++
		case errs.Is(err, errs.ETOOMANY):
			locked++
		default:
			t.Fatalf("a wrong code: got %v", err)
		}
	}
	// Of the limit's worth checked, the last locks: the rest were refused
	// before being checked.
	const limit = 5
	if wrong != limit-1 || locked != guesses-wrong {
		t.Fatalf("%d codes said wrong and %d locked, want %d wrong (the last checked one locks)", wrong, locked, limit-1)
	}
	if err := f.svc.VerifySecondFactor(ctx, res.Session.ID, u, auth.CurrentCode(setup.Secret, f.clock())); !errs.Is(err, errs.ETOOMANY) {
		t.Fatalf("the right code while locked: got %v, want still locked", err)
	}
	f.advance(auth.FirstLock + time.Second)
	if err := f.svc.VerifySecondFactor(ctx, res.Session.ID, u, auth.CurrentCode(setup.Secret, f.clock())); err != nil {
		t.Fatalf("the right code after the lock: %v", err)
	}
}

// TestSignInsThatSucceedLeaveTheAddressFree signs in from one address
// more times than its failure limit: a right password gives its attempt
// back, so an office sharing an address is not locked by signing in.
func TestSignInsThatSucceedLeaveTheAddressFree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.register(t, "sam@example.org")
	for i := range auth.AddressFailureLimit + 3 {
		if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "192.0.2.80", "test"); err != nil {
			t.Fatalf("sign-in %d from one address: %v", i+1, err)
		}
	}
	// Failures still count: one short of the limit, then the limit locks.
	for i := range auth.AddressFailureLimit - 1 {
		if _, err := f.svc.Login(ctx, fmt.Sprintf("guess%d@example.org", i), "wrong", "192.0.2.80", "test"); !errs.Is(err, errs.EINVALID) {
			t.Fatalf("failure %d: got %v, want the incorrect-password error", i+1, err)
		}
	}
	if _, err := f.svc.Login(ctx, "sam@example.org", "correct horse battery staple", "192.0.2.80", "test"); err != nil {
		t.Fatalf("a right password one short of the limit: %v", err)
	}
	if _, err := f.svc.Login(ctx, "last@example.org", "wrong", "192.0.2.80", "test"); !errs.Is(err, errs.ETOOMANY) {
		t.Fatalf("the failure that reaches the limit: got %v, want the address locked", err)
	}
}
