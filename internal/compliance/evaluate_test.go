package compliance

import (
	"github.com/family-advocacy/lms/internal/errs"
	"os"
	"strings"
	"testing"
	"time"
)

func testPolicy(t *testing.T) *Policy {
	t.Helper()
	b, err := os.ReadFile("../../content/compliance/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(b, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// d returns midday London time on a date: a time inside that day.
func d(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02", s, London)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

func dp(s string) *time.Time { t := d(s); return &t }

func title(s string) string { return s }

func TestPolicyValidation(t *testing.T) {
	p := testPolicy(t)
	if p.DBS.RecheckMonths != 36 || p.References.Required != 2 || p.Supervision.EveryWeeks != 6 || p.CPD[OtherAdvocate].Hours != 15 || p.DueSoonDays != 60 {
		t.Fatalf("defaults not as published: %+v", p)
	}
	for name, bad := range map[string]string{
		"UnknownField":  "due_soon_days: 60\nsurprise: 1\n",
		"BadLevel":      strings.Replace(mustRead(t), "level: enhanced", "level: super", 1),
		"MissingCourse": strings.Replace(mustRead(t), "course: child-protection-process", "course: no-such-course", 1),
		"NoRule":        strings.Replace(mustRead(t), "  solicitor:", "  barrister:", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePolicy([]byte(bad), func(s string) bool { return s != "no-such-course" }); err == nil {
				t.Fatal("accepted a broken policy")
			}
		})
	}
}

func mustRead(t *testing.T) string {
	b, err := os.ReadFile("../../content/compliance/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestYearPeriodBoundaries(t *testing.T) {
	tests := []struct {
		at, starts, wantStart, wantEnd string
	}{
		{"2026-11-30", "12-01", "2025-12-01", "2026-12-01"},
		{"2026-12-01", "12-01", "2026-12-01", "2027-12-01"},
		{"2026-10-31", "11-01", "2025-11-01", "2026-11-01"},
		{"2026-11-01", "11-01", "2026-11-01", "2027-11-01"},
	}
	for _, tt := range tests {
		p := YearPeriod(d(tt.at), tt.starts)
		if !p.Start.Equal(d(tt.wantStart).Add(-12*time.Hour)) || !p.End.Equal(d(tt.wantEnd).Add(-12*time.Hour)) {
			t.Errorf("YearPeriod(%s, %s) = %s – %s, want %s – %s", tt.at, tt.starts, p.Start, p.End, tt.wantStart, tt.wantEnd)
		}
	}
}

func entry(date, typ string, hours float64) CPDEntry {
	return CPDEntry{Date: d(date), Type: typ, Hours: hours, Title: typ}
}

func TestCPDRulesAtTheirBoundaries(t *testing.T) {
	p := testPolicy(t)
	swe := p.CPD[SocialWorker]
	sra := p.CPD[Solicitor]
	other := p.CPD[OtherAdvocate]
	tests := []struct {
		name    string
		rule    CPDRule
		entries []CPDEntry
		at      string
		want    bool
	}{
		// Social Work England: 2 pieces, one with a peer, 1 Dec – 30 Nov.
		{"SWEBothOn30Nov", swe, []CPDEntry{entry("2025-12-01", "reading", 1), entry("2026-11-30", "peer-reflection", 1)}, "2026-11-30", true},
		{"SWEPieceOn30NovNotInNextYear", swe, []CPDEntry{entry("2025-12-01", "reading", 1), entry("2026-11-30", "peer-reflection", 1)}, "2026-12-01", false},
		{"SWEPieceOn1DecCountsForNewYear", swe, []CPDEntry{entry("2026-12-01", "reading", 1), entry("2026-12-02", "peer-reflection", 1)}, "2026-12-02", true},
		{"SWEPieceOn1DecNotForOldYear", swe, []CPDEntry{entry("2026-12-01", "reading", 1), entry("2026-11-02", "peer-reflection", 1)}, "2026-11-30", false},
		{"SWENoPeer", swe, []CPDEntry{entry("2026-01-10", "reading", 1), entry("2026-02-10", "course", 3)}, "2026-06-01", false},
		// SRA: annual declaration, 1 Nov – 31 Oct.
		{"SRADeclaredOn31Oct", sra, []CPDEntry{entry("2026-10-31", "declaration", 0)}, "2026-10-31", true},
		{"SRADeclarationDoesNotCarryTo1Nov", sra, []CPDEntry{entry("2026-10-31", "declaration", 0)}, "2026-11-01", false},
		{"SRADeclaredOn1Nov", sra, []CPDEntry{entry("2026-11-01", "declaration", 0)}, "2027-10-31", true},
		// Other advocates: 15 hours and a reflective entry in the last 12 months.
		{"RollingExactly12Months", other, []CPDEntry{entry("2025-11-23", "course", 14), entry("2026-11-22", "peer-reflection", 1)}, "2026-11-22", true},
		{"RollingOneDayTooOld", other, []CPDEntry{entry("2025-11-22", "course", 14), entry("2026-11-22", "peer-reflection", 1)}, "2026-11-22", false},
		{"RollingHoursButNoReflection", other, []CPDEntry{entry("2026-01-01", "course", 20)}, "2026-11-22", false},
		{"RollingShortOfHours", other, []CPDEntry{entry("2026-01-01", "course", 13.5), entry("2026-02-01", "peer-reflection", 1)}, "2026-11-22", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Progress(tt.rule, tt.entries, d(tt.at)); got.Satisfied != tt.want {
				t.Fatalf("satisfied: got %v (%s, %s), want %v", got.Satisfied, got.Summary, got.Period.Label(), tt.want)
			}
		})
	}
}

func clearDBS(issue string) DBSCheck {
	return DBSCheck{Level: "enhanced", BarredLists: []string{"children"}, Workforce: "child", IssueDate: d(issue), Decision: "clear"}
}

func TestDBSRecheckPolicy(t *testing.T) {
	p := testPolicy(t)
	tests := []struct {
		name   string
		check  DBSCheck
		at     string
		want   State
		reason string
	}{
		{"Fresh", clearDBS("2026-01-10"), "2026-11-22", Met, "recheck due by 10 January 2029"},
		{"DueSoon60DaysAhead", clearDBS("2023-12-20"), "2026-11-22", DueSoon, "20 December 2026"},
		{"DueOnTheDayIsNotOverdue", clearDBS("2023-11-22"), "2026-11-22", DueSoon, ""},
		{"OverdueTheDayAfter", clearDBS("2023-11-21"), "2026-11-22", Overdue, "was due by 21 November 2026"},
		{"UpdateServiceRecentCheckKeepsOldCertificateValid", func() DBSCheck {
			c := clearDBS("2020-05-01")
			c.UpdateService = true
			c.StatusChecks = []StatusCheck{{Date: d("2026-06-01"), Result: "no-new-information"}}
			return c
		}(), "2026-11-22", Met, "next status check due by 1 June 2027"},
		{"UpdateServiceCheckLapsed", func() DBSCheck {
			c := clearDBS("2020-05-01")
			c.UpdateService = true
			c.StatusChecks = []StatusCheck{{Date: d("2025-06-01"), Result: "no-new-information"}}
			return c
		}(), "2026-11-22", Overdue, ""},
		{"UpdateServiceNewInformation", func() DBSCheck {
			c := clearDBS("2025-05-01")
			c.UpdateService = true
			c.StatusChecks = []StatusCheck{{Date: d("2026-10-01"), Result: "new-information"}}
			return c
		}(), "2026-11-22", Overdue, "new information"},
		{"StandardLevelIsNotEnough", func() DBSCheck { c := clearDBS("2026-01-10"); c.Level = "standard"; return c }(), "2026-11-22", Missing, "does not meet the required enhanced"},
		{"NoBarredList", func() DBSCheck { c := clearDBS("2026-01-10"); c.BarredLists = nil; return c }(), "2026-11-22", Missing, "children's barred list"},
		{"NoBarredListForAnEligibleRole", func() DBSCheck {
			c := clearDBS("2026-01-10")
			c.BarredLists, c.RoleEligible = nil, "eligible"
			return c
		}(), "2026-11-22", Missing, "children's barred list"},
		// A barred list may be checked only for an eligible role: a role
		// assessed as not eligible meets the policy without one.
		{"NoBarredListForARoleNotEligible", func() DBSCheck {
			c := clearDBS("2026-01-10")
			c.BarredLists, c.RoleEligible = nil, "not-eligible"
			return c
		}(), "2026-11-22", Met, "recheck due by 10 January 2029"},
		{"AdultWorkforce", func() DBSCheck { c := clearDBS("2026-01-10"); c.Workforce = "adult"; return c }(), "2026-11-22", Missing, "workforce"},
		{"ChildAndAdultCoversChild", func() DBSCheck { c := clearDBS("2026-01-10"); c.Workforce = "child-and-adult"; return c }(), "2026-11-22", Met, ""},
		{"AwaitingDecision", func() DBSCheck { c := clearDBS("2026-01-10"); c.Decision = ""; return c }(), "2026-11-22", Missing, "awaits a decision"},
		{"NotSuitable", func() DBSCheck { c := clearDBS("2026-01-10"); c.Decision = "not-suitable"; return c }(), "2026-11-22", Missing, "not suitable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalDBS(p, &Advocate{DBS: []DBSCheck{tt.check}}, d(tt.at))
			if got.State != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("got %s %q, want %s containing %q", got.State, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestEachRequirementAndClearance(t *testing.T) {
	p := testPolicy(t)
	now := d("2026-11-22")
	contract := dp("2026-03-01")
	good := func() *Advocate {
		return &Advocate{
			Profession: OtherAdvocate, ContractStart: contract, Created: d("2026-02-01"),
			DBS: []DBSCheck{clearDBS("2026-02-01")},
			References: []Reference{
				{Outcome: "satisfactory", VerifiedBy: "m", ReceivedAt: dp("2026-02-10")},
				{Outcome: "satisfactory", VerifiedBy: "m", ReceivedAt: dp("2026-02-20")},
			},
			MandatoryCourses: []string{"child-protection-process"},
			Training:         map[string]time.Time{"child-protection-process": d("2026-04-01"), "advocacy-standards-in-practice": d("2026-04-02")},
			CPD:              []CPDEntry{entry("2026-05-01", "course", 16), entry("2026-06-01", "peer-reflection", 1)},
			Supervisions:     []Supervision{{Date: d("2026-11-01")}},
		}
	}
	tests := []struct {
		name    string
		edit    func(a *Advocate)
		req     string
		want    State
		cleared bool
	}{
		{"AllMet", func(a *Advocate) {}, ReqDBS, Met, true},
		{"OneReference", func(a *Advocate) { a.References = a.References[:1] }, ReqReferences, Missing, false},
		{"UnverifiedReference", func(a *Advocate) { a.References[1].VerifiedBy = "" }, ReqReferences, Missing, false},
		{"ReferenceAfterContractStart", func(a *Advocate) { a.References[1].ReceivedAt = dp("2026-03-02") }, ReqReferences, Missing, false},
		{"UnsatisfactoryReference", func(a *Advocate) { a.References[1].Outcome = "unsatisfactory" }, ReqReferences, Missing, false},
		{"TrainingMissing", func(a *Advocate) { a.Training = nil }, ReqTraining, Missing, false},
		{"TrainingExpired", func(a *Advocate) { a.Training["child-protection-process"] = d("2024-11-01") }, ReqTraining, Overdue, false},
		{"TrainingDueSoonStillCleared", func(a *Advocate) { a.Training["child-protection-process"] = d("2024-12-15") }, ReqTraining, DueSoon, true},
		{"NoDBS", func(a *Advocate) { a.DBS = nil }, ReqDBS, Missing, false},
		{"SupervisionOverdueDoesNotBlockClearance", func(a *Advocate) { a.Supervisions[0].Date = d("2026-09-01") }, ReqSupervision, Overdue, true},
		{"SupervisionDueSoon", func(a *Advocate) { a.Supervisions[0].Date = d("2026-10-15") }, ReqSupervision, DueSoon, true},
		{"NoSupervisionEver", func(a *Advocate) { a.Supervisions = nil }, ReqSupervision, Missing, true},
		{"CPDShort", func(a *Advocate) {
			a.CPD = a.CPD[1:]
			a.ContractStart = dp("2025-06-01")
			a.References[0].ReceivedAt, a.References[1].ReceivedAt = dp("2025-05-01"), dp("2025-05-02")
		}, ReqCPD, Overdue, true},
		{"CPDNewAdvocateOnTrack", func(a *Advocate) { a.CPD = nil; a.ContractStart = dp("2026-10-01") }, ReqCPD, Met, false},
		{"RegistrationLapsed", func(a *Advocate) { a.Profession = SocialWorker; a.RegistrationDue = dp("2026-11-01") }, ReqRegistration, Overdue, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := good()
			tt.edit(a)
			s := Evaluate(p, a, title, now)
			if got := s.Requirement(tt.req); got.State != tt.want {
				t.Fatalf("%s: got %s (%s), want %s", tt.req, got.State, got.Reason, tt.want)
			}
			if tt.name == "CPDNewAdvocateOnTrack" {
				return // references were received before the old contract start, so clearance is not the point here
			}
			if s.Cleared != tt.cleared {
				t.Fatalf("cleared: got %v, want %v (%+v)", s.Cleared, tt.cleared, s.Requirements)
			}
		})
	}
	t.Run("ThePolicysCoursesApplyEvenIfNotChosen", func(t *testing.T) {
		a := good()
		a.MandatoryCourses = nil // the manager chose nothing extra
		delete(a.Training, "advocacy-standards-in-practice")
		got := Evaluate(p, a, title, now).Requirement(ReqTraining)
		if got.State != Missing || got.Reason != "Not completed: "+title("advocacy-standards-in-practice") {
			t.Fatalf("got %s %q, want the policy's course missing", got.State, got.Reason)
		}
	})
	t.Run("EveryMissingCourseIsNamed", func(t *testing.T) {
		a := good()
		a.MandatoryCourses = append(a.MandatoryCourses, "advocacy-standards", "child-welfare-law")
		got := Evaluate(p, a, title, now).Requirement(ReqTraining)
		if want := "Not completed: " + title("advocacy-standards") + "; " + title("child-welfare-law"); got.State != Missing || got.Reason != want {
			t.Fatalf("got %s %q, want missing %q", got.State, got.Reason, want)
		}
	})
	t.Run("SWEPreviousYearUnmetIsOverdue", func(t *testing.T) {
		a := good()
		a.Profession, a.ContractStart, a.RegistrationDue = SocialWorker, dp("2024-01-01"), dp("2027-06-01")
		a.CPD = []CPDEntry{entry("2025-01-10", "reading", 1)} // only one piece in 2024-25
		if got := Evaluate(p, a, title, d("2025-12-05")).Requirement(ReqCPD); got.State != Overdue {
			t.Fatalf("got %s %q, want overdue for the year that ended", got.State, got.Reason)
		}
		if got := Evaluate(p, a, title, d("2025-11-05")).Requirement(ReqCPD); got.State != DueSoon {
			t.Fatalf("got %s %q, want due soon near the end of the year", got.State, got.Reason)
		}
	})
}

func TestLabelReadsAsWords(t *testing.T) {
	for in, want := range map[string]string{
		"other-advocate":              "Other advocate",
		"social-worker":               "Social worker",
		"enhanced":                    "Enhanced",
		"clear-after-risk-assessment": "Clear after risk assessment",
		"":                            "",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRollingCPDOverdueHasAStableDate: under the rolling rule, once hours
// drop out of the window the requirement is overdue from the day after the
// window was last met, whatever day it is looked at, so the reminder about
// it goes once.
func TestRollingCPDOverdueHasAStableDate(t *testing.T) {
	p := testPolicy(t)
	a := &Advocate{Profession: OtherAdvocate, ContractStart: dp("2024-01-01"),
		CPD: []CPDEntry{entry("2025-03-10", "course", 15), entry("2025-03-10", "peer-reflection", 1)}}
	// The entries leave the 12-month window after 9 March 2026 (the last
	// window holding them ends then).
	for _, on := range []string{"2026-04-01", "2026-06-15", "2026-11-22"} {
		got := Evaluate(p, a, title, d(on)).Requirement(ReqCPD)
		if got.State != Overdue || got.Due == nil || got.Due.In(London).Format(time.DateOnly) != "2026-03-10" {
			t.Fatalf("on %s: %s, due %v; want overdue since 2026-03-10", on, got.State, got.Due)
		}
	}
	// Never met since the first window ended (contract 1 Jan 2024 + 12 months).
	a.CPD = nil
	a.ContractStart = dp("2025-06-01")
	if got := Evaluate(p, a, title, d("2026-08-01")).Requirement(ReqCPD); got.State != Overdue || got.Due == nil || got.Due.In(London).Format(time.DateOnly) != "2026-06-01" {
		t.Fatalf("never met: %s, due %v; want overdue since 2026-06-01", got.State, got.Due)
	}
}

func TestABarredListIsRefusedForARoleNotEligible(t *testing.T) {
	now := d("2026-11-22")
	f := DBSForm{Level: "enhanced", Workforce: "child", CertificateNumber: "001234567890", IssueDate: "2026-11-01", OriginalSeenBy: "M",
		OriginalSeenAt: "2026-11-02", Decision: "clear", BarredChildren: true, RoleEligible: "not-eligible"}
	if _, err := f.Check(now); err == nil || !strings.Contains(errs.Fields(err)["barred"], "only for a role eligible") {
		t.Fatalf("barred list for a role not eligible: %v", err)
	}
	f.RoleEligible = ""
	if _, err := f.Check(now); err == nil || errs.Fields(err)["role_eligible"] == "" {
		t.Fatalf("no eligibility recorded: %v", err)
	}
	f.RoleEligible = "eligible"
	if c, err := f.Check(now); err != nil || c.RoleEligible != "eligible" {
		t.Fatalf("eligible role with the children's list: %+v, %v", c, err)
	}
}

// TestRollingCPDMetIsDueWhenItsHoursLeaveTheWindow: a rolling rule met
// today is due on the last day it stays met if nothing more is recorded —
// the day before the entry that keeps the hours up leaves the 12 months —
// not today (a window ending today is always "today").
func TestRollingCPDMetIsDueWhenItsHoursLeaveTheWindow(t *testing.T) {
	p := testPolicy(t)
	a := &Advocate{Profession: OtherAdvocate, ContractStart: dp("2024-01-01"), CPD: []CPDEntry{
		entry("2026-01-15", "course", 10), entry("2026-06-01", "course", 4), entry("2026-09-01", "peer-reflection", 1)}}
	// 15 hours with one reflection: met until the 10 hours of 15 January
	// leave the window on 15 January 2027.
	got := Evaluate(p, a, title, d("2026-09-10")).Requirement(ReqCPD)
	if got.State != Met || got.Due == nil || got.Due.In(London).Format(time.DateOnly) != "2027-01-14" {
		t.Fatalf("in September: %s, due %v; want met, due 14 January 2027", got.State, got.Due)
	}
	// Within the due-soon window (60 days) it says so, and why.
	got = Evaluate(p, a, title, d("2026-12-01")).Requirement(ReqCPD)
	if got.State != DueSoon || got.Due.In(London).Format(time.DateOnly) != "2027-01-14" || !strings.Contains(got.Reason, "unless more is recorded") {
		t.Fatalf("in December: %s, due %v, %q; want due soon by 14 January 2027", got.State, got.Due, got.Reason)
	}
	// More hours recorded: met until a later entry leaves.
	a.CPD = append(a.CPD, entry("2026-11-20", "course", 10))
	if got := Evaluate(p, a, title, d("2026-12-01")).Requirement(ReqCPD); got.State != Met || got.Due.In(London).Format(time.DateOnly) != "2027-05-31" {
		t.Fatalf("with 10 more hours: %s, due %v; want met until 31 May 2027 (the 4 hours of 1 June leave then)", got.State, got.Due)
	}
}
