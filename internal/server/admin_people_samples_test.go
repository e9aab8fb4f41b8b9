package server

import (
	"os"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/people"
)

// The sample pages of the templates that adding people brings, and a
// fuller one of a person's page and of the certificates page (every
// section shown) in place of the plain ones in templates_test.go.
func init() {
	orgs := []auth.Organisation{{ID: "o1", Name: "Org"}}
	moreSamples["admin_person_new"] = func() page {
		return &newPersonPage{Form: withErrors("name", "email", "roles", "org", "advocate"), Orgs: orgs, Roles: []auth.Role{auth.RoleLearner, auth.RoleManager, auth.RoleAdmin},
			Chosen: []auth.Role{auth.RoleLearner}, Advocate: auth.RoleAdvocate.Description()}
	}
	moreSamples["invitation"] = func() page {
		return &invitationPage{formPage: formPage{Form: withErrors("password")}, Token: "u1.t", Name: "Zoë", Email: "zoe@example.org"}
	}
	moreSamples["admin_people_upload"] = func() page {
		file := &people.File{Text: "name,email,organisation\n", Hash: "ab12ab12ab12ab12ab12", Encoding: "UTF-8", Ignored: []string{"Phone"}}
		rows := []people.Row{
			{Row: 2, Name: "Amy Adams", Email: "amy@example.org", OrgName: "Org", Roles: []auth.Role{auth.RoleLearner, auth.RoleAdvocate}, Advocate: true, Outcome: people.WillCreate},
			{Row: 3, Name: "Ben", Email: "ben@", Outcome: people.Invalid, Problems: []string{"the email “ben@” is not a valid address"}},
			{Row: 4, Name: "Cat", Email: "cat@example.org", Outcome: people.Exists, UserID: "u2"},
			{Row: 5, Name: "Dan", Email: "dan@example.org", Outcome: people.Created, UserID: "u3", Notes: []string{"the invitation email could not be sent"}},
			{Row: 6, Name: "Eve", Email: "eve@example.org", Outcome: people.NotYet},
			{Row: 7, Name: "Fay", Email: "fay@example.org", Outcome: people.CreatedBefore, UserID: "u4"},
		}
		return &uploadPage{Form: withErrors("file"), Plan: &people.Plan{File: file, Rows: rows, Confirmed: true, Stopped: "There was not time."}, Text: "YQ==",
			Columns: uploadColumns, MaxRows: people.MaxRows}
	}
	moreSamples["admin_certificates"] = func() page {
		exp := now.AddDate(1, 0, 0)
		cert := certificates.Certificate{Code: "K7QX-M2PA-HW9D-R3", CourseTitle: "Sample", IssuedAt: now, ExpiresAt: &exp}
		return &adminCertificatesPage{Form: withErrors("q"), Counts: map[string]int{}, Query: "zoe", Holders: 3,
			Found: []holderCertificates{{User: *sampleUser, Certificates: []userCertificate{{Certificate: cert, State: certificates.StateExpired}}}, {User: *sampleUser}}}
	}

	moreSamples["admin_user"] = func() page {
		course, _ := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
		enr := &learning.Enrolment{ID: "u1/sample-course", Enrolled: now, Lessons: map[string]time.Time{"01-first-steps": now},
			Attempts: map[string]learning.AttemptSummary{"1": {No: 1}}}
		done := &learning.Enrolment{ID: "u1/sample-course", Enrolled: now, Lessons: map[string]time.Time{},
			Completion: &learning.Completion{At: now, Percent: 90, CourseVersion: "2026-11-01"}}
		exp := now.AddDate(1, 0, 0)
		u := *sampleUser
		u.Roles = []auth.Role{auth.RoleLearner, auth.RoleAdvocate, auth.RoleManager}
		u.EmailConfirm = &auth.EmailConfirm{}
		u.Invitation = &auth.Invitation{TokenHash: "h", First: now, Sent: now, Expires: now.Add(auth.InvitationLifetime), Mailed: true, Sends: 2, Upload: "ab"}
		adv := &compliance.Advocate{ID: "u1", Status: compliance.StatusOnboarding, Snapshot: compliance.Snapshot{Overall: compliance.Missing, NextDue: &exp}}
		return &adminUserPage{Account: &u, OrgName: "Org", Orgs: orgs, Roles: auth.AllRoles, Form: withErrors("roles", "org"), Reset2FA: withErrors("reason"),
			Invitation: auth.InvitationPending, InvitedBy: "Adam Admin",
			SignIns:    &auth.SignIns{Sessions: []auth.Session{{ID: "s1", Created: now, LastSeen: now}}, LastSignIn: now, LastSeen: now},
			InProgress: []learning.Progress{learning.ProgressOf(course, enr)}, Completed: []learning.Progress{learning.ProgressOf(course, done)},
			Certificates: []userCertificate{{Certificate: certificates.Certificate{Code: "K7QX-M2PA-HW9D-R3", CourseTitle: "Sample", IssuedAt: now, ExpiresAt: &exp},
				State: certificates.StateValid}},
			Advocate: adv}
	}
}
