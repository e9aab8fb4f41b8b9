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
	go s.runJob(context.WithoutCancel(ctx), j.ID)
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

// runJob works through the course's certificates in code order, a batch at a
// time, saving the cursor after each batch so a stopped job resumes where
// it was. Each batch is read after the cursor; each certificate is then
// rendered, stored and marked issued with the job's ID,
// so a certificate this job already reissued is skipped on resuming.
func (s *Service) runJob(ctx context.Context, id string) error {
	j, err := s.store.Job(ctx, id)
	if err != nil {
		return err
	}
	j.Runs++
	if err := s.store.UpdateJob(ctx, j.ID, JobUpdate{Runs: new(j.Runs), Heartbeat: new(s.Now().UTC())}); err != nil {
		return err
	}
	for {
		// The next batch after the cursor: the course's list of codes, from
		// the bucket the cursor is in, and a point read per certificate.
		batch, err := s.store.CourseCertificates(ctx, j.Course, j.Cursor, jobBatch)
		if err != nil {
			return s.failJob(ctx, j, err)
		}
		if len(batch) == 0 {
			break
		}
		revs := make([]*Revision, len(batch))
		hashes := make([]*Hash, len(batch))
		var wg sync.WaitGroup
		var failed atomic.Int64
		sem := make(chan struct{}, jobWorkers)
		for i := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rev, hash, err := s.reissueInJob(ctx, &batch[i], j)
				if err != nil {
					s.Log.Warn("bulk reissue: certificate failed", "job", j.ID, "code", batch[i].Code, "err", err)
					failed.Add(1)
				}
				revs[i], hashes[i] = rev, hash
			}()
		}
		wg.Wait()
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
			return s.failJob(ctx, j, err)
		}
		if err := s.store.InsertRevisions(ctx, made); err != nil {
			return s.failJob(ctx, j, err)
		}
		if err := s.undoErased(ctx, j, made); err != nil {
			return s.failJob(ctx, j, err)
		}
		j.Done += len(batch) - int(failed.Load())
		j.Failed += int(failed.Load())
		j.Cursor = batch[len(batch)-1].Code
		if err := s.store.UpdateJob(ctx, j.ID, JobUpdate{Done: new(j.Done), Failed: new(j.Failed), Cursor: new(j.Cursor), Heartbeat: new(s.Now().UTC())}); err != nil {
			return err
		}
	}
	return s.store.UpdateJob(ctx, j.ID, JobUpdate{Finished: new(s.Now().UTC()), Heartbeat: new(s.Now().UTC())})
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
	if err := s.markIssued(ctx, c, rev, pdf, "", false); err != nil {
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

func (s *Service) failJob(ctx context.Context, j *Job, err error) error {
	_ = s.store.UpdateJob(ctx, j.ID, JobUpdate{Error: new(err.Error()), Finished: new(s.Now().UTC())})
	return err
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
