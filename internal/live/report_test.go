package live

import (
	"bytes"
	"encoding/csv"
	"math"
	"slices"
	"testing"
	"time"
)

// reportSession is a session for the report tests with its bookings.
func reportSession(id, title, mode string, start time.Time, hours float64, capacity int, cpd float64, bs ...*Booking) *Session {
	s := &Session{ID: id, Title: title, Mode: mode, Start: start, End: start.Add(time.Duration(hours * float64(time.Hour))),
		Capacity: capacity, CPDHours: cpd, Bookings: map[string]*Booking{}}
	for _, b := range bs {
		s.Bookings[b.UserID] = b
	}
	return s
}

func reportBooking(id, name, status, attendance string) *Booking {
	return &Booking{UserID: id, Name: name, Email: id + "@example.org", Status: status, Attendance: attendance}
}

// dayCourse is in January (GMT): 09:30 to 15:30, 6 CPD hours, with every
// status and every attendance mark.
func dayCourse() *Session {
	left := reportBooking("u2", "Bob Brown", Booked, LeftEarly)
	left.Minutes = 100 // 100 of 360 minutes: 1.67 hours, down to 1.5
	ann := reportBooking("u1", "Ann Avery", Booked, Present)
	ann.Certificate = "LMS-7Q2K"
	return reportSession("a", "Care proceedings: a day for advocates", InPerson, time.Date(2027, 1, 14, 9, 30, 0, 0, time.UTC), 6, 10, 6,
		ann, left,
		reportBooking("u3", "Cat Cole", Booked, Absent),
		reportBooking("u4", `=HYPERLINK("x")`, Booked, ""),
		reportBooking("u5", "Eve Ellis", Waiting, ""),
		reportBooking("u6", "Fay Ford", Cancelled, ""),
		reportBooking("u7", "Gus Gray", Offered, ""))
}

// periodSessions: two held in January to March, one cancelled in February,
// one just outside each end (23:30 UTC on 31 March is 00:30 on 1 April in
// London; 31 December stays in December).
func periodSessions() []*Session {
	evening := reportSession("c", "@Home visits: a refresher", Online, time.Date(2027, 2, 10, 18, 0, 0, 0, time.UTC), 2, 20, 2,
		reportBooking("v1", "Dev Das", Booked, Present), reportBooking("v2", "Ela Eze", Booked, Present),
		reportBooking("v3", "Fin Fox", Booked, Present), reportBooking("v4", "Gil Gee", Booked, Absent))
	when := time.Date(2027, 2, 3, 12, 0, 0, 0, time.UTC)
	called := reportSession("d", "Called off", InPerson, time.Date(2027, 2, 20, 10, 0, 0, 0, time.UTC), 3, 12, 3,
		reportBooking("w1", "Hal Hay", Booked, Present))
	called.Cancelled = &when
	april := reportSession("b", "Midnight start", InPerson, time.Date(2027, 3, 31, 23, 30, 0, 0, time.UTC), 1, 8, 1,
		reportBooking("x1", "Ida Ivy", Booked, Present))
	december := reportSession("e", "Year end", InPerson, time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), 1, 5, 1,
		reportBooking("y1", "Jo Jay", Booked, Present))
	// Out of order: PeriodOf sorts by start.
	return []*Session{april, evening, called, dayCourse(), december}
}

func TestCounts(t *testing.T) {
	got := dayCourse().Counts()
	want := Counts{Capacity: 10, Booked: 4, Offered: 1, Waiting: 1, Cancelled: 1, Present: 1, LeftEarly: 1, Absent: 1, Unmarked: 1, CPDHours: 7.5}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := (&Session{Capacity: 3}).Counts(); got != (Counts{Capacity: 3}) {
		t.Errorf("no bookings: got %+v, want only the capacity", got)
	}
}

