// Package certificates issues one PDF certificate per course completion,
// stores it in object storage, lets people download it and lets anyone
// verify it by code or by uploading the file.
//
// Issuing is claim → render → PUT → mark issued. The claim is an insert-once
// document keyed by the completion, so however many requests, retries or
// instances race, one code wins. Rendering is deterministic (the PDF's dates
// and QR code come from the certificate record), so repeating any step after
// a crash produces the same bytes; a reconciler finishes anything claimed
// but not issued.
package certificates

import (
	"context"
	"io"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/learning"
)

// Certificate states.
const (
	StatusClaimed = "claimed" // code chosen; the PDF may not be stored yet
	StatusIssued  = "issued"
)

// Revocation reason categories, as shown on the verification page.
var RevocationReasons = map[string]string{
	"issued-in-error":  "Issued in error",
	"not-genuine":      "The completion was found not to be genuine",
	"learner-request":  "Withdrawn at the learner's request",
	"course-withdrawn": "The course was withdrawn",
	"other":            "Other",
}

// Certificate is one issued certificate; its ID is its code.
type Certificate struct {
	Code          string     `bson:"_id"`
	ClaimKey      string     `bson:"claim_key"`
	EnrolmentID   string     `bson:"enrolment_id"`
	Live          string     `bson:"live,omitempty"` // the live session attended, for a live training certificate
	UserID        string     `bson:"user_id"`
	OrgID         string     `bson:"org_id"`
	Name          string     `bson:"name"`                  // as printed on the current revision
	NameErased    bool       `bson:"name_erased,omitempty"` // the holder was erased: no name, no file
	Course        string     `bson:"course"`
	CourseTitle   string     `bson:"course_title"`
	CourseVersion string     `bson:"course_version"`
	CompletedAt   time.Time  `bson:"completed_at"`
	CPDHours      float64    `bson:"cpd_hours"`
	ExpiresAt     *time.Time `bson:"expires_at,omitempty"`
	QR            *QRCode    `bson:"qr"`

	Status    string    `bson:"status"`
	ClaimedAt time.Time `bson:"claimed_at"`
	IssuedAt  time.Time `bson:"issued_at,omitempty"`
	Revision  int       `bson:"revision"`             // the revision the stored PDF shows
	RevisedAt time.Time `bson:"revised_at,omitempty"` // when that revision was rendered
	LastJob   string    `bson:"last_job,omitempty"`   // the bulk job that made it, if any
	SHA256    string    `bson:"sha256,omitempty"`
	Size      int64     `bson:"size,omitempty"`
	// PendingRevision is set when a reissue has started and not finished.
	PendingRevision int `bson:"pending_revision,omitempty"`

	Revoked *Revocation `bson:"revoked,omitempty"`
	// ReissueRequest is set when the learner asks for a copy in their new name.
	ReissueRequest *ReissueRequest `bson:"reissue_request,omitempty"`
}

// ReissueRequest is a learner's request for a copy in their current name.
type ReissueRequest struct {
	At   time.Time `bson:"at"`
	Name string    `bson:"name"` // the name asked for (the account's, when asked)
}

// Revocation records why and when a certificate was revoked.
type Revocation struct {
	At     time.Time `bson:"at"`
	Reason string    `bson:"reason"` // a key of RevocationReasons
	Note   string    `bson:"note,omitempty"`
	By     string    `bson:"by"`
}

// Revision is one rendering of a certificate: 1 at issue, then one per
// reissue. Inserted once; it fixes what that revision prints.
type Revision struct {
	ID       string    `bson:"_id"` // <code>/<n>
	Code     string    `bson:"code"`
	N        int       `bson:"n"`
	Name     string    `bson:"name"`
	IssuedAt time.Time `bson:"issued_at"`
	Reason   string    `bson:"reason,omitempty"`
	By       string    `bson:"by,omitempty"`
	// SHA256 is the hash of this revision's file, once it is stored (how
	// an erasure finds the file hashes of a person's certificates).
	SHA256 string `bson:"sha256,omitempty"`

	unsaved bool // made in memory, not stored yet
}

// Claim ties a completion to the one code it gets.
type Claim struct {
	Key  string    `bson:"_id"` // <enrolment>/<attempt>
	Code string    `bson:"code"`
	At   time.Time `bson:"at"`
}

// Hash records that a file with this SHA-256 was issued by us.
type Hash struct {
	SHA256   string `bson:"_id"`
	Code     string `bson:"code"`
	Revision int    `bson:"revision"`
}

