package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/certificates"
)

// Certificates are keyed by code; claims by completion; revisions
// "<code>/<n>"; hashes by SHA-256 of the PDF.
const (
	colCertificates = "certificates"
	colCertClaims   = "certificate_claims"
	colCertRevs     = "certificate_revisions"
	colCertHashes   = "certificate_hashes"
	colJobs         = "jobs"
	colRateLimits   = "rate_limits"
)

// InsertClaim claims a completion's code; ECONFLICT when it is claimed.
func (db *DB) InsertClaim(ctx context.Context, c *certificates.Claim) error {
	return insertOnce(ctx, db.coll(colCertClaims), c, "claim")
}

// Claim returns a completion's claim.
func (db *DB) Claim(ctx context.Context, key string) (*certificates.Claim, error) {
	return findByID[certificates.Claim](ctx, db.coll(colCertClaims), key, "claim")
}

// InsertCertificate inserts a certificate; ECONFLICT when it exists. It is
// entered in its holder's list first (so erasure and the data download
// find it from the start; its other lists follow before it is issued: see
// ListCertificate), and queued first while it is not yet issued — unless
// it is a completion's (it has a claim key): the completion's hand-over
// queue already holds it until it is issued and handed over.
func (db *DB) InsertCertificate(ctx context.Context, c *certificates.Certificate) error {
	if err := db.notePerson(ctx, c.UserID, Ref{Collection: colCertificates, ID: c.Code}); err != nil {
		return err
	}
	if c.Status == certificates.StatusIssued {
		if err := db.ListCertificate(ctx, c); err != nil {
			return err
		}
	}
	if c.ClaimKey == "" && (c.Status != certificates.StatusIssued || c.PendingRevision > 0) {
		if err := db.PutWork(ctx, QueueCertificates, c.Code, c.ClaimedAt); err != nil {
			return err
		}
	}
	return insertOnce(ctx, db.coll(colCertificates), c, "certificate")
}

// Certificate returns one certificate.
func (db *DB) Certificate(ctx context.Context, code string) (*certificates.Certificate, error) {
	return findByID[certificates.Certificate](ctx, db.coll(colCertificates), code, "certificate")
}

// UpdateCertificate applies u to one certificate. A revision to make, or
// a learner's request for one, is queued before the write; finished, it
// leaves its queue after.
func (db *DB) UpdateCertificate(ctx context.Context, code string, u certificates.CertificateUpdate) error {
	_, err := db.updateCertificate(ctx, code, u, false)
	return err
}

// UpdateCertificateAndGet is UpdateCertificate returning the certificate
// as the write left it (in the same round trip).
func (db *DB) UpdateCertificateAndGet(ctx context.Context, code string, u certificates.CertificateUpdate) (*certificates.Certificate, error) {
	return db.updateCertificate(ctx, code, u, true)
}

func (db *DB) updateCertificate(ctx context.Context, code string, u certificates.CertificateUpdate, get bool) (*certificates.Certificate, error) {
	now := time.Now().UTC()
	if u.PendingRevision != nil && *u.PendingRevision > 0 {
		if err := db.PutWork(ctx, QueueCertificates, code, now); err != nil {
			return nil, err
		}
	}
	if u.ReissueRequest != nil {
		if err := db.PutWork(ctx, QueueReissue, code, now); err != nil {
			return nil, err
		}
	}
	var after *certificates.Certificate
	if get {
		after = &certificates.Certificate{}
		err := db.coll(colCertificates).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: code}}, certificateUpdate(u).doc(),
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(after)
		if err != nil {
			return nil, notFound(err, "certificate")
		}
	} else if err := db.updateByID(ctx, colCertificates, code, certificateUpdate(u).doc()); err != nil {
		return nil, err
	}
	// A revision finished leaves the queue. (A first issue was not queued:
	// see InsertCertificate; one queued by an older version is dropped by
	// the reconciler once it finds it finished.)
	if u.Status != nil && *u.Status == certificates.StatusIssued && u.PendingRevision != nil && *u.PendingRevision == 0 &&
		(u.Revision == nil || *u.Revision > 1) {
		if err := db.DoneWork(ctx, QueueCertificates, code); err != nil {
			return nil, err
		}
	}
	if u.ClearReissueRequest && u.ReissueRequest == nil {
		if err := db.DoneWork(ctx, QueueReissue, code); err != nil {
			return nil, err
		}
	}
	return after, nil
}

// DeleteRevision deletes revision n of a certificate (none is fine).
func (db *DB) DeleteRevision(ctx context.Context, code string, n int) error {
	_, err := db.coll(colCertRevs).DeleteOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%d", code, n)}})
	return err
}

// InsertRevision inserts a revision; ECONFLICT when it exists.
func (db *DB) InsertRevision(ctx context.Context, r *certificates.Revision) error {
	return insertOnce(ctx, db.coll(colCertRevs), r, "revision")
}

// Revision returns revision n of a certificate.
func (db *DB) Revision(ctx context.Context, code string, n int) (*certificates.Revision, error) {
	return findByID[certificates.Revision](ctx, db.coll(colCertRevs), fmt.Sprintf("%s/%d", code, n), "revision")
}

// PutHash records an issued file's hash (idempotent: the same file always
// belongs to the same certificate revision).
func (db *DB) PutHash(ctx context.Context, h *certificates.Hash) error {
	_, err := db.coll(colCertHashes).InsertOne(ctx, h)
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

// SetRevisionSHA notes the hash of revision n's stored file on the revision.
func (db *DB) SetRevisionSHA(ctx context.Context, code string, n int, sha string) error {
	_, err := db.coll(colCertRevs).UpdateOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s/%d", code, n)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sha256", Value: sha}}}})
	return err
}