func TestPeriodOf(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.005 }
	t.Run("FirstQuarterLeavesOutCancelledAndOtherMonths", func(t *testing.T) {
		p := PeriodOf(periodSessions(), "2027-01", "2027-03")
		var ids []string
		for _, r := range p.Rows {
			ids = append(ids, r.Session.ID)
		}
		if !slices.Equal(ids, []string{"a", "c"}) {
			t.Fatalf("rows: got %v, want [a c]", ids)
		}
		if p.From != "2027-01" || p.To != "2027-03" || p.Sessions != 2 || p.Places != 30 || p.Booked != 8 || p.Attended != 5 || p.Absent != 2 || p.CPDHours != 13.5 {
			t.Errorf("got %+v, want 2 sessions, 30 places, 8 booked, 5 attended, 2 absent, 13.5 hours", p)
		}
		if !near(p.FillRate, 100*8.0/30) || !near(p.AttendanceRate, 100*5.0/7) {
			t.Errorf("rates: got %.2f%% filled, %.2f%% attended, want 26.67%%, 71.43%%", p.FillRate, p.AttendanceRate)
		}
		if p.Rows[1].Counts != (Counts{Capacity: 20, Booked: 4, Present: 3, Absent: 1, CPDHours: 6}) {
			t.Errorf("evening counts: got %+v", p.Rows[1].Counts)
		}
	})
	t.Run("LondonMonthOfTheStart", func(t *testing.T) {
		p := PeriodOf(periodSessions(), "2027-04", "2027-04")
		if len(p.Rows) != 1 || p.Rows[0].Session.ID != "b" {
			t.Errorf("April: got %d rows, want the session at 00:30 BST on 1 April", len(p.Rows))
		}
		if p := PeriodOf(periodSessions(), "2026-12", "2026-12"); len(p.Rows) != 1 || p.Rows[0].Session.ID != "e" {
			t.Errorf("December: got %d rows, want the session at 23:30 GMT on 31 December", len(p.Rows))
		}
	})
	t.Run("NothingHeldHasZeroRates", func(t *testing.T) {
		p := PeriodOf(periodSessions(), "2030-01", "2030-12")
		if p.Sessions != 0 || p.FillRate != 0 || p.AttendanceRate != 0 || len(p.Rows) != 0 {
			t.Errorf("got %+v, want nothing", p)
		}
		unmarked := reportSession("u", "Not yet marked", InPerson, time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC), 1, 4, 1,
			reportBooking("z1", "Kit Kay", Booked, ""))
		if p := PeriodOf([]*Session{unmarked}, "2030-01", "2030-12"); p.FillRate != 25 || p.AttendanceRate != 0 {
			t.Errorf("none marked: got %.2f%% filled, %.2f%% attended, want 25%%, 0%%", p.FillRate, p.AttendanceRate)
		}
	})
}

// readReportCSV parses CSV back into cells.
func readReportCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV back: %v\n%s", err, b)
	}
	return rows
}

func TestSessionCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSessionCSV(&b, dayCourse()); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Name", "Email", "Status", "Attendance", "Minutes attended", "CPD hours", "Certificate"},
		{`'=HYPERLINK("x")`, "u4@example.org", "Booked", "Not marked", "", "0", ""},
		{"Ann Avery", "u1@example.org", "Booked", "Present", "", "6", "LMS-7Q2K"},
		{"Bob Brown", "u2@example.org", "Booked", "Left early", "100", "1.5", ""},
		{"Cat Cole", "u3@example.org", "Booked", "Absent", "", "0", ""},
		{"Gus Gray", "u7@example.org", "Offered a place", "", "", "", ""},
		{"Eve Ellis", "u5@example.org", "On the waiting list", "", "", "", ""},
		{"Fay Ford", "u6@example.org", "Cancelled", "", "", "", ""},
	}
	if got := readReportCSV(t, b.Bytes()); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestPeriodCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WritePeriodCSV(&b, PeriodOf(periodSessions(), "2027-01", "2027-04")); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Date", "Start", "End", "Title", "Mode", "Places", "Booked", "Waiting", "Cancelled", "Attended", "Absent", "CPD hours"},
		{"2027-01-14", "09:30", "15:30", "Care proceedings: a day for advocates", "In person", "10", "4", "1", "1", "2", "1", "7.5"},
		{"2027-02-10", "18:00", "20:00", "'@Home visits: a refresher", "Online", "20", "4", "0", "0", "3", "1", "6"},
		{"2027-04-01", "00:30", "01:30", "Midnight start", "In person", "8", "1", "0", "0", "1", "0", "1"}, // London time
		{"Total", "", "", "3 sessions", "", "38", "9", "1", "1", "6", "2", "14.5"},
	}
	if got := readReportCSV(t, b.Bytes()); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`=HYPERLINK("x")`, `'=HYPERLINK("x")`}, {"+44 7700 900123", "'+44 7700 900123"}, {"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"Ann = Avery", "Ann = Avery"}, {"O'Neill", "O'Neill"}, {"", ""},
	} {
		if got := safe(c.in); got != c.want {
			t.Errorf("safe(%q): got %q, want %q", c.in, got, c.want)
		}
	}
}
