package store_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestUpgradeBuildsListsAndQueuesOfAnOlderDatabase writes records as the
// previous version did (no lists, no queues), runs the upgrade, and checks
// each list and queue finds them; a second run does nothing.
func TestUpgradeBuildsListsAndQueuesOfAnOlderDatabase(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	raw := func(coll string, doc any) {
		t.Helper()
		if _, err := e.DB.DB.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	raw("meta", bson.D{{Key: "_id", Value: "installation"}, {Key: "installation_id", Value: "old"}, {Key: "created_at", Value: now.AddDate(-1, 0, 0)}})
	raw("users", &auth.User{ID: "u1", Name: "Olive Older", Email: "olive@example.org", Roles: []auth.Role{auth.RoleLearner, auth.RoleAdmin}})
	raw("sessions", &auth.Session{ID: "s1", UserID: "u1", Created: now, LastSeen: now, Expires: now.Add(12 * time.Hour)})
	exp := now.AddDate(0, 0, 20)
	raw("enrolments", &learning.Enrolment{ID: "u1/c1", UserID: "u1", Course: "c1", Pending: []string{learning.PendingCertificate},
		Completion: &learning.Completion{At: now.AddDate(-1, 0, 0), CourseVersion: "2025-01-01", Attempt: 1}})
	raw("certificates", &certificates.Certificate{Code: "CODE1", UserID: "u1", Course: "c1", Status: certificates.StatusIssued, ExpiresAt: &exp})
	raw("outbox", &notify.Message{ID: "m1", To: "olive@example.org", UserID: "u1", Subject: "Hello", Status: notify.StatusQueued, Created: now, NextTry: now})
	raw("audit_events", &audit.Event{ID: "ev1", At: now, ActorID: "u1", Actor: "Olive Older", Action: "user.export", Target: "user:u1"})

	for run := 0; run < 2; run++ {
		if err := e.DB.Backfill(ctx, now, testenv.Logger(t)); err != nil {
			t.Fatal(err)
		}
	}
	if users, total, err := e.DB.ListUsers(ctx, auth.UserQuery{Search: "oliv"}); err != nil || total != 1 || users[0].ID != "u1" {
		t.Fatalf("search after the upgrade: %v (total %d), %v", users, total, err)
	}
	if n, err := e.DB.CountAdmins(ctx); err != nil || n != 1 {
		t.Fatalf("admins after the upgrade: %d, %v", n, err)
	}
	if s, err := e.DB.UserSessions(ctx, "u1"); err != nil || len(s) != 1 {
		t.Fatalf("sessions: %v, %v", s, err)
	}
	if es, total, err := e.DB.CourseCompletions(ctx, "c1", "2025-01-01", 0, 10); err != nil || total != 1 || len(es) != 1 {
		t.Fatalf("completions: %v (total %d), %v", es, total, err)
	}
	if p, err := e.DB.PendingEnrolments(ctx, learning.PendingCertificate, now, 10); err != nil || len(p) != 1 {
		t.Fatalf("pending hand-overs: %v, %v", p, err)
	}
	if cs, err := e.DB.ExpiringCertificates(ctx, now, now.AddDate(0, 0, 60)); err != nil || len(cs) != 1 {
		t.Fatalf("expiring certificates: %v, %v", cs, err)
	}
	if n, err := e.DB.CountCourseCertificates(ctx, "c1"); err != nil || n != 1 {
		t.Fatalf("course certificates: %d, %v", n, err)
	}
	if ids, err := e.DB.DueMessages(ctx, now, 10); err != nil || len(ids) != 1 {
		t.Fatalf("due mail: %v, %v", ids, err)
	}
	if ms, total, err := e.DB.Messages(ctx, "olive@example.org", 0, 10); err != nil || total != 1 || len(ms) != 1 {
		t.Fatalf("outbox to Olive: %v (total %d), %v", ms, total, err)
	}
	if evs, total, err := e.DB.Events(ctx, audit.Query{Target: "user:u1"}); err != nil || total != 1 || len(evs) != 1 {
		t.Fatalf("audit: %v (total %d), %v", evs, total, err)
	}
	refs, err := e.DB.PersonRefs(ctx, "u1")
	if err != nil || len(refs) != 3 { // the enrolment, the certificate, the message
		t.Fatalf("person's list: %v, %v", refs, err)
	}
	_ = store.Layout
}
