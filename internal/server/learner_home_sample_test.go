package server

import (
	"os"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
)

// The home's sample is a full dashboard: a course to continue, assessments
// in each state, certificates (renew soon, expired) and an advocate's next
// due date. (The public home renders signed out in TestPlatformPages.)
func init() {
	moreSamples["home"] = func() page {
		course, _ := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
		enr := &learning.Enrolment{ID: "u1/sample-course", Lessons: map[string]time.Time{"01-first-steps": now}, LastLesson: "02-second-steps",
			Attempts: map[string]learning.AttemptSummary{}}
		prog := learning.ProgressOf(course, enr)
		waiting := learning.Attempts{Max: 3, WaitHours: 24, Used: 1, Last: learning.AttemptSummary{No: 1, Submitted: now, Percent: 50}, RetryAt: now.Add(24 * time.Hour)}
		exp, old := now.AddDate(0, 1, 0), now.AddDate(0, -1, 0)
		row := dashRow{Row: compliance.Row{Overall: compliance.DueSoon, Cleared: true}, NextText: "DBS check on 3 March 2027 (in 87 days)"}
		return &homePage{Dash: &homeDashboard{FirstName: "Zoë", Continue: &homeCourse{Progress: prog, Lesson: &course.Lessons[1], LessonNo: 2},
			Others: []homeCourse{{Progress: prog}},
			Assessments: []homeCourse{{Progress: prog, Attempts: waiting}, {Progress: prog, Attempts: learning.Attempts{Max: 3, WaitHours: 24}},
				{Progress: prog, Attempts: learning.Attempts{Max: 3, Used: 3, NoneLeft: true}}, {Progress: prog, Attempts: learning.Attempts{Open: true}}},
			Certificates: []homeCert{{Code: "K7QX-M2PA-HW9D-R3", Course: "sample-course", CourseTitle: "Sample", State: certificates.StateValid, ExpiresAt: &exp, RenewSoon: true},
				{Course: "sample-course", CourseTitle: "Old", State: certificates.StateExpired, ExpiresAt: &old}, {Course: "x", CourseTitle: "Preparing", State: certificates.StatePreparing}},
			Completed: 2, CPDHours: 1.5, Advocate: true, Compliance: &row, Manager: true, Admin: true}}
	}
}