// Job is a long-running admin task with visible progress (bulk reissue).
type Job struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"`
	Course    string    `bson:"course"`
	Reason    string    `bson:"reason"`
	By        string    `bson:"by"`
	Total     int       `bson:"total"`
	Done      int       `bson:"done"`
	Failed    int       `bson:"failed"`
	Cursor    string    `bson:"cursor"` // last code handled, for resuming
	Runs      int       `bson:"runs"`   // times the job has been started
	Started   time.Time `bson:"started_at"`
	Heartbeat time.Time `bson:"heartbeat_at"`
	Finished  time.Time `bson:"finished_at,omitempty"`
	Error     string    `bson:"error,omitempty"`
}

// CertificateUpdate changes some fields of a certificate in one write: each
// non-nil field is set to what it points to; the rest stay as they are. Its
// fields are named as Certificate's.
type CertificateUpdate struct {
	Name                *string
	NameErased          *bool
	OrgID               *string
	Status              *string
	IssuedAt            *time.Time
	Revision            *int
	RevisedAt           *time.Time
	LastJob             *string
	SHA256              *string
	Size                *int64
	PendingRevision     *int
	Revoked             *Revocation
	ReissueRequest      *ReissueRequest
	ClearReissueRequest bool // removes ReissueRequest (when ReissueRequest is nil)
}

// JobUpdate changes some fields of a job in one write, as CertificateUpdate
// does for certificates. Its fields are named as Job's.
type JobUpdate struct {
	Done      *int
	Failed    *int
	Cursor    *string
	Runs      *int
	Heartbeat *time.Time
	Finished  *time.Time
	Error     *string
}

// Store is the persistence certificates need.
type Store interface {
	InsertClaim(ctx context.Context, c *Claim) error // ECONFLICT when the completion is claimed
	Claim(ctx context.Context, key string) (*Claim, error)
	InsertCertificate(ctx context.Context, c *Certificate) error // ECONFLICT when it exists
	Certificate(ctx context.Context, code string) (*Certificate, error)
	UpdateCertificate(ctx context.Context, code string, u CertificateUpdate) error // ENOTFOUND when there is none
	// ListCertificate enters a certificate in its course's list and the
	// expiry schedule (idempotent); done before it is first marked issued.
	ListCertificate(ctx context.Context, c *Certificate) error
	// UpdateCertificateAndGet is UpdateCertificate returning the certificate as the write left it.
	UpdateCertificateAndGet(ctx context.Context, code string, u CertificateUpdate) (*Certificate, error)
	InsertRevision(ctx context.Context, r *Revision) error     // ECONFLICT when it exists
	InsertRevisions(ctx context.Context, rs []*Revision) error // existing ones are left as they are
	Revision(ctx context.Context, code string, n int) (*Revision, error)
	DeleteRevision(ctx context.Context, code string, n int) error
	PutHash(ctx context.Context, h *Hash) error
	SetRevisionSHA(ctx context.Context, code string, n int, sha string) error
	PutHashes(ctx context.Context, hs []*Hash) error // one write; existing ones are left as they are
	Hash(ctx context.Context, sha string) (*Hash, error)
	UnfinishedCertificates(ctx context.Context, now time.Time, limit int) ([]Certificate, error)
	CourseCertificates(ctx context.Context, course, after string, limit int) ([]Certificate, error)
	CountCourseCertificates(ctx context.Context, course string) (int, error)
	ReissueRequests(ctx context.Context, now time.Time, limit int) ([]Certificate, error)

	InsertJob(ctx context.Context, j *Job) error
	Job(ctx context.Context, id string) (*Job, error)
	UpdateJob(ctx context.Context, id string, u JobUpdate) error // ENOTFOUND when there is none
	UnfinishedJobs(ctx context.Context, now time.Time) ([]Job, error)

	CountHit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)

	// Erasure (see personal.go): each deletes the record, then the rows
	// and queue items that name it.
	DeleteCertificate(ctx context.Context, c *Certificate) error
	UnlistCertificateExpiry(ctx context.Context, c *Certificate) error
	DeleteClaim(ctx context.Context, key string) error
	DeleteHash(ctx context.Context, sha string) error
	EraseRevisionName(ctx context.Context, code string, n int, reason string) error
	DeleteJob(ctx context.Context, j *Job) error
}

// Blobs stores the PDF files.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	Delete(ctx context.Context, key string) error
	PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
}

// Accounts gives the learner's current name and organisation.
type Accounts interface {
	User(ctx context.Context, id string) (*auth.User, error)
}

// Enrolments is the hand-over from learning.
type Enrolments interface {
	Enrolment(ctx context.Context, id string) (*learning.Enrolment, error)
	AttachCertificate(ctx context.Context, enrolmentID, code string) error // adds the code, clears the pending marker
}

// ObjectKey returns where a certificate's PDF is stored.
func ObjectKey(code string) string { return "certificates/" + code + ".pdf" }
