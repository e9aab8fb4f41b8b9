package live

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/family-advocacy/lms/internal/civil"
)

// Counts are one session's figures: its places, its bookings by status,
// the register's marks and the CPD hours they earned.
type Counts struct {
	Capacity, Booked, Offered, Waiting, Cancelled int
	// The register: Unmarked counts the booked people with no mark yet.
	Present, LeftEarly, Absent, Unmarked int
	CPDHours                             float64
}

// Counts adds up the session's bookings.
func (s *Session) Counts() Counts {
	c := Counts{Capacity: s.Capacity}
	for _, b := range s.Bookings {
		switch b.Status {
		case Booked:
			c.Booked++
			if b.Attendance == "" {
				c.Unmarked++
			}
		case Offered:
			c.Offered++
		case Waiting:
			c.Waiting++
		case Cancelled:
			c.Cancelled++
		}
		switch b.Attendance {
		case Present:
			c.Present++
		case LeftEarly:
			c.LeftEarly++
		case Absent:
			c.Absent++
		}
		c.CPDHours += s.Credited(b)
	}
	return c
}

// PeriodRow is one session of a period with its figures.
type PeriodRow struct {
	Session *Session
	Counts  Counts
}

// Period is live training over a run of months: the sessions held (not
// cancelled) and their totals.
type Period struct {
	From, To                 string // YYYY-MM, inclusive
	Sessions, Places, Booked int
	Attended, Absent         int     // Attended: present or left early
	FillRate                 float64 // percent of places booked; 0 with no places
	AttendanceRate           float64 // percent of marked bookings attended; 0 with none marked
	CPDHours                 float64
	Rows                     []PeriodRow // by start
}

// PeriodOf gathers the sessions that start (in London) in the months from
// to to, YYYY-MM inclusive ("" leaves that end open), leaving out
// cancelled sessions.
func PeriodOf(sessions []*Session, from, to string) Period {
	p := Period{From: from, To: to}
	for _, s := range sessions {
		month := s.Start.In(civil.London).Format("2006-01")
		if s.Cancelled != nil || (from != "" && month < from) || (to != "" && month > to) {
			continue
		}
		p.Rows = append(p.Rows, PeriodRow{Session: s, Counts: s.Counts()})
	}
	slices.SortFunc(p.Rows, func(a, b PeriodRow) int {
		if c := a.Session.Start.Compare(b.Session.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Session.ID, b.Session.ID)
	})
	for _, r := range p.Rows {
		p.Sessions++
		p.Places += r.Counts.Capacity
		p.Booked += r.Counts.Booked
		p.Attended += r.Counts.Present + r.Counts.LeftEarly
		p.Absent += r.Counts.Absent
		p.CPDHours += r.Counts.CPDHours
	}
	p.FillRate = percent(p.Booked, p.Places)
	p.AttendanceRate = percent(p.Attended, p.Attended+p.Absent)
	return p
}

// percent is n of d as a percentage, 0 when d is 0.
func percent(n, d int) float64 {
	if d <= 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

// StatusLabel is a booking status in words.
func StatusLabel(status string) string {
	switch status {
	case Booked:
		return "Booked"
	case Waiting:
		return "On the waiting list"
	case Offered:
		return "Offered a place"
	case Cancelled:
		return "Cancelled"
	}
	return status
}

// AttendanceLabel is an attendance mark in words ("" is not marked yet).
func AttendanceLabel(mark string) string {
	switch mark {
	case Present:
		return "Present"
	case LeftEarly:
		return "Left early"
	case Absent:
		return "Absent"
	case "":
		return "Not marked"
	}
	return mark
}

// modeLabel is a session's mode in words.
func modeLabel(mode string) string {
	switch mode {
	case InPerson:
		return "In person"
	case Online:
		return "Online"
	}
	return mode
}

// statusOrder is the order bookings are listed in.
var statusOrder = map[string]int{Booked: 0, Offered: 1, Waiting: 2, Cancelled: 3}

// WriteSessionCSV writes a session's bookings, every status, as CSV for a
// spreadsheet: the booked first, then offered, waiting and cancelled, each
// by name.
func WriteSessionCSV(w io.Writer, s *Session) error {
	bs := make([]*Booking, 0, len(s.Bookings))
	for _, b := range s.Bookings {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(a, b *Booking) int {
		oa, ok := statusOrder[a.Status]
		if !ok {
			oa = len(statusOrder)
		}
		ob, ok := statusOrder[b.Status]
		if !ok {
			ob = len(statusOrder)
		}
		return cmp.Or(cmp.Compare(oa, ob), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UserID, b.UserID))
	})
	cw := csv.NewWriter(w)
	cw.Write([]string{"Name", "Email", "Status", "Attendance", "Minutes attended", "CPD hours", "Certificate"})
	for _, b := range bs {
		// Only a place has a register line: the others were never marked.
		attendance, minutes, hours := "", "", ""
		if b.Status == Booked || b.Attendance != "" {
			attendance, hours = AttendanceLabel(b.Attendance), hoursText(s.Credited(b))
		}
		if b.Attendance == LeftEarly {
			minutes = strconv.Itoa(b.Minutes)
		}
		cw.Write([]string{safe(b.Name), safe(b.Email), StatusLabel(b.Status), attendance, minutes, hours, safe(b.Certificate)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("live: session %s csv: %w", s.ID, err)
	}
	return nil
}

// WritePeriodCSV writes a period's sessions as CSV for a spreadsheet, one
// row each with its London date and times, then a row of totals.
func WritePeriodCSV(w io.Writer, p Period) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Date", "Start", "End", "Title", "Mode", "Places", "Booked", "Waiting", "Cancelled", "Attended", "Absent", "CPD hours"})
	var waiting, cancelled int
	for _, r := range p.Rows {
		s, c := r.Session, r.Counts
		st, en := s.Start.In(civil.London), s.End.In(civil.London)
		waiting += c.Waiting
		cancelled += c.Cancelled
		cw.Write([]string{st.Format("2006-01-02"), st.Format("15:04"), en.Format("15:04"), safe(s.Title), safe(modeLabel(s.Mode)),
			strconv.Itoa(c.Capacity), strconv.Itoa(c.Booked), strconv.Itoa(c.Waiting), strconv.Itoa(c.Cancelled),
			strconv.Itoa(c.Present + c.LeftEarly), strconv.Itoa(c.Absent), hoursText(c.CPDHours)})
	}
	cw.Write([]string{"Total", "", "", fmt.Sprintf("%d sessions", p.Sessions), "",
		strconv.Itoa(p.Places), strconv.Itoa(p.Booked), strconv.Itoa(waiting), strconv.Itoa(cancelled),
		strconv.Itoa(p.Attended), strconv.Itoa(p.Absent), hoursText(p.CPDHours)})
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("live: period %s to %s csv: %w", p.From, p.To, err)
	}
	return nil
}

// hoursText writes CPD hours to the hundredth, without trailing zeros:
// 6, 1.5, 1.75.
func hoursText(h float64) string { return strconv.FormatFloat(math.Round(h*100)/100, 'f', -1, 64) }

// safe stops a spreadsheet reading a cell as a formula: text starting
// with =, +, -, @, a tab or a carriage return gets a leading apostrophe.
func safe(cell string) string {
	if cell != "" && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@' || cell[0] == '\t' || cell[0] == '\r') {
		return "'" + cell
	}
	return cell
}
