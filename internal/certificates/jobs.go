package certificates

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"golang.org/x/sync/errgroup"
)

const (
	jobBatch   = 256              // certificates per batch; progress is saved after each
	jobWorkers = 12               // certificates reissued at once
	jobStale   = 30 * time.Second // a job whose heartbeat is older was stopped
)

// StartBulkReissue reissues every issued, unrevoked certificate of a course
// in the background and returns the job, whose progress can be read.
func (s *Service) StartBulkReissue(ctx context.Context, course, reason string, actor *auth.User) (*Job, error) {
	if _, err := s.Catalogue.Get(course); err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, errs.FieldErrors{"reason": "Say why the certificates are being reissued"}.Err()
	}
	total, err := s.store.CountCourseCertificates(ctx, course)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	j := &Job{ID: newJobID(), Kind: "bulk-reissue", Course: course, Reason: reason, By: actor.ID, Total: total, Started: now, Heartbeat: now}
	if err := s.store.InsertJob(ctx, j); err != nil {
		return nil, err
	}
	if err := s.Audit.Record(ctx, audit.Event{ActorID: actor.ID, Actor: actor.Name, Action: "certificate.bulk_reissue",
		Target: "course:" + course, After: map[string]any{"job": j.ID, "certificates": total}, Note: reason}); err != nil {
		return nil, err
	}
	s.startJob(j.ID)
	return j, nil
}

// CountForCourse counts a course's certificates.
func (s *Service) CountForCourse(ctx context.Context, slug string) (int, error) {
	return s.store.CountCourseCertificates(ctx, slug)
}

// Job returns a job for its progress page.
func (s *Service) Job(ctx context.Context, id string) (*Job, error) { return s.store.Job(ctx, id) }

// RunJob runs (or resumes) a job to the end in the caller's goroutine.
func (s *Service) RunJob(ctx context.Context, id string) error { return s.runJob(ctx, id) }

// startJob runs a job in the background, owned by the process's lifecycle
// (stopped at shutdown; the next start resumes it), unless this process is
// running it already.
func (s *Service) startJob(id string) {
	if _, running := s.running.LoadOrStore(id, true); running {
		return
	}
	s.Background.Go(func(ctx context.Context) error {
		defer s.running.Delete(id)
		if err := s.runJob(ctx, id); err != nil && ctx.Err() == nil {
			s.Log.Warn("bulk reissue stopped; it resumes later", "job", id, "err", err)
		}
		return nil
	})
}

// Batch retries: a batch that fails (storage or the database not
// answering) is tried again after 1, 2, 4 … seconds; after jobRetries
// failures in a row the run stops, leaving the job unfinished for the
// reconciler to resume once its heartbeat is stale.
const (
	jobRetries   = 5
	jobRetryWait = time.Second
)

