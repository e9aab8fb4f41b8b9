package compliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/errs"
)

// Changing a record is one atomic write of the advocate's document: the
// change, its recomputed status and the audit events describing it (in
// Outbox). That write is the last step that can fail a call. What follows
// — the events into the audit trail, the dashboard row, the advocate's
// lists — is idempotent and, when it fails, finished later from a
// follow-up item: put in the follow-up queue before the write (with the
// files the call stores before its write), done after. Files a call
// stored for a change that was never saved are deleted by the reconciler;
// files of a saved change are never deleted because a later step failed.

// ErrSaved wraps an error from a step after the advocate's record was
// saved: the change stands, and its follow-up finishes the rest.
var ErrSaved = errors.New("saved; a later step failed")

// FollowUp is an item of the follow-up queue: a change to an advocate's
// record that may still have events to record, a row to refresh, or
// files to delete if it was never saved.
type FollowUp struct {
	Key        string    `bson:"_id"` // <advocate>/<change>
	AdvocateID string    `bson:"advocate_id"`
	Files      []string  `bson:"files,omitempty"` // stored by the change before its write
	Created    time.Time `bson:"created_at"`
	// Create, for a new advocate, is the record to insert once their
	// account exists (creating an advocate is two writes: the account,
	// then the record).
	Create *Advocate `bson:"create,omitempty"`
}

// FollowUpGrace is how long the reconciler leaves a follow-up to the call
// that queued it.
const FollowUpGrace = time.Minute

// followUp starts a change's follow-up: the item is queued before
// anything is written.
func (s *Service) followUp(ctx context.Context, advocateID string, files []string, create *Advocate) (*FollowUp, error) {
	f := &FollowUp{Key: advocateID + "/" + newID(), AdvocateID: advocateID, Files: files, Created: s.Now().UTC(), Create: create}
	if err := s.db.PutFollowUp(ctx, f); err != nil {
		return nil, fmt.Errorf("compliance: queue follow-up: %w", err)
	}
	return f, nil
}

// finish does what follows a saved change (a nil a: none was saved): it
// records the outbox's events, refreshes the dashboard row and drops the
// item. A failure is logged and left to Reconcile; it never fails the call.
func (s *Service) finish(ctx context.Context, f *FollowUp, a *Advocate) {
	ctx = context.WithoutCancel(ctx) // the change stands: finish it even if the caller went
	if err := s.settle(ctx, f, a); err != nil {
		s.Log.Warn("compliance: a saved change's follow-up failed; the reconciler finishes it", "advocate", f.AdvocateID, "err", err)
	}
}

// settle is finish's work, returning its error.
func (s *Service) settle(ctx context.Context, f *FollowUp, a *Advocate) error {
	if a != nil {
		if err := s.flush(ctx, a); err != nil {
			return err
		}
		if err := s.dropUnreferenced(ctx, f, a); err != nil { // a removed record's files
			return err
		}
	}
	return s.db.DoneFollowUp(ctx, f.Key)
}

// flush writes an advocate's outbox events to the audit trail (each once:
// they carry their IDs), refreshes the dashboard row and takes the written
// events out of the outbox.
func (s *Service) flush(ctx context.Context, a *Advocate) error {
	for _, e := range a.Outbox {
		if err := s.Audit.Record(ctx, e); err != nil {
			return fmt.Errorf("audit event %s: %w", e.ID, err)
		}
	}
	if err := s.rollup(ctx, a); err != nil {
		return fmt.Errorf("dashboard row: %w", err)
	}
	if len(a.Outbox) == 0 {
		return nil
	}
	done := map[string]bool{}
	for _, e := range a.Outbox {
		done[e.ID] = true
	}
	_, err := s.db.UpdateAdvocate(ctx, a.ID, func(x *Advocate) error {
		x.Outbox = slices.DeleteFunc(x.Outbox, func(e audit.Event) bool { return done[e.ID] })
		return nil
	})
	if errors.Is(err, ErrSaved) {
		err = nil
	}
	return err
}

// Reconcile finishes the follow-ups that their calls left (a crash, a
// failing store), once they are FollowUpGrace old: it creates the record
// of an advocate whose account was made, flushes each advocate's events
// and row, and deletes the files of changes that were never saved. It
// returns how many it finished.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	items, err := s.db.FollowUps(ctx, 200)
	if err != nil {
		return 0, err
	}
	done := 0
	for i := range items {
		f := &items[i]
		if s.Now().Sub(f.Created) < FollowUpGrace {
			continue
		}
		if err := s.reconcileOne(ctx, f); err != nil {
			return done, fmt.Errorf("compliance: follow-up %s: %w", f.Key, err)
		}
		done++
	}
	return done, nil
}

func (s *Service) reconcileOne(ctx context.Context, f *FollowUp) error {
	if f.Create != nil {
		if err := s.resumeCreate(ctx, f); err != nil {
			return err
		}
	}
	a, err := s.db.Advocate(ctx, f.AdvocateID)
	if errs.Is(err, errs.ENOTFOUND) {
		a, err = nil, nil // erased, or never created: nothing to flush, every file unreferenced
	}
	if err != nil {
		return err
	}
	if err := s.dropUnreferenced(ctx, f, a); err != nil {
		return err
	}
	return s.settle(ctx, f, a)
}

// dropUnreferenced deletes the follow-up's files that the advocate's
// record (a, or read when nil) does not point at: files stored for a
// change that was not saved, or of a record a change removed.
func (s *Service) dropUnreferenced(ctx context.Context, f *FollowUp, a *Advocate) error {
	if len(f.Files) == 0 {
		return nil
	}
	if a == nil {
		var err error
		if a, err = s.db.Advocate(ctx, f.AdvocateID); errs.Is(err, errs.ENOTFOUND) {
			a = &Advocate{}
		} else if err != nil {
			return err
		}
	}
	for _, key := range f.Files {
		if !a.references(key) {
			if err := s.Blobs.Delete(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// references reports whether the record points at a stored file.
func (a *Advocate) references(key string) bool {
	for _, d := range a.DBS {
		if d.ScanKey == key {
			return true
		}
	}
	for _, e := range a.CPD {
		for _, ev := range e.Evidence {
			if ev.Key == key {
				return true
			}
		}
	}
	return false
}

// event makes an audit event about an advocate, with its ID fixed now so
// that recording it again is a no-op.
func (s *Service) event(actorID, actorName, action string, a *Advocate, before, after map[string]any, note string) audit.Event {
	return audit.Event{ID: newID() + newID(), At: s.Now().UTC(), ActorID: actorID, Actor: actorName, OrgID: a.OrgID, Action: action,
		Target: "advocate:" + a.ID, Before: before, After: after, Note: note}
}
