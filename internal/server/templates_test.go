package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/privacy"
)

var (
	now        = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	sampleUser = &auth.User{ID: "u1", Name: "Zoë Łukasiewicz-Ørsted", Email: "zoe@example.org", OrgID: "o1", Roles: []auth.Role{auth.RoleLearner, auth.RoleAdmin}, Created: now, TOTPEnabled: true}
)

// sampleLiveRow is a session two weeks on, with the viewer's status.
func sampleLiveRow(now time.Time, mine string) liveRow {
	s := &live.Session{ID: "s1", Title: "Care proceedings: a day for advocates", Start: now.AddDate(0, 0, 14), End: now.AddDate(0, 0, 14).Add(6 * time.Hour),
		Mode: live.InPerson, Venue: "Friends Meeting House", Address: "Manchester", Access: "Step-free", Capacity: 20, CPDHours: 5, Certificate: true, CancelHours: 24,
		Bookings: map[string]*live.Booking{"u2": {UserID: "u2", Status: live.Waiting, At: now}}}
	return liveRow{Session: s, When: live.When(s), Where: live.Where(s), Left: s.Left(), Mine: mine}
}

// withErrors returns a form with a problem on each named field.
func withErrors(fields ...string) *formState {
	f := emptyForm(map[string]string{"name": "Typed <value>"})
	f.Order = fields
	for _, name := range fields {
		f.Errors[name] = "Problem with " + name
	}
	return f
}

// withID gives a form the id prefix of its fields.
func withID(f *formState, id string) *formState { f.ID = id; return f }

