package compliance

import (
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// TestFormNumbersAndDatesAreChecked: each number and date field takes only
// a finite number in its range and a real day in its window, and says so
// beside the field.
func TestFormNumbersAndDatesAreChecked(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	cpd := func(typ, hours, date, peerDate string) error {
		_, err := CPDForm{Date: date, Title: "Reading", Type: typ, Hours: hours, Learnt: "x", Impact: "y", PeerName: "Pat", PeerDate: peerDate}.Check(now)
		return err
	}
	type formCase struct {
		name, field, want string // want: part of the message; "" = accepted
		err               error
	}
	tests := []formCase{
		{"HoursOK", "hours", "", cpd("reading", "1.5", "2026-10-01", "2026-10-02")},
		{"HoursQuarter", "hours", "", cpd("reading", " 0.25 ", "2026-10-01", "")},
		{"HoursMax", "hours", "", cpd("reading", "100", "2026-10-01", "")},
		{"DeclarationZero", "hours", "", cpd("declaration", "0", "2026-10-01", "")},
		{"HoursNaN", "hours", "Hours must be a number", cpd("reading", "NaN", "2026-10-01", "")},
		{"HoursInf", "hours", "Hours must be a number", cpd("reading", "+Inf", "2026-10-01", "")},
		{"HoursHugeExponent", "hours", "Hours must be a number", cpd("reading", "1e400", "2026-10-01", "")},
		{"HoursNegativeOverflow", "hours", "Hours must be a number", cpd("reading", "-1e309", "2026-10-01", "")},
		{"HoursZeroForReading", "hours", "more than 0", cpd("reading", "0", "2026-10-01", "")},
		{"HoursNegative", "hours", "more than 0", cpd("reading", "-2", "2026-10-01", "")},
		{"HoursOverMax", "hours", "at most 100", cpd("reading", "100.5", "2026-10-01", "")},
		{"HoursDeclarationOverMax", "hours", "at most 100", cpd("declaration", "1000", "2026-10-01", "")},
		{"HoursTooPrecise", "hours", "2 decimal places", cpd("reading", "1.255", "2026-10-01", "")},
		{"HoursWithSpaceInside", "hours", "Hours must be a number", cpd("reading", "1 5", "2026-10-01", "")},
		{"HoursEmpty", "hours", "Enter the hours", cpd("reading", "", "2026-10-01", "")},
		{"DateNotReal", "date", "must be a real date", cpd("reading", "1", "2026-02-30", "")},
		{"DateFiveDigitYear", "date", "must be a real date", cpd("reading", "1", "99999-01-01", "")},
		{"DateFuture", "date", "cannot be in the future", cpd("reading", "1", "2026-11-23", "")},
		{"DateAncient", "date", "too far in the past", cpd("reading", "1", "1899-12-31", "")},
		{"PeerDateNaN", "peer_date", "must be a real date", cpd("reading", "1", "2026-10-01", "NaN")},
	}
	profile := func(due, start string) error {
		_, err := ProfileForm{Profession: "other-advocate", Status: "active", RegistrationDue: due, ContractStart: start}.Check(now, nil, false)
		return err
	}
	tests = append(tests, []formCase{
		{"RenewalAhead", "registration_due", "", profile("2028-03-01", "2026-03-01")},
		{"RenewalFarAhead", "registration_due", "within the next 10 years", profile("9999-12-31", "")},
		{"ContractAncient", "contract_start", "too far in the past", profile("", "0001-01-01")},
		{"ContractMalformed", "contract_start", "must be a real date", profile("", "2026-1-1")},
	}...)
	_, err := StatusCheckForm{Date: "-Inf", Result: CheckResults[0]}.Check(now)
	tests = append(tests, formCase{"StatusCheckInf", "check_date", "must be a real date", err})
	_, err = SupervisionForm{Date: "0000-01-01", Supervisor: "Sam", Kind: "group"}.Check(now)
	tests = append(tests, formCase{"SupervisionYearZero", "sup_date", "too far in the past", err})
	_, _, err = OutcomeForm{ReceivedAt: "2026-02-29", Outcome: Outcomes[0]}.Check(now)
	tests = append(tests, formCase{"OutcomeNoLeapDay", "received_at", "must be a real date", err})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errs.Fields(tt.err)[tt.field]
			switch {
			case tt.want == "" && got != "":
				t.Fatalf("%s: got %q, want it accepted", tt.field, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Fatalf("%s: got %q, want a message with %q", tt.field, got, tt.want)
			}
		})
	}
}