// Hash looks an issued file up by its SHA-256.
func (db *DB) Hash(ctx context.Context, sha string) (*certificates.Hash, error) {
	return findByID[certificates.Hash](ctx, db.coll(colCertHashes), sha, "hash")
}

// UnfinishedCertificates returns certificates claimed but not issued, or
// with a revision not yet stored, from their queue (a point read each);
// items whose certificate is finished leave the queue.
func (db *DB) UnfinishedCertificates(ctx context.Context, now time.Time, limit int) ([]certificates.Certificate, error) {
	var out []certificates.Certificate
	err := db.eachWork(ctx, QueueCertificates, now, limit, func(code string) (bool, error) {
		c, err := db.Certificate(ctx, code)
		if err != nil {
			return false, err
		}
		if c.Status == certificates.StatusIssued && c.PendingRevision == 0 {
			return false, nil
		}
		out = append(out, *c)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: unfinished certificates: %w", err)
	}
	return out, nil
}

// InsertJob inserts a job, queued (and entered in its starter's list) first.
func (db *DB) InsertJob(ctx context.Context, j *certificates.Job) error {
	if err := db.notePerson(ctx, j.By, Ref{Collection: colJobs, ID: j.ID}); err != nil {
		return err
	}
	if err := db.PutWork(ctx, QueueJobs, j.ID, j.Started); err != nil {
		return err
	}
	return insertOnce(ctx, db.coll(colJobs), j, "job")
}

// Job returns a job.
func (db *DB) Job(ctx context.Context, id string) (*certificates.Job, error) {
	return findByID[certificates.Job](ctx, db.coll(colJobs), id, "job")
}

// UpdateJob applies u (a job's progress) to one job; a finished job leaves
// the queue.
func (db *DB) UpdateJob(ctx context.Context, id string, u certificates.JobUpdate) error {
	if err := db.updateByID(ctx, colJobs, id, jobUpdate(u).doc()); err != nil {
		return err
	}
	if u.Finished != nil {
		return db.DoneWork(ctx, QueueJobs, id)
	}
	return nil
}

// UnfinishedJobs returns the jobs that have not finished, from their queue.
func (db *DB) UnfinishedJobs(ctx context.Context, now time.Time) ([]certificates.Job, error) {
	var out []certificates.Job
	err := db.eachWork(ctx, QueueJobs, now, 100, func(id string) (bool, error) {
		j, err := db.Job(ctx, id)
		if err != nil {
			return false, err
		}
		if !j.Finished.IsZero() {
			return false, nil
		}
		out = append(out, *j)
		return true, nil
	})
	return out, err
}

// Request counters are shared by every instance. A window's counters
// live in rateShards documents, "<window start>/<shard>", one field per
// key (a hash of it), so however many addresses call in a minute, it makes
// at most rateShards documents and as many rows in the expiry schedule.
// Callers pass keys that are keyed hashes already (the services hold the
// secret key), so neither an address nor an email reaches the store.
const rateShards = 32

// CountHit counts one hit for key in the current fixed window and returns
// the count so far (shared by every instance).
func (db *DB) CountHit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	start := now.Truncate(window)
	sum := sha256.Sum256([]byte(key))
	field := hex.EncodeToString(sum[:12])
	id := fmt.Sprintf("%d/%d", start.Unix(), int(sum[12])%rateShards)
	expires := start.Add(2 * window)
	// The window's first hit on a shard schedules the document's deletion
	// before it exists.
	if err := db.coll(colRateLimits).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err(); errors.Is(err, mongo.ErrNoDocuments) {
		if err := db.expireAt(ctx, colRateLimits, id, "", expires); err != nil {
			return 0, err
		}
	} else if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	var doc struct {
		H map[string]int `bson:"h"`
	}
	err := db.coll(colRateLimits).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "h." + field, Value: 1}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "expires_at", Value: expires}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return doc.H[field], nil
}

// ReissueRequests returns certificates with a pending reissue request,
// from their queue.
func (db *DB) ReissueRequests(ctx context.Context, now time.Time, limit int) ([]certificates.Certificate, error) {
	var out []certificates.Certificate
	err := db.eachWork(ctx, QueueReissue, now, limit, func(code string) (bool, error) {
		c, err := db.Certificate(ctx, code)
		if err != nil {
			return false, err
		}
		if c.ReissueRequest == nil {
			return false, nil
		}
		out = append(out, *c)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reissue requests: %w", err)
	}
	return out, nil
}

// InsertRevisions inserts revisions in one write; ones that exist already
// are left as they are.
func (db *DB) InsertRevisions(ctx context.Context, rs []*certificates.Revision) error {
	return insertManyOnce(ctx, db.coll(colCertRevs), rs, "revisions")
}

// PutHashes records issued files' hashes in one write (idempotent, as PutHash).
func (db *DB) PutHashes(ctx context.Context, hs []*certificates.Hash) error {
	return insertManyOnce(ctx, db.coll(colCertHashes), hs, "hashes")
}

// insertManyOnce inserts docs in one unordered write, leaving those whose
// _id exists already as they are.
func insertManyOnce[T any](ctx context.Context, c collection, docs []T, what string) error {
	if len(docs) == 0 {
		return nil
	}
	all := make([]any, len(docs))
	for i, d := range docs {
		all[i] = d
	}
	_, err := c.InsertMany(ctx, all, options.InsertMany().SetOrdered(false))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("store: insert %s: %w", what, err)
	}
	return nil
}