// runJob works through the course's certificates in code order, a batch at a
// time, saving the cursor after each batch so a stopped job resumes where
// it was. Each batch is read after the cursor; each certificate is then
// rendered, stored and marked issued with the job's ID, so a certificate
// this job already reissued is skipped on resuming. A heartbeat on a timer
// tells the reconcilers of every instance that the job is alive, however
// slow a batch is.
func (s *Service) runJob(ctx context.Context, id string) error {
	j, err := s.store.Job(ctx, id)
	if err != nil {
		return err
	}
	if !j.Finished.IsZero() {
		return nil
	}
	j.Runs++
	if err := s.store.UpdateJob(ctx, j.ID, JobUpdate{Runs: new(j.Runs), Heartbeat: new(s.Now().UTC())}); err != nil {
		return err
	}
	beatCtx, stopBeat := context.WithCancel(ctx)
	var beat sync.WaitGroup
	beat.Add(1)
	go func() {
		defer beat.Done()
		t := time.NewTicker(jobStale / 3)
		defer t.Stop()
		for {
			select {
			case <-beatCtx.Done():
				return
			case <-t.C:
				_ = s.store.UpdateJob(beatCtx, j.ID, JobUpdate{Heartbeat: new(s.Now().UTC())})
			}
		}
	}()
	defer func() { stopBeat(); beat.Wait() }()

	failures := 0
	for {
		more, err := s.runBatch(ctx, j)
		if err == nil {
			failures = 0
			if !more {
				break
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failures++
		s.Log.Warn("bulk reissue: batch failed; trying it again", "job", j.ID, "attempt", failures, "err", err)
		_ = s.store.UpdateJob(ctx, j.ID, JobUpdate{Error: new(err.Error())})
		if failures >= jobRetries {
			return fmt.Errorf("certificates: job %s: %d batches failed in a row: %w", j.ID, failures, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(jobRetryWait << (failures - 1)):
		}
		// Start the batch again from the job's saved progress.
		saved, rerr := s.store.Job(ctx, j.ID)
		if rerr != nil {
			continue
		}
		j.Done, j.Failed, j.Cursor = saved.Done, saved.Failed, saved.Cursor
	}
	return s.store.UpdateJob(ctx, j.ID, JobUpdate{Finished: new(s.Now().UTC()), Heartbeat: new(s.Now().UTC()), Error: new("")})
}

// runBatch reissues the next batch after the job's cursor and saves the
// job's progress; more is false when there was nothing left. An error
// leaves the cursor where it was: the whole batch is done again (what it
// did is idempotent).
func (s *Service) runBatch(ctx context.Context, j *Job) (more bool, err error) {
	// The next batch after the cursor: the course's list of codes, from
	// the bucket the cursor is in, and a point read per certificate.
	batch, err := s.store.CourseCertificates(ctx, j.Course, j.Cursor, jobBatch)
	if err != nil || len(batch) == 0 {
		return false, err
	}
	revs := make([]*Revision, len(batch))
	hashes := make([]*Hash, len(batch))
	var failed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobWorkers)
	for i := range batch {
		g.Go(func() error {
			rev, hash, err := s.reissueInJob(gctx, &batch[i], j)
			if err != nil {
				if transient(err) {
					return err // the batch is tried again
				}
				s.Log.Warn("bulk reissue: certificate failed", "job", j.ID, "code", batch[i].Code, "err", err)
				failed.Add(1)
			}
			revs[i], hashes[i] = rev, hash
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return false, err
	}
	// The revisions' history and the new files' hashes, one write each
	// per batch, before the cursor moves past it: after a crash, the
	// batch is done again, and certificates this job already marked
	// give their revision and hash again from their records.
	var made []*Revision
	var sums []*Hash
	for i, r := range revs {
		if r != nil {
			made, sums = append(made, r), append(sums, hashes[i])
		}
	}
	if err := s.store.PutHashes(ctx, sums); err != nil {
		return false, err
	}
	if err := s.store.InsertRevisions(ctx, made); err != nil {
		return false, err
	}
	if err := s.undoErased(ctx, j, made); err != nil {
		return false, err
	}
	j.Done += len(batch) - int(failed.Load())
	j.Failed += int(failed.Load())
	j.Cursor = batch[len(batch)-1].Code
	if err := s.store.UpdateJob(ctx, j.ID, JobUpdate{Done: new(j.Done), Failed: new(j.Failed), Cursor: new(j.Cursor), Heartbeat: new(s.Now().UTC())}); err != nil {
		return false, err
	}
	return true, nil
}

// transient reports whether err is worth trying again: a store that did
// not answer, or anything not known to be this certificate's own problem.
func transient(err error) bool {
	switch errs.CodeOf(err) {
	case errs.EINVALID, errs.ENOTFOUND, errs.ECONFLICT, errs.EFORBIDDEN:
		return false
	}
	return true
}

// reissueInJob renders the next revision of c for job j, with the name it
// prints now (or the one its learner asked for), stores it and marks it
// issued. It returns the revision and the file's hash for the batch to
// record (for a certificate this job marked before a restart, as its record
// says), or nils for certificates it leaves alone.
func (s *Service) reissueInJob(ctx context.Context, c *Certificate, j *Job) (*Revision, *Hash, error) {
	if c.Revoked != nil || c.NameErased {
		return nil, nil, nil
	}
	if c.LastJob == j.ID {
		return &Revision{ID: revisionID(c.Code, c.Revision), Code: c.Code, N: c.Revision, Name: c.Name, IssuedAt: c.RevisedAt,
			Reason: j.Reason, By: j.By + " job:" + j.ID, SHA256: c.SHA256}, &Hash{SHA256: c.SHA256, Code: c.Code, Revision: c.Revision}, nil
	}
	if c.Status != StatusIssued || c.PendingRevision > c.Revision {
		if err := s.finish(ctx, c, nil); err != nil {
			return nil, nil, err
		}
	}
	name := c.Name
	if c.ReissueRequest != nil {
		name = c.ReissueRequest.Name
	}
	rev := &Revision{ID: revisionID(c.Code, c.Revision+1), Code: c.Code, N: c.Revision + 1, Name: name,
		IssuedAt: s.Now().UTC(), Reason: j.Reason, By: j.By + " job:" + j.ID}
	pdf, err := s.Renderer.Render(s.document(c, rev))
	if err != nil {
		return nil, nil, err
	}
	if err := s.Blobs.Put(ctx, ObjectKey(c.Code), bytes.NewReader(pdf), int64(len(pdf)), "application/pdf"); err != nil {
		return nil, nil, err
	}
	c.LastJob = j.ID
	if err := s.markIssued(ctx, c, rev, pdf); err != nil {
		return nil, nil, err
	}
	rev.SHA256 = c.SHA256
	return rev, &Hash{SHA256: c.SHA256, Code: c.Code, Revision: rev.N}, nil
}

// undoErased checks, once a batch is recorded, whether any of its holders
// was erased while it ran, and undoes what the batch printed for them (see
// erasedMeanwhile). Erasure marks certificates, then deletes their files,
// then clears their revisions' names, so whichever order the two run in,
// no copy of an erased name outlives this check: a holder erased after it
// had the batch's file and revision already there to delete and clear.
func (s *Service) undoErased(ctx context.Context, j *Job, made []*Revision) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobWorkers)
	for _, r := range made {
		g.Go(func() error {
			err := s.erasedMeanwhile(gctx, r.Code, r.N)
			if errs.Is(err, errs.ECONFLICT) {
				s.Log.Info("bulk reissue: holder erased meanwhile; the new revision was withdrawn", "job", j.ID, "code", r.Code)
				return nil
			}
			return err
		})
	}
	return g.Wait()
}

// WriteCourseZip streams a ZIP of every issued certificate of a course to w,
// one stored PDF at a time (certificates of erased holders have no file and
// are left out).
func (s *Service) WriteCourseZip(ctx context.Context, course string, w io.Writer) error {
	zw := zip.NewWriter(w)
	after := ""
	for {
		batch, err := s.store.CourseCertificates(ctx, course, after, 200)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			c := &batch[i]
			after = c.Code
			if c.Status != StatusIssued || c.NameErased {
				continue // not finished, or kept for verification only, without a file
			}
			if err := s.addToZip(ctx, zw, c); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

func (s *Service) addToZip(ctx context.Context, zw *zip.Writer, c *Certificate) error {
	r, _, err := s.Blobs.Open(ctx, ObjectKey(c.Code))
	if err != nil {
		return fmt.Errorf("certificates: zip %s: %w", c.Code, err)
	}
	defer r.Close()
	// PDFs barely compress; store them.
	f, err := zw.CreateHeader(&zip.FileHeader{Name: FileName(c), Method: zip.Store, Modified: c.IssuedAt})
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return err
}

func newJobID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