// samplePages returns one sample page struct per page template. A template
// without a sample fails the test, so every page is rendered in CI.
func samplePages() map[string]page {
	course, _ := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
	enr := &learning.Enrolment{ID: "u1/sample-course", Lessons: map[string]time.Time{"01-first-steps": now}, LastLesson: "02-second-steps",
		Attempts: map[string]learning.AttemptSummary{"1": {No: 1, Started: now, Submitted: now, Percent: 50}}, OpenAttempt: 2}
	done := &learning.Enrolment{ID: "u1/sample-course", Lessons: map[string]time.Time{}, Completion: &learning.Completion{At: now, Percent: 100, CPDHours: 0.5, CourseVersion: "2026-11-01"}}
	prog := learning.ProgressOf(course, enr)
	attempt := &learning.Attempt{No: 2, Paper: courses.Draw(&course.Assessment, rand.New(rand.NewPCG(1, 1)))}
	sub := &learning.Submission{No: 1, Result: courses.Result{Correct: 2, Total: 4, Percent: 50, Wrong: []courses.WrongAnswer{{QuestionID: "s1", Prompt: "P", Explanation: "E", Lesson: "01-first-steps"}}}}
	srv := &Server{}
	exp := now.AddDate(0, 1, 0)
	cert := certificates.Certificate{Code: "K7QX-M2PA-HW9D-R3", Name: "Zoë Ørsted", Course: "sample-course", CourseTitle: "Sample", CourseVersion: "2026-11-01",
		CompletedAt: now, CPDHours: 0.5, ExpiresAt: &exp, Status: certificates.StatusIssued, IssuedAt: now, Revision: 2, SHA256: "ab", Size: 10,
		Revoked: &certificates.Revocation{At: now, Reason: "other", Note: "n"}, ReissueRequest: &certificates.ReissueRequest{At: now, Name: "New"}}
	policyData, _ := os.ReadFile("../../content/compliance/policy.yaml")
	policy, _ := compliance.ParsePolicy(policyData, func(string) bool { return true })
	dp := func(t time.Time) *time.Time { return &t }
	adv := &compliance.Advocate{ID: "a1", Name: "Amira Advocate", Profession: compliance.SocialWorker, Status: "active", ContractStart: dp(now), RegistrationDue: dp(now),
		MandatoryCourses: []string{"sample-course"}, Training: map[string]time.Time{"sample-course": now},
		DBS: []compliance.DBSCheck{{ID: "d1", Level: "enhanced", BarredLists: []string{"children"}, Workforce: "child", NumberLast4: "1234", IssueDate: now,
			OriginalSeenBy: "M", OriginalSeenAt: dp(now), UpdateService: true, Decision: "clear", DecisionAt: dp(now), ScanKey: "k", ScanDeleteAfter: dp(now),
			StatusChecks: []compliance.StatusCheck{{Date: now, Result: "no-new-information", CheckedBy: "M"}}}},
		References:   []compliance.Reference{{ID: "r1", Referee: "R", Relationship: "Manager", Outcome: "satisfactory", ReceivedAt: dp(now)}, {ID: "r2", Referee: "S", VerifiedBy: "M", VerifiedAt: dp(now)}},
		CPD:          []compliance.CPDEntry{{ID: "c1", Date: now, Title: "T", Type: "course", Hours: 2, Source: "manual", Evidence: []compliance.Evidence{{Name: "e.pdf"}}}},
		Supervisions: []compliance.Supervision{{ID: "s1", Date: now, Supervisor: "M", Kind: "individual"}}}
	adv.Snapshot = compliance.Evaluate(policy, adv, func(s string) string { return s }, now)
	advPage := func(self bool) *advocatePage {
		p := &advocatePage{A: adv, Self: self, Forms: map[string]*formState{"dbs": withErrors("level", "barred", "scan"), "cpd": withErrors("date", "evidence"),
			"status-d1": withErrors("result"), "profile": withErrors("profession")}, Revealed: map[string]string{"d1": "001234561234"}, Notes: map[string]string{"r1": "n"},
			Professions: compliance.Professions, Statuses: compliance.AdvocateStatuses, Courses: []*courses.Course{course}, Base: "/manage/advocates/a1", Policy: policy,
			Lists: map[string][]string{"levels": compliance.DBSLevels, "workforces": compliance.Workforces, "results": compliance.CheckResults,
				"decisions": compliance.Decisions, "eligibility": compliance.RoleEligibility, "outcomes": compliance.Outcomes, "cpdtypes": compliance.CPDTypes},
			Progress: compliance.Progress(policy.Rule(adv.Profession), adv.CPD, now), CPDChart: barChart("c", []string{"a"}, []float64{1}, nil, "h")}
		for _, r := range adv.Snapshot.Requirements {
			p.Requirements = append(p.Requirements, requirementView{Requirement: r, Label: compliance.RequirementLabels[r.Key]})
		}
		return p
	}
	dash := &compliance.Dashboard{Rows: []compliance.Row{{ID: "a1", Name: "Amira", Status: "paused", Overall: compliance.Overdue, States: map[string]compliance.State{"dbs": compliance.DueSoon},
		Due: map[string]*time.Time{"dbs": dp(now)}, NextDue: dp(now)}}, Total: 1, Counts: map[compliance.State]int{compliance.Met: 1}, Advocates: 1, CPDMonths: make([]float64, 12), Months: make([]string, 12)}
	m := map[string]page{
		"advocate":     advPage(false),
		"dashboard":    &dashboardPage{Dash: dash, Pager: pager{Page: 1, PerPage: 25, Total: 1}, Requirements: compliance.RequirementKeys, Labels: compliance.RequirementLabels, Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, OrgID: "o1", CSVURL: "/x"},
		"advocate_new": &newAdvocatePage{Form: withErrors("name", "profession", "status"), Profile: profileView{Form: withErrors("status"), Professions: compliance.Professions, Statuses: compliance.AdvocateStatuses, Managers: []auth.User{*sampleUser}}},
		"policy":       &policyPage{Policy: policy, Professions: compliance.Professions, Titles: map[string]string{}},
		"admin_audit": &auditPage{Events: []eventView{{At: now, Actor: "A", What: "DBS check recorded", Record: "Amira", Link: "/manage/advocates/a1", Filter: "/admin/audit?target=advocate:a1",
			Changes: []changeView{{Label: "Status", Before: "Active", After: "Paused"}, {Label: "DBS check", After: "Enhanced check issued 3 March 2026"}}, Note: "n"}}, About: "Amira", Form: withErrors("from")},
		"my_certificates":   &myCertificatesPage{Certificates: []certView{{Certificate: cert, State: certificates.StateValid, RenewSoon: true, NameDiffer: true}}, AccountName: "New"},
		"verify":            &verifyPage{Form: withErrors("code", "file")},
		"verify_result":     &verifyPage{Form: emptyForm(nil), Certificate: &cert, State: certificates.StateRevoked, Reason: "Other", Checked: true, FileOurs: true},
		"admin_job":         &jobPage{Job: &certificates.Job{Course: "sample-course", Total: 10, Done: 4, Failed: 1}, Percent: 50, Running: true},
		"admin_certificate": &adminCertificatePage{Certificate: &cert, State: certificates.StateRevoked, Reasons: certificates.RevocationReasons, Form: withErrors("reason")},
		"admin_certificates": &adminCertificatesPage{Form: withErrors("code"), Courses: []*courses.Course{course}, Counts: map[string]int{"sample-course": 3},
			Requests: []certificates.Certificate{cert}},
		"catalogue":    &cataloguePage{Courses: []*courses.Course{course}, Audiences: []audienceOption{{Value: "advocate", Label: "Advocates", Selected: true}}},
		"course":       &coursePage{Course: course, Enrolled: true, Progress: prog, Principles: []string{"P1"}},
		"lesson":       &lessonPage{Static: &lessonStatic{Article: "<p>b</p>", CompleteURL: "/c"}, Progress: prog, Done: true, ButtonLabel: "Next lesson"},
		"course_print": &printPage{Course: course, Lessons: []printLesson{{Lesson: &course.Lessons[0], Body: "<p>b</p>"}}},
		"assessment": &assessmentPage{State: &learning.AssessmentState{Course: course, Enrolment: enr, Progress: prog, Open: attempt, Last: sub, Used: 1},
			Questions: srv.paperView(course, attempt, courses.Answers{"s1": {0}}), Error: "Your answers did not match", PassMark: 75, Remaining: 2},
		"result":       &resultPage{Course: course, Submission: sub, Wrong: []wrongView{{WrongAnswer: sub.Result.Wrong[0], LessonTitle: "First steps"}}},
		"my_learning":  &myLearningPage{InProgress: []learning.Progress{prog}, Completed: []learning.Progress{learning.ProgressOf(course, done)}, CPDHours: 0.5},
		"home":         &homePage{},
		"content_page": &contentPage{Body: "<p>x</p>"},
		"error":        &errorPage{Status: 404, Heading: "Page not found", Message: "m"},
		"register": &registerPage{formPage: formPage{Form: withErrors("name", "email", "password", "org", "job_role")},
			Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, JobRoles: auth.JobRoles, NoOrg: auth.NoOrganisation, Verify: true},
		"login":     &formPage{Form: withErrors("email", "_form"), Next: "/account"},
		"login_2fa": &formPage{Form: withErrors("code")},
		"forgot":    &formPage{Form: withErrors("email")},
		"reset":     &resetPage{formPage: formPage{Form: withErrors("password")}, Token: "t"},
		"account": &accountPage{Account: sampleUser, OrgName: "Org", Profile: withErrors("name"), Password: withErrors("new_password"),
			Email: withID(withErrors("new_email", "current_password", "code"), "email"), EmailPending: &auth.EmailChange{Email: "new@example.org", Expires: now},
			Sessions: []auth.Session{{ID: "s1", UserAgent: "Firefox", Created: now, LastSeen: now}, {ID: "s2"}}, CurrentID: "s1"},
		"account_2fa": &twoFactorPage{Setup: &auth.TOTPSetup{Secret: "ABC", QRPNG: "data:image/png;base64,AA"}, Form: withErrors("code"), Required: true},
		"admin_home":  &adminHomePage{Users: 3, Admins: 1},
		"admin_content_review": &contentReviewPage{Today: now, NoticeDays: 30, Pending: 1, Rows: []reviewRow{
			{ReviewItem: courses.ReviewItem{Course: course, Due: now, DueIn: -3, Pending: []courses.PendingPoint{{Lesson: "01-first-steps", Line: 9, Text: "s3"}}}, Checked: now, DaysOver: 3},
			{ReviewItem: courses.ReviewItem{Course: course, Due: now, DueIn: 12}, Checked: now, Soon: true},
			{ReviewItem: courses.ReviewItem{Course: course, Due: now, DueIn: 200}, Checked: now}}},
		"admin_users":  &adminUsersPage{Query: "sam", Users: []auth.User{*sampleUser}, Orgs: map[string]string{"o1": "Org"}, Pager: pager{Page: 2, PerPage: 1, Total: 3, PrevURL: "/x?page=1", NextURL: "/x?page=3"}},
		"admin_user":   &adminUserPage{Account: sampleUser, Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, Roles: auth.AllRoles, Form: withErrors("roles", "org")},
		"admin_orgs":   &adminOrgsPage{Orgs: []auth.Organisation{{ID: "o1", Name: "Org", Kind: auth.OrgService}}, Form: withErrors("name", "kind")},
		"admin_outbox": &outboxPage{Messages: []notify.Message{{ID: "m1", To: "a@b.org", Subject: "Hi", Created: now}}, Pager: pager{Page: 1, PerPage: 25, Total: 1}},
		"notifications": &notificationsPage{Inbox: &notify.Inbox{Items: []notify.Notification{{ID: "n1", At: now, Subject: "Reminder", Text: "Due soon", Link: "/my/compliance"}, {ID: "n2", At: now, Subject: "Old", ReadAt: &now},
			{ID: "n3", At: now, Subject: "Weekly summary", Text: "2 items", Link: "/manage?filter=attention", Items: []notify.Item{{Text: "Amira: DBS check overdue", Detail: "since 3 March", Link: "/manage/advocates/a1#dbs"}}, More: 4}}}},
		"evaluation":  &evaluationPage{Kind: "after", Course: course, Form: withErrors("helpful"), Scale: confidenceScale, Continue: "/my/certificates"},
		"unsubscribe": &unsubscribePage{UserID: "u1", Token: "t"},
		"live":        &livePage{Rows: []liveRow{sampleLiveRow(now, "booked")}, Audiences: []audienceOption{{Value: "advocate", Label: "Advocates"}}, Months: []option{{Value: "2026-12", Label: "December 2026"}}},
		"live_session": &liveSessionPage{Row: sampleLiveRow(now, "offered"), Booking: &live.Booking{UserID: "u1", Name: "Zoë", Status: live.Offered, Until: dp(now)},
			Form: withErrors("access"), Cancel: true, Manager: true},
		"my_live":          &myLivePage{Rows: []liveRow{sampleLiveRow(now, "waiting")}, FeedURL: "http://lms.test/live/feed/u1/t.ics"},
		"trainer_live":     &trainerLivePage{Rows: []liveRow{sampleLiveRow(now, "")}, Past: []liveRow{sampleLiveRow(now, "")}},
		"trainer_live_new": &liveNewPage{Form: withErrors("title", "mode"), Courses: []option{{Value: "sample-course", Label: "Sample"}}, Modes: []option{{Value: "in-person", Label: "In person"}}, Action: "/trainer/live/new", Submit: "Set up"},
		"trainer_register": &liveRegisterPage{Row: sampleLiveRow(now, ""), Open: true, Form: withErrors("attendance_u1", "minutes_u1"), Rows: []liveRegisterRow{
			{Booking: &live.Booking{UserID: "u1", Name: "Ann", Status: live.Booked}, Field: "attendance_u1", MinutesField: "minutes_u1", Mark: "left-early", Minutes: "x", NoShows: 2},
			{Booking: &live.Booking{UserID: "u2", Name: "Bob", Status: live.Booked, Attendance: live.Present, Certificate: "ABCD-1234"}, Field: "attendance_u2", MinutesField: "minutes_u2", Credited: 5}}},
		"trainer_live_report": &liveReportPage{Form: withErrors("to"), Period: live.Period{From: "2026-01", To: "2026-12", Sessions: 1, Places: 20, Booked: 10, FillRate: 50},
			Rows: []liveReportRow{{PeriodRow: live.PeriodRow{Session: sampleLiveRow(now, "").Session}, When: "Monday"}}},
		"trainer_session": &trainerSessionPage{Started: true, InPerson: true, Row: sampleLiveRow(now, ""), Booked: []liveBookingRow{{Booking: &live.Booking{Name: "Ann", At: now, By: "Max"}, AccessNeeds: "Step-free", DietaryNeeds: "Vegan"}},
			Offered: []liveBookingRow{{Booking: &live.Booking{Name: "Bob", Until: dp(now)}}}, Waiting: []liveBookingRow{{Booking: &live.Booking{Name: "Cat", At: now}}}},
		"impact": func() *impactPage {
			rows := map[string]impact.Row{}
			for i := range 6 {
				rows[fmt.Sprintf("p%d", i)] = impact.Row{Enrolled: now, Attempts: 1, Passed: dp(now), Before: &impact.Ratings{At: now, Confidence: []int{2, 3}},
					After: &impact.After{Ratings: impact.Ratings{At: now, Confidence: []int{4, 4}}, Helpful: 5, Relevant: 4, Recommend: "yes", Different: "sealed"},
					First: &impact.First{Answers: map[string][]int{"s1": {1}}}}
			}
			r := impact.Compute(course, impact.Month(now), impact.Month(now), "", map[string]map[string]impact.Row{"sample-course/2026-11/0": rows}, true,
				func(_, _, _, v string) string { return "I will listen first." })
			return &impactPage{Courses: []*courses.Course{course}, Course: "sample-course", From: r.From, To: r.To, Admin: true, Report: r, OrgName: "All organisations",
				Confidence: impact.ConfidenceChart(r), Trend: impact.TrendChart(r), Query: "?course=sample-course", Form: emptyForm(nil)}
		}(),
		"lapsing": &lapsingPage{Items: []lapseView{{Lapse: compliance.Lapse{AdvocateID: "a1", Name: "Amira", Key: "dbs", State: compliance.DueSoon, Due: now, DaysLeft: 3, Cleared: true}, Label: "DBS check", DueText: "3 March 2027", InDays: "in 3 days", Manager: "Sam"}},
			Total: 1, Within: 30, Windows: []int{7, 30, 60, 90}, Requirements: compliance.RequirementKeys, Labels: compliance.RequirementLabels, Managers: []auth.User{*sampleUser}, Pager: pager{Page: 1, PerPage: 25, Total: 1}, Back: "/manage/lapsing"},
		"admin_erase": &erasePage{Account: sampleUser, Plan: &privacy.Plan{Steps: []privacy.Step{{What: "Their 2 sign-in sessions will be deleted.", Count: 2}}}, Policy: "keep-status", Form: withErrors("confirm_email")},
		"account_export": &exportPage{Building: &exportRow{Export: privacy.Export{ID: "x1", Status: privacy.ExportBuilding, Done: 3, Total: 10, Created: now}, Percent: 30},
			Done: []exportRow{exportRowOf(privacy.Export{ID: "x2", Status: privacy.ExportReady, Size: 3 << 20, Created: now, Expires: now.AddDate(0, 0, 7)}),
				exportRowOf(privacy.Export{ID: "x3", Status: privacy.ExportFailed, Created: now})}, Auto: true, Days: 7},
		"account_email_confirm": &emailConfirmPage{
			Email: "new@example.org", Token: "u1.t"},
		"account_confirm": &confirmPage{Email: "zoe@example.org", Token: "u1.t"},
		"join_requests": &joinRequestsPage{AllOrgs: true, Pager: pager{Page: 1, PerPage: 25, Total: 2}, Requests: []joinRequestRow{
			{PendingJoin: auth.PendingJoin{User: sampleUser, OrgID: "o1", Requested: now}, OrgName: "Org"},
			{PendingJoin: auth.PendingJoin{User: &auth.User{ID: "u2", Name: "Unconfirmed", EmailConfirm: &auth.EmailConfirm{}}, OrgID: "o1", Requested: now}}}},
		"admin_retention": &retentionPage{Due: []privacy.Due{{Job: "outbox", What: "3 copies of emails", Reason: "old"}}, EndedMonths: 72, OutDays: 365},
		"admin_completions": &adminCompletionsPage{Course: course, Versions: []versionCount{{course.Version, 1}, {"2025-01-01", 2}}, Version: "2025-01-01",
			Rows: []completionRow{{UserID: "u1", Name: "Sam", Email: "s@x.org", Org: "Org", Version: "2025-01-01", At: now, Percent: 80, Codes: []string{"ABCD"}}}, Pager: pager{Page: 1, PerPage: 50, Total: 1}},
		"admin_message": &messagePage{Message: &notify.Message{ID: "m1", To: "a@b.org", Subject: "Hi", Text: "Body", Created: now}},
	}
	for name, sample := range moreSamples {
		m[name] = sample()
	}
	return m
}

// moreSamples holds the sample pages of templates that other test files
// bring, each added from that file's init: moreSamples["x"] = func() page {…}.
var moreSamples = map[string]func() page{}

func TestEveryTemplateRendersWithASamplePage(t *testing.T) {
	s := newBareServer(t)
	samples := samplePages()
	for name, tmpl := range s.tmpl.pages {
		p, ok := samples[name]
		if !ok {
			t.Errorf("template %q has no sample page in samplePages", name)
			continue
		}
		b := p.base()
		b.Title = "Sample"
		b.User = &viewer{ID: "u1", Name: "Sample Person", Roles: []string{"learner", "advocate", "manager", "admin"}, Email: "sample@example.org", MustConfirmEmail: true}
		b.Nav = s.navFor(b.User, "/")
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Errorf("template %q: %v", name, err)
		}
	}
}
