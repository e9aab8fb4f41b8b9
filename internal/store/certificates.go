package store

import (
	"context"
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

func init() {
	indexes[colCertificates] = append(indexes[colCertificates],
		mongo.IndexModel{Keys: bson.D{{Key: "course", Value: 1}, {Key: "_id", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}},
	)
}

// ExpiringCertificates returns issued, unrevoked certificates that expire
// in [from, to].
func (db *DB) ExpiringCertificates(ctx context.Context, from, to time.Time) ([]certificates.Certificate, error) {
	f := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: to}}},
		{Key: "status", Value: certificates.StatusIssued}, {Key: "revoked", Value: nil}}
	cur, err := db.coll(colCertificates).Find(ctx, f, options.Find().SetProjection(bson.D{{Key: "qr", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("store: expiring certificates: %w", err)
	}
	var out []certificates.Certificate
	return out, cur.All(ctx, &out)
}

// InsertClaim claims a completion's code; ECONFLICT when it is claimed.
func (db *DB) InsertClaim(ctx context.Context, c *certificates.Claim) error {
	return insertOnce(ctx, db.coll(colCertClaims), c, "claim")
}

// Claim returns a completion's claim.
func (db *DB) Claim(ctx context.Context, key string) (*certificates.Claim, error) {
	return findByID[certificates.Claim](ctx, db.coll(colCertClaims), key, "claim")
}

// InsertCertificate inserts a certificate; ECONFLICT when it exists.
func (db *DB) InsertCertificate(ctx context.Context, c *certificates.Certificate) error {
	return insertOnce(ctx, db.coll(colCertificates), c, "certificate")
}

// Certificate returns one certificate.
func (db *DB) Certificate(ctx context.Context, code string) (*certificates.Certificate, error) {
	return findByID[certificates.Certificate](ctx, db.coll(colCertificates), code, "certificate")
}

// UpdateCertificate applies u to one certificate.
func (db *DB) UpdateCertificate(ctx context.Context, code string, u certificates.CertificateUpdate) error {
	return db.updateByID(ctx, colCertificates, code, certificateUpdate(u).doc())
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

// Hash looks an issued file up by its SHA-256.
func (db *DB) Hash(ctx context.Context, sha string) (*certificates.Hash, error) {
	return findByID[certificates.Hash](ctx, db.coll(colCertHashes), sha, "hash")
}

// UnfinishedCertificates returns certificates claimed but not issued, or
// with a reissue not finished (a scan; the reconciler only).
func (db *DB) UnfinishedCertificates(ctx context.Context, limit int) ([]certificates.Certificate, error) {
	f := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: certificates.StatusClaimed}},
		bson.D{{Key: "pending_revision", Value: bson.D{{Key: "$gt", Value: 0}}}},
	}}}
	cur, err := db.coll(colCertificates).Find(ctx, f, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: unfinished certificates: %w", err)
	}
	var out []certificates.Certificate
	return out, cur.All(ctx, &out)
}

// CourseCertificates returns up to limit (0: all) certificates of a course
// with codes after the given one, in code order.
func (db *DB) CourseCertificates(ctx context.Context, course, after string, limit int) ([]certificates.Certificate, error) {
	f := bson.D{{Key: "course", Value: course}}
	if after != "" {
		f = append(f, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := db.coll(colCertificates).Find(ctx, f, opts)
	if err != nil {
		return nil, fmt.Errorf("store: course certificates: %w", err)
	}
	var out []certificates.Certificate
	return out, cur.All(ctx, &out)
}

// CountCourseCertificates counts a course's certificates.
func (db *DB) CountCourseCertificates(ctx context.Context, course string) (int, error) {
	n, err := db.coll(colCertificates).CountDocuments(ctx, bson.D{{Key: "course", Value: course}})
	return int(n), err
}

// InsertJob inserts a job.
func (db *DB) InsertJob(ctx context.Context, j *certificates.Job) error {
	return insertOnce(ctx, db.coll(colJobs), j, "job")
}

// Job returns a job.
func (db *DB) Job(ctx context.Context, id string) (*certificates.Job, error) {
	return findByID[certificates.Job](ctx, db.coll(colJobs), id, "job")
}

// UpdateJob applies u (a job's progress) to one job.
func (db *DB) UpdateJob(ctx context.Context, id string, u certificates.JobUpdate) error {
	return db.updateByID(ctx, colJobs, id, jobUpdate(u).doc())
}

// UnfinishedJobs returns jobs that have not finished (a short list).
func (db *DB) UnfinishedJobs(ctx context.Context) ([]certificates.Job, error) {
	cur, err := db.coll(colJobs).Find(ctx, bson.D{{Key: "finished_at", Value: bson.D{{Key: "$exists", Value: false}}}}, options.Find().SetLimit(100))
	if err != nil {
		return nil, err
	}
	var out []certificates.Job
	return out, cur.All(ctx, &out)
}

// CountHit counts one hit for key in the current fixed window and returns
// the count so far (shared by every instance).
func (db *DB) CountHit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	start := now.Truncate(window)
	id := fmt.Sprintf("%s@%d", key, start.Unix())
	var doc struct {
		N int `bson:"n"`
	}
	err := db.coll(colRateLimits).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "expires_at", Value: start.Add(2 * window)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return doc.N, nil
}

// ReissueRequests returns certificates with a pending reissue request.
func (db *DB) ReissueRequests(ctx context.Context, limit int) ([]certificates.Certificate, error) {
	cur, err := db.coll(colCertificates).Find(ctx, bson.D{{Key: "reissue_request", Value: bson.D{{Key: "$type", Value: "object"}}}}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: reissue requests: %w", err)
	}
	var out []certificates.Certificate
	return out, cur.All(ctx, &out)
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
