package handover

import (
	"context"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/live"
)

// Attendance hands a live session's attendance over to the same pipelines
// as a course's completion: the certificate (same codes, verification,
// reissue and revocation) and, for an advocate, the CPD entry and the
// mandatory training of the linked course.
type Attendance struct {
	Certs  *certificates.Service
	Comply *compliance.Service
}

// IssueAttendance issues the attendance's one certificate.
func (a Attendance) IssueAttendance(ctx context.Context, x live.Attended) (string, error) {
	course := x.Course
	if course == "" {
		course = "live"
	}
	c, err := a.Certs.IssueFor(ctx, certificates.Completed{Key: x.Key, Live: x.SessionID, UserID: x.UserID, Course: course,
		Title: x.Title, At: x.At, CPDHours: x.Hours, ValidMonths: x.ValidMonths})
	if err != nil {
		return "", err
	}
	return c.Code, nil
}

// RecordAttendance records the attendance as CPD (advocates only).
func (a Attendance) RecordAttendance(ctx context.Context, x live.Attended) error {
	_, err := a.Comply.RecordLiveAttendance(ctx, x.UserID, x.Key, x.Course, x.Title, x.Learnt, x.Hours, x.At)
	return err
}
