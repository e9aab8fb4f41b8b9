package auth

import (
	"context"
	"math"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// Throttling. A guess (a password at sign-in or re-authentication, a
// second-factor code) takes its attempt on each throttle that covers it in
// one conditional write, before anything is checked: however many guesses
// arrive at once, no more than a key's limit is ever checked in a window.
// The attempt that reaches the limit locks the key at once; one that turns
// out right (or is not made) is given back.
//
// Requests that cost a hash or send an email (registration, password
// reset emails) are counted in shared fixed windows (Store.CountHit) and
// refused past their limit.
//
// Every stored key is a keyed hash (see throttleKey): the database holds
// neither email addresses nor network addresses as keys.

// Limits of the requests counted per window.
const (
	ResetAccountLimit    = 3  // reset emails to one account per ResetWindow
	ResetAddressLimit    = 10 // reset requests from one address per ResetWindow
	ResetWindow          = time.Hour
	RegisterAddressLimit = 20 // new accounts from one address per RegisterWindow (a training room shares one)
	RegisterWindow       = time.Hour
)

// Limit is how many attempts a throttle allows per window.
type Limit struct {
	Max    int
	Window time.Duration
}

var (
	accountLimit = Limit{Max: AccountFailureLimit, Window: FailureWindow}
	addressLimit = Limit{Max: AddressFailureLimit, Window: FailureWindow}
	codeLimit    = Limit{Max: codeFailureLimit, Window: FailureWindow}
)

// Reserve returns the change (for Store.UpdateThrottle) that takes one
// attempt at now: none while a lock runs; a new window when the last one
// has passed; and the attempt that reaches Max locks the key, for
// FirstLock doubling with each attempt past Max up to MaxLock, so after a
// lock ends one more attempt may be made before the next, longer, lock.
func (l Limit) Reserve(now time.Time) func(t Throttle, exists bool) (Throttle, bool) {
	now = now.UTC().Truncate(time.Millisecond) // as stored, so it compares equal when read back
	return func(t Throttle, exists bool) (Throttle, bool) {
		if now.Before(t.LockedUntil) {
			return t, false
		}
		if !exists || now.Sub(t.WindowStart) > l.Window {
			t = Throttle{Key: t.Key, WindowStart: now, LockedUntil: t.LockedUntil}
		}
		t.Failures++
		if t.Failures >= l.Max {
			t.LockedUntil = now.Add(lockDuration(t.Failures - l.Max))
		}
		return t, true
	}
}

// release returns the change that gives back the attempt taken with the
// result r: one attempt fewer if the key is still in r's window, and the
// lock r set, if any, lifted.
func (l Limit) release(r Throttle) func(t Throttle, exists bool) (Throttle, bool) {
	return func(t Throttle, exists bool) (Throttle, bool) {
		if !exists || !t.WindowStart.Equal(r.WindowStart) || t.Failures == 0 {
			return t, false
		}
		t.Failures--
		if r.Failures >= l.Max && t.LockedUntil.Equal(r.LockedUntil) {
			t.LockedUntil = time.Time{}
		}
		return t, true
	}
}

// slot is an attempt taken on one throttle.
type slot struct {
	key   string
	limit Limit
	t     Throttle // the throttle with the attempt taken
}

// takeSlots takes an attempt on each throttle in turn. When one is locked
// the attempts taken already are given back, and the error says how long
// the lock runs.
func (s *Service) takeSlots(ctx context.Context, now time.Time, want ...slot) ([]slot, error) {
	got := make([]slot, 0, len(want))
	for _, w := range want {
		t, ok, err := s.store.UpdateThrottle(ctx, w.key, w.limit.Reserve(now))
		if err == nil && !ok {
			err = lockedErr(t.LockedUntil.Sub(now))
		}
		if err != nil {
			s.giveBack(ctx, got)
			return nil, err
		}
		w.t = t
		got = append(got, w)
	}
	return got, nil
}

// giveBack returns attempts that were not made, or were right.
func (s *Service) giveBack(ctx context.Context, slots []slot) {
	ctx = context.WithoutCancel(ctx)
	for _, sl := range slots {
		_, _, _ = s.store.UpdateThrottle(ctx, sl.key, sl.limit.release(sl.t))
	}
}

// failed is the answer to a wrong guess: the longest lock its attempts
// set, if any, else other.
func failed(slots []slot, now time.Time, other error) error {
	var d time.Duration
	for _, sl := range slots {
		if sl.t.Failures >= sl.limit.Max {
			d = max(d, sl.t.LockedUntil.Sub(now))
		}
	}
	if d > 0 {
		return lockedErr(d)
	}
	return other
}

// checkPassword checks a password for the account with this email (hash
// is its password hash, "" when there is no such account) under the
// sign-in throttles of the account and of the client's address. It
// returns nil when the password is right (the account's count then starts
// again), errBadLogin when it is wrong, or ETOOMANY while either throttle
// is locked or when this failure locks one.
func (s *Service) checkPassword(ctx context.Context, now time.Time, email, hash, password, addr string) error {
	slots, err := s.takeSlots(ctx, now,
		slot{key: s.throttleKey("addr", addr), limit: addressLimit},
		slot{key: s.AccountThrottleKey(email), limit: accountLimit})
	if err != nil {
		return err
	}
	if s.BeforePasswordCheck != nil {
		s.BeforePasswordCheck()
	}
	if hash == "" {
		VerifyPassword(dummyHash, password) // same time as a real check
		return failed(slots, now, errBadLogin)
	}
	if !VerifyPassword(hash, password) {
		return failed(slots, now, errBadLogin)
	}
	// Right: the account's count starts again; the address's attempt is
	// given back (many people can share one address).
	_ = s.store.ClearThrottle(ctx, slots[1].key)
	s.giveBack(ctx, slots[:1])
	return nil
}

// lockedErr is the answer while a throttle is locked for d more.
func lockedErr(d time.Duration) error {
	mins := int(math.Ceil(d.Minutes()))
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	return errs.E(errs.ETOOMANY, "Too many failed sign-in attempts. For your security, sign-in is paused: try again in %d %s, or reset your password.", mins, unit)
}

// lockDuration doubles from FirstLock with each failure past the limit.
func lockDuration(past int) time.Duration {
	d := FirstLock
	for i := 0; i < past && d < MaxLock; i++ {
		d *= 2
	}
	return min(d, MaxLock)
}

// throttleKey is the stored key of a throttle or request counter of kind
// ("acct", "addr", "mfa", ...) for value (an email address, a network
// address, a user ID): a keyed hash of the value, so that neither the
// database nor anything logging its keys holds the value, and no one
// without the secret key can tell whose it is by hashing guesses.
func (s *Service) throttleKey(kind, value string) string {
	return kind + ":" + s.Box.Hash("throttle key:"+kind, value)
}

// AccountThrottleKey returns the key of the sign-in throttle of a
// (normalised) email address.
func (s *Service) AccountThrottleKey(email string) string { return s.throttleKey("acct", email) }

// overLimit counts a request against the counter of kind for value and
// reports whether it is past limit in the current window.
func (s *Service) overLimit(ctx context.Context, kind, value string, limit int, window time.Duration) (bool, error) {
	n, err := s.store.CountHit(ctx, s.throttleKey(kind, value), s.Now().UTC(), window)
	if err != nil {
		return false, err
	}
	return n > limit, nil
}
