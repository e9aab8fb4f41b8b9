package store

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/notify"
)

// The domain packages describe an update as a typed value with pointer
// fields (set when non-nil) named as the record's fields; this file turns
// each into the update document, with the record's bson names. The test
// writes every field and reads the record back to check the names.

// update is one document update: fields to set and fields to remove.
type update struct {
	set, unset bson.D
}

// setTo sets key to *v when v is not nil.
func setTo[T any](u *update, key string, v *T) {
	if v != nil {
		u.set = append(u.set, bson.E{Key: key, Value: *v})
	}
}

// unsetIf removes key when clear is true.
func (u *update) unsetIf(key string, clear bool) {
	if clear {
		u.unset = append(u.unset, bson.E{Key: key, Value: ""})
	}
}

// doc returns the update document ($set, $unset, then any more operators).
func (u *update) doc(more ...bson.E) bson.D {
	d := bson.D{}
	if len(u.set) > 0 {
		d = append(d, bson.E{Key: "$set", Value: u.set})
	}
	if len(u.unset) > 0 {
		d = append(d, bson.E{Key: "$unset", Value: u.unset})
	}
	return append(d, more...)
}

// userUpdate maps an auth.UserUpdate to auth.User's bson names.
func userUpdate(x auth.UserUpdate) *update {
	u := &update{}
	setTo(u, "name", x.Name)
	setTo(u, "email", x.Email)
	setTo(u, "org_id", x.OrgID)
	setTo(u, "roles", x.Roles)
	setTo(u, "updated_at", x.Updated)
	setTo(u, "password_hash", x.PasswordHash)
	setTo(u, "disabled", x.Disabled)
	setTo(u, "totp_secret", x.TOTPSecret)
	setTo(u, "totp_pending", x.TOTPPending)
	setTo(u, "totp_enabled", x.TOTPEnabled)
	setTo(u, "recovery_hashes", x.RecoveryHashes)
	setTo(u, "email_change", x.EmailChange)
	u.unsetIf("email_change", x.ClearEmailChange && x.EmailChange == nil)
	setTo(u, "notify_optional", x.NotifyOptional)
	setTo(u, "erasure", x.Erasure)
	u.unsetIf("erasure", x.ClearErasure && x.Erasure == nil)
	setTo(u, "erased_at", x.ErasedAt)
	return u
}

// certificateUpdate maps a certificates.CertificateUpdate to
// certificates.Certificate's bson names.
func certificateUpdate(x certificates.CertificateUpdate) *update {
	u := &update{}
	setTo(u, "name", x.Name)
	setTo(u, "name_erased", x.NameErased)
	setTo(u, "org_id", x.OrgID)
	setTo(u, "status", x.Status)
	setTo(u, "issued_at", x.IssuedAt)
	setTo(u, "revision", x.Revision)
	setTo(u, "revised_at", x.RevisedAt)
	setTo(u, "last_job", x.LastJob)
	setTo(u, "sha256", x.SHA256)
	setTo(u, "size", x.Size)
	setTo(u, "pending_revision", x.PendingRevision)
	setTo(u, "revoked", x.Revoked)
	setTo(u, "reissue_request", x.ReissueRequest)
	u.unsetIf("reissue_request", x.ClearReissueRequest && x.ReissueRequest == nil)
	return u
}

// jobUpdate maps a certificates.JobUpdate to certificates.Job's bson names.
func jobUpdate(x certificates.JobUpdate) *update {
	u := &update{}
	setTo(u, "done", x.Done)
	setTo(u, "failed", x.Failed)
	setTo(u, "cursor", x.Cursor)
	setTo(u, "runs", x.Runs)
	setTo(u, "heartbeat_at", x.Heartbeat)
	setTo(u, "finished_at", x.Finished)
	setTo(u, "error", x.Error)
	return u
}

// attemptOutcome maps a notify.AttemptOutcome to notify.Message's bson
// names. Status and error are always written.
func attemptOutcome(x notify.AttemptOutcome) *update {
	u := &update{}
	setTo(u, "status", &x.Status)
	setTo(u, "sent_at", x.Sent)
	setTo(u, "next_try", x.NextTry)
	setTo(u, "error", &x.Error)
	return u
}
