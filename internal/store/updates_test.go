package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/testenv"
)

// Typed updates: each test sets every field of an update to a value the
// record did not hold, writes it, reads the record back into its domain
// struct and checks the field of the same name, so a field written under
// the wrong bson name (or not at all) fails. A field added to an update
// type later fails here until the test gives it a value.

// at returns a time as the database gives it back (UTC, milliseconds).
func at(day int) time.Time { return time.Date(2025, 3, day, 9, 30, 15, 123e6, time.UTC) }

func TestUpdateUserWritesEveryFieldUnderItsName(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	before := &auth.User{ID: "u1", Email: "before@example.org", Name: "Before", OrgID: "org-before", Roles: []auth.Role{auth.RoleLearner},
		Created: at(1), Updated: at(1), NotifyOptional: true}
	if err := e.DB.InsertUser(ctx, before); err != nil {
		t.Fatal(err)
	}
	u := auth.UserUpdate{
		Name: new("After"), Email: new("after@example.org"), OrgID: new("org-after"), Roles: &[]auth.Role{auth.RoleManager, auth.RoleAdmin},
		Updated: new(at(2)), PasswordHash: new("hash"), Disabled: new(true), TOTPSecret: new("secret"), TOTPPending: new("pending"),
		TOTPEnabled: new(true), RecoveryHashes: &[]string{"r1", "r2"}, NotifyOptional: new(false),
		Erasure: &auth.Erasure{Started: at(3), By: "admin", Name: "Before", Email: "before@example.org"}, ErasedAt: new(at(4)),
		EmailChange: &auth.EmailChange{Email: "next@example.org", TokenHash: "hash", Password: "stamp", Requested: at(5), Expires: at(6)},
	}
	if err := e.DB.UpdateUser(ctx, "u1", u); err != nil {
		t.Fatal(err)
	}
	got, err := e.DB.User(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	checkApplied(t, u, got)
	if got.Version != 1 || !got.Created.Equal(at(1)) {
		t.Errorf("version %d, created %v; want 1 and the creation time kept", got.Version, got.Created)
	}

	t.Run("ClearErasureRemovesIt", func(t *testing.T) {
		if err := e.DB.UpdateUser(ctx, "u1", auth.UserUpdate{ClearErasure: true}); err != nil {
			t.Fatal(err)
		}
		got, err := e.DB.User(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Erasure != nil || got.Version != 2 || got.Name != "After" {
			t.Errorf("erasure %v, version %d, name %q; want none, 2 and the name kept", got.Erasure, got.Version, got.Name)
		}
		if has(t, e, "users", "u1", "erasure") {
			t.Error("the erasure field is still in the document")
		}
	})
	t.Run("ClearEmailChangeRemovesIt", func(t *testing.T) {
		if err := e.DB.UpdateUser(ctx, "u1", auth.UserUpdate{ClearEmailChange: true}); err != nil {
			t.Fatal(err)
		}
		got, err := e.DB.User(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if got.EmailChange != nil || got.Email != "after@example.org" {
			t.Errorf("email change %v, email %q; want none and the email kept", got.EmailChange, got.Email)
		}
		if has(t, e, "users", "u1", "email_change") {
			t.Error("the email_change field is still in the document")
		}
	})
	t.Run("MissingUserIsNotFound", func(t *testing.T) {
		if err := e.DB.UpdateUser(ctx, "nobody", auth.UserUpdate{Name: new("x")}); !errs.Is(err, errs.ENOTFOUND) {
			t.Errorf("got %v, want ENOTFOUND", err)
		}
	})
}

func TestUpdateCertificateWritesEveryFieldUnderItsName(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	before := &certificates.Certificate{Code: "C1", UserID: "u1", OrgID: "org-before", Name: "Before", Course: "c", Status: certificates.StatusClaimed,
		ClaimedAt: at(1), PendingRevision: 1, LastJob: "job-before"}
	if err := e.DB.InsertCertificate(ctx, before); err != nil {
		t.Fatal(err)
	}
	u := certificates.CertificateUpdate{
		Name: new("After"), NameErased: new(true), OrgID: new("org-after"), Status: new(certificates.StatusIssued), IssuedAt: new(at(2)),
		Revision: new(3), RevisedAt: new(at(3)), LastJob: new("job-after"), SHA256: new("abc123"), Size: new(int64(4096)), PendingRevision: new(0),
		Revoked:        &certificates.Revocation{At: at(4), Reason: "other", Note: "a note", By: "admin"},
		ReissueRequest: &certificates.ReissueRequest{At: at(5), Name: "New Name"},
	}
	if err := e.DB.UpdateCertificate(ctx, "C1", u); err != nil {
		t.Fatal(err)
	}
	got, err := e.DB.Certificate(ctx, "C1")
	if err != nil {
		t.Fatal(err)
	}
	checkApplied(t, u, got)
	if got.Course != "c" || !got.ClaimedAt.Equal(at(1)) {
		t.Errorf("course %q, claimed %v; want the fields not in the update kept", got.Course, got.ClaimedAt)
	}

	t.Run("ClearReissueRequestRemovesIt", func(t *testing.T) {
		if err := e.DB.UpdateCertificate(ctx, "C1", certificates.CertificateUpdate{ClearReissueRequest: true}); err != nil {
			t.Fatal(err)
		}
		got, err := e.DB.Certificate(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ReissueRequest != nil || got.Revoked == nil {
			t.Errorf("reissue request %v, revoked %v; want no request and the revocation kept", got.ReissueRequest, got.Revoked)
		}
		if has(t, e, "certificates", "C1", "reissue_request") {
			t.Error("the reissue_request field is still in the document")
		}
	})
	t.Run("MissingCertificateIsNotFound", func(t *testing.T) {
		if err := e.DB.UpdateCertificate(ctx, "NOPE", certificates.CertificateUpdate{Name: new("x")}); !errs.Is(err, errs.ENOTFOUND) {
			t.Errorf("got %v, want ENOTFOUND", err)
		}
	})
}

func TestUpdateJobWritesEveryFieldUnderItsName(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	if err := e.DB.InsertJob(ctx, &certificates.Job{ID: "j1", Kind: "reissue", Course: "c", Started: at(1), Heartbeat: at(1)}); err != nil {
		t.Fatal(err)
	}
	u := certificates.JobUpdate{Done: new(7), Failed: new(2), Cursor: new("C9"), Runs: new(3), Heartbeat: new(at(2)), Finished: new(at(3)), Error: new("stopped")}
	if err := e.DB.UpdateJob(ctx, "j1", u); err != nil {
		t.Fatal(err)
	}
	got, err := e.DB.Job(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	checkApplied(t, u, got)
	if got.Kind != "reissue" || !got.Started.Equal(at(1)) {
		t.Errorf("kind %q, started %v; want the fields not in the update kept", got.Kind, got.Started)
	}
}

func TestFinishAttemptWritesEveryFieldUnderItsName(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	m := &notify.Message{ID: "m1", To: "a@example.org", Subject: "s", Kind: "k", Created: at(1), Status: notify.StatusQueued, NextTry: at(1), Error: "before"}
	if _, err := e.DB.InsertMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	o := notify.AttemptOutcome{Status: notify.StatusFailed, Sent: new(at(2)), NextTry: new(at(3)), Error: "after"}
	if err := e.DB.FinishAttempt(ctx, "m1", o); err != nil {
		t.Fatal(err)
	}
	got, err := e.DB.Message(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	checkApplied(t, o, got)

	t.Run("DeliveredClearsTheError", func(t *testing.T) {
		if err := e.DB.FinishAttempt(ctx, "m1", notify.AttemptOutcome{Status: notify.StatusSent}); err != nil {
			t.Fatal(err)
		}
		got, err := e.DB.Message(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != notify.StatusSent || got.Error != "" || !got.NextTry.Equal(at(3)) {
			t.Errorf("status %q, error %q, next try %v; want sent, no error, next try kept", got.Status, got.Error, got.NextTry)
		}
	})
}

// checkApplied fails unless every field of update (a typed update value)
// is set and the stored record's field of the same name holds its value.
// Clear… fields are checked by the tests themselves.
func checkApplied(t *testing.T, update, stored any) {
	t.Helper()
	uv, sv := reflect.ValueOf(update), reflect.Indirect(reflect.ValueOf(stored))
	for i := range uv.NumField() {
		name := uv.Type().Field(i).Name
		if strings.HasPrefix(name, "Clear") {
			continue
		}
		want := uv.Field(i)
		if want.Kind() == reflect.Pointer {
			if want.IsNil() {
				t.Errorf("%T.%s is not set: give it a value here so its bson name is tested", update, name)
				continue
			}
			want = want.Elem()
		}
		got := sv.FieldByName(name)
		if !got.IsValid() {
			t.Errorf("%T has no field %s: name the update's fields as the record's", stored, name)
			continue
		}
		if got.Kind() == reflect.Pointer {
			if got.IsNil() {
				t.Errorf("%s: got nil, want %v", name, want.Interface())
				continue
			}
			got = got.Elem()
		}
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("%s: got %v, want %v", name, got.Interface(), want.Interface())
		}
	}
}

// has reports whether the stored document has the field at all.
func has(t *testing.T, e *testenv.Env, collection, id, field string) bool {
	t.Helper()
	raw, err := e.DB.DB.Collection(collection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.LookupErr(field)
	return err == nil
}
