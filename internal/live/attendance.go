package live

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/errs"
)

// Attended is what an attendance mark hands over: the CPD hours and, for a
// whole session with a certificate, the certificate, through the same
// pipelines as a course's completion.
type Attended struct {
	Key         string // "live/<session>/<user>": the completion's claim key
	SessionID   string
	UserID      string
	Course      string // the linked course ("" for a standalone event)
	Title       string
	At          time.Time // the session's end
	Hours       float64
	ValidMonths int
	Learnt      string // what the CPD entry says was done
}

// Certifier issues the certificate of an attendance (idempotent by Key)
// and returns its code.
type Certifier interface {
	IssueAttendance(ctx context.Context, a Attended) (string, error)
}

// CPDRecorder records an attendance as CPD for an advocate (idempotent by
// Key; people who are not advocates have nothing to record).
type CPDRecorder interface {
	RecordAttendance(ctx context.Context, a Attended) error
}

// HandOverItem is one queued hand-over of an attendance mark.
type HandOverItem struct {
	Session, User string
	Queued        time.Time
}

// HandOverGrace is how long the reconciler leaves a new mark to the
// request that made it.
const HandOverGrace = time.Minute

// MarkForm is one person's line on the register, as typed.
type MarkForm struct {
	Attendance string // Present, LeftEarly, Absent or "" (not marked)
	Minutes    string // LeftEarly: minutes attended
}

// MinutesField is the form field of a person's minutes on the register.
func MinutesField(userID string) string { return "minutes_" + userID }

// AttendanceField is the form field of a person's mark on the register.
func AttendanceField(userID string) string { return "attendance_" + userID }

// Final says whether a booking's mark can no longer change: attendance
// (whole or part) is recorded once, with what it earned.
func (b *Booking) Final() bool {
	return b.Attendance == Present || b.Attendance == LeftEarly
}

// RegisterOpen says whether the register can be marked at now: from the
// session's start.
func (s *Session) RegisterOpen(now time.Time) bool {
	return s.Cancelled == nil && !now.Before(s.Start)
}

// Mark records the register of a session: each person with a place gets
// their mark, all in one write. A person marked present or as leaving
// early is handed over at once (and by the reconciler after a crash): CPD
// hours to their record, and for a whole session with a certificate, the
// certificate. A mark that earned something is final; absent marks count
// as no-shows. It returns how many marks changed.
func (s *Service) Mark(ctx context.Context, actor *auth.User, id string, marks map[string]MarkForm) (int, error) {
	if !canRun(actor) {
		return 0, errs.E(errs.EFORBIDDEN, "Only trainers and administrators mark the register.")
	}
	now := s.Now().UTC()
	ses, err := s.Store.LiveSession(ctx, id)
	if err != nil {
		return 0, err
	}
	if !ses.RegisterOpen(now) {
		return 0, errs.E(errs.ECONFLICT, "The register opens when the session starts, at %s.", ses.Start.In(civil.London).Format("15:04 on Monday 2 January"))
	}
	want, err := checkMarks(ses, marks)
	if err != nil {
		return 0, err
	}
	// Queued and counted before the write, so a crash after it leaves
	// work the reconciler finds.
	for uid, m := range want {
		if m.Attendance == Present || m.Attendance == LeftEarly {
			if err := s.Store.QueueLiveHandOver(ctx, id, uid, now); err != nil {
				return 0, err
			}
		}
		if err := s.Store.SetLiveNoShow(ctx, uid, id, m.Attendance == Absent); err != nil {
			return 0, err
		}
	}
	changed := 0
	after, err := s.Store.UpdateLiveSession(ctx, id, func(x *Session) error {
		changed = 0
		for uid, m := range want {
			b := x.Bookings[uid]
			if b == nil || b.Status != Booked || b.Final() || b.Attendance == m.Attendance && b.Minutes == m.Minutes {
				continue
			}
			b.Attendance, b.Minutes, b.Marked, b.MarkedBy = m.Attendance, m.Minutes, &now, actor.Name
			b.Pending = nil
			if b.Final() {
				if x.Certificate && b.Attendance == Present {
					b.Pending = append(b.Pending, PendingCertificate)
				}
				if x.Credited(b) > 0 {
					b.Pending = append(b.Pending, PendingCPD)
				}
			}
			changed++
		}
		if changed == 0 {
			return ErrNoChange
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for uid := range want {
		if err := s.handOver(ctx, after, uid); err != nil {
			s.Log.Warn("live training hand-over left to the reconciler", "session", id, "err", err)
		}
	}
	return changed, nil
}

// mark is a validated register line.
type mark struct {
	Attendance string
	Minutes    int
}

// checkMarks validates the register's lines for people with a place,
// leaving out those whose mark is final or unchanged.
func checkMarks(ses *Session, marks map[string]MarkForm) (map[string]mark, error) {
	fe := errs.FieldErrors{}
	want := map[string]mark{}
	length := int(ses.End.Sub(ses.Start).Minutes())
	for uid, f := range marks {
		b := ses.Bookings[uid]
		if b == nil || b.Status != Booked {
			continue
		}
		m := mark{Attendance: f.Attendance}
		switch f.Attendance {
		case "", Present, Absent:
		case LeftEarly:
			n, err := strconv.Atoi(strings.TrimSpace(f.Minutes))
			if err != nil || n < 1 || n >= length {
				fe[MinutesField(uid)] = fmt.Sprintf("Enter the minutes %s attended, from 1 to %d", b.Name, length-1)
				continue
			}
			m.Minutes = n
		default:
			fe[AttendanceField(uid)] = "Choose present, left early or absent"
			continue
		}
		if b.Final() {
			if m != (mark{b.Attendance, b.Minutes}) {
				fe[AttendanceField(uid)] = b.Name + "'s attendance is already recorded, with what it earned. To correct it, an administrator revokes the certificate or the CPD entry."
			}
			continue
		}
		if m != (mark{b.Attendance, b.Minutes}) {
			want[uid] = m
		}
	}
	if len(fe) > 0 {
		return nil, fe.Err()
	}
	return want, nil
}

// attended describes what a booking's mark hands over.
func (s *Service) attended(ses *Session, b *Booking) Attended {
	learnt := "Attended the whole live session."
	if b.Attendance == LeftEarly {
		learnt = fmt.Sprintf("Attended %d minutes of the live session.", b.Minutes)
	}
	return Attended{Key: "live/" + ses.ID + "/" + b.UserID, SessionID: ses.ID, UserID: b.UserID, Course: ses.Course, Title: ses.Title,
		At: ses.End, Hours: ses.Credited(b), ValidMonths: ses.ValidMonths, Learnt: learnt + " " + When(ses) + ", " + modeWords(ses) + "."}
}

func modeWords(ses *Session) string {
	if ses.Mode == Online {
		return "online"
	}
	return "in person at " + ses.Venue
}

// handOver gives what one person's mark still needs, as its Pending says:
// the certificate (its code kept on the booking), then the CPD entry; each
// step is idempotent, so it may run any number of times, on any instance.
func (s *Service) handOver(ctx context.Context, ses *Session, userID string) error {
	b := ses.Bookings[userID]
	if b == nil || len(b.Pending) == 0 {
		return s.Store.DoneLiveHandOver(ctx, ses.ID, userID)
	}
	a := s.attended(ses, b)
	if slices.Contains(b.Pending, PendingCertificate) {
		if s.Certs == nil {
			return fmt.Errorf("live: no certificate service")
		}
		code, err := s.Certs.IssueAttendance(ctx, a)
		if err != nil {
			return fmt.Errorf("live: certificate: %w", err)
		}
		if ses, err = s.done(ctx, ses.ID, userID, PendingCertificate, code); err != nil {
			return err
		}
	}
	if slices.Contains(b.Pending, PendingCPD) {
		if s.CPD != nil {
			if err := s.CPD.RecordAttendance(ctx, a); err != nil {
				return fmt.Errorf("live: CPD: %w", err)
			}
		}
		if _, err := s.done(ctx, ses.ID, userID, PendingCPD, ""); err != nil {
			return err
		}
	}
	return s.Store.DoneLiveHandOver(ctx, ses.ID, userID)
}

// done clears a hand-over step from a booking (and keeps a certificate's
// code on it).
func (s *Service) done(ctx context.Context, id, userID, step, code string) (*Session, error) {
	return s.Store.UpdateLiveSession(ctx, id, func(x *Session) error {
		b := x.Bookings[userID]
		if b == nil || !slices.Contains(b.Pending, step) {
			return ErrNoChange
		}
		b.Pending = slices.DeleteFunc(b.Pending, func(p string) bool { return p == step })
		if code != "" {
			b.Certificate = code
		}
		return nil
	})
}

// Reconcile finishes the hand-overs a crash or an outage interrupted, from
// their queue (empty when there is nothing to do), leaving marks younger
// than HandOverGrace to their requests. It returns how many it finished.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	items, err := s.Store.LiveHandOvers(ctx, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, it := range items {
		if s.Now().Sub(it.Queued) < HandOverGrace {
			continue
		}
		ses, err := s.Store.LiveSession(ctx, it.Session)
		if errs.Is(err, errs.ENOTFOUND) {
			err = s.Store.DoneLiveHandOver(ctx, it.Session, it.User)
			if err != nil {
				return n, err
			}
			continue
		}
		if err != nil {
			return n, err
		}
		if err := s.handOver(ctx, ses, it.User); err != nil {
			return n, fmt.Errorf("live: %s/%s: %w", it.Session, it.User, err)
		}
		n++
	}
	return n, nil
}

// NoShows returns how many sessions a person was booked on and missed.
func (s *Service) NoShows(ctx context.Context, userID string) (int, error) {
	return s.Store.LiveNoShows(ctx, userID)
}

// CertificateCodes returns the codes of the certificates a person's
// attendance earned, from their list of sessions.
func (s *Service) CertificateCodes(ctx context.Context, userID string) ([]string, error) {
	list, err := s.Store.PersonLiveSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ses := range list {
		if b := ses.Bookings[userID]; b != nil && b.Certificate != "" {
			out = append(out, b.Certificate)
		}
	}
	return out, nil
}
