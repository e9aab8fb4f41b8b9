package dbsupdate_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/dbsupdate"
	"github.com/family-advocacy/lms/internal/testenv"
)

// The holder used throughout; none of these may appear in an error.
const (
	number  = "001234567890"
	dob     = "01/02/1980"
	surname = "Featherstonehaugh"
)

// holder is a valid request for the subscribed certificate: the number with
// spaces, the surname in another case, and a date of birth late in the day
// in a far time zone (only its own date fields count).
var holder = dbsupdate.Request{
	CertificateNumber: "0012 3456 7890",
	DateOfBirth:       time.Date(1980, 2, 1, 23, 30, 0, 0, time.FixedZone("UTC+10", 10*3600)),
	Surname:           "featherstonehaugh",
}

// newClient returns a fast client for base; change adjusts its config.
func newClient(t *testing.T, base string, change func(*dbsupdate.Config)) *dbsupdate.Client {
	t.Helper()
	cfg := dbsupdate.Config{
		BaseURL:          base,
		OrganisationName: "Family Advocacy Ltd",
		CheckerForename:  "Ada",
		CheckerSurname:   "Lovelace",
		Timeout:          5 * time.Second,
		PerSecond:        1000,
		Backoff:          5 * time.Millisecond,
	}
	if change != nil {
		change(&cfg)
	}
	c, err := dbsupdate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustFail checks that err is a *Failure with the given Temporary and that
// it holds none of the holder's details, and returns it.
func mustFail(t *testing.T, err error, temporary bool) *dbsupdate.Failure {
	t.Helper()
	var f *dbsupdate.Failure
	if !errors.As(err, &f) {
		t.Fatalf("got error %v (%T), want a *Failure", err, err)
	}
	if f.Temporary != temporary {
		t.Errorf("%q: got Temporary %v, want %v", f.Reason, f.Temporary, temporary)
	}
	msg := strings.ToLower(err.Error())
	for _, secret := range []string{surname, dob, url.QueryEscape(dob), "1980", number, "0012 3456", "3456"} {
		if strings.Contains(msg, strings.ToLower(secret)) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	return f
}

func TestCheckStatuses(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	c := newClient(t, fake.URL, nil)
	for _, tc := range []struct {
		answer testenv.DBSAnswer
		want   dbsupdate.Status
		words  string
		clean  bool
	}{
		{testenv.DBSBlank, dbsupdate.BlankNoNewInfo, "No information on the certificate and no new information", true},
		{testenv.DBSNonBlank, dbsupdate.NonBlankNoNewInfo, "Information on the certificate, no new information since", true},
		{testenv.DBSNewInfo, dbsupdate.NewInfo, "New information: a new DBS check is needed", false},
		{testenv.DBSNoMatch, dbsupdate.NoMatch, "The details do not match a subscribed certificate", false},
	} {
		t.Run(string(tc.answer), func(t *testing.T) {
			fake.Subscribe(number, dob, surname, tc.answer)
			res, err := c.Check(context.Background(), holder)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || res.Status.Words() != tc.words || res.Status.Clean() != tc.clean {
				t.Errorf("got %s %q clean=%v, want %s %q clean=%v", res.Status, res.Status.Words(), res.Status.Clean(), tc.want, tc.words, tc.clean)
			}
			if tc.want != dbsupdate.NoMatch {
				if got := res.PrintDate.Format(time.DateOnly); got != testenv.DBSPrintDate {
					t.Errorf("got print date %s, want %s", got, testenv.DBSPrintDate)
				}
				if !strings.EqualFold(res.Surname, surname) {
					t.Errorf("got surname %q, want %q", res.Surname, surname)
				}
			}
		})
	}
	t.Run("OtherDetailsDoNotMatch", func(t *testing.T) {
		fake.Subscribe(number, dob, surname, testenv.DBSBlank)
		for _, r := range []dbsupdate.Request{
			{CertificateNumber: number, DateOfBirth: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), Surname: surname},
			{CertificateNumber: number, DateOfBirth: holder.DateOfBirth, Surname: "Smith"},
			{CertificateNumber: "999999999999", DateOfBirth: holder.DateOfBirth, Surname: surname},
		} {
			res, err := c.Check(context.Background(), r)
			if err != nil || res.Status != dbsupdate.NoMatch || !res.PrintDate.IsZero() {
				t.Errorf("got %+v, %v; want NO_MATCH_FOUND without a print date", res, err)
			}
		}
	})
	if p := fake.Problems(); len(p) > 0 {
		t.Errorf("the client's requests had problems: %q", p)
	}
}

func TestCheckFailures(t *testing.T) {
	t.Run("BadRequestIsNotRetried", func(t *testing.T) {
		fake := testenv.StartDBSUpdate(t)
		fake.Subscribe(number, dob, surname, testenv.DBSBadRequest)
		_, err := newClient(t, fake.URL, nil).Check(context.Background(), holder)
		if f := mustFail(t, err, false); !strings.Contains(f.Reason, "refused the request (400)") {
			t.Errorf("got %q, want the refusal and its code", f.Reason)
		}
		if n := fake.Calls(number); n != 1 {
			t.Errorf("got %d calls, want 1", n)
		}
	})
	t.Run("ServerErrorIsRetried", func(t *testing.T) {
		fake := testenv.StartDBSUpdate(t)
		fake.Subscribe(number, dob, surname, testenv.DBSServerError)
		_, err := newClient(t, fake.URL, func(c *dbsupdate.Config) { c.Retries = 3 }).Check(context.Background(), holder)
		if f := mustFail(t, err, true); f.Reason != "the DBS service answered 500 Internal Server Error after 4 tries" {
			t.Errorf("got %q", f.Reason)
		}
		if n := fake.Calls(number); n != 4 {
			t.Errorf("got %d calls, want 4", n)
		}
		fake.SetAnswer(number, testenv.DBSNewInfo)
		if res, err := newClient(t, fake.URL, nil).Check(context.Background(), holder); err != nil || res.Status != dbsupdate.NewInfo {
			t.Errorf("after SetAnswer: got %v, %v; want NEW_INFO", res.Status, err)
		}
	})
	t.Run("DefaultRetriesIsTwo", func(t *testing.T) {
		fake := testenv.StartDBSUpdate(t)
		fake.Subscribe(number, dob, surname, testenv.DBSServerError)
		_, err := newClient(t, fake.URL, nil).Check(context.Background(), holder)
		mustFail(t, err, true)
		if n := fake.Calls(number); n != 3 {
			t.Errorf("got %d calls, want 3", n)
		}
	})
	t.Run("SlowAnswerTimesOut", func(t *testing.T) {
		fake := testenv.StartDBSUpdate(t)
		fake.Subscribe(number, dob, surname, testenv.DBSSlow)
		c := newClient(t, fake.URL, func(c *dbsupdate.Config) { c.Timeout, c.Retries = 200*time.Millisecond, -1 })
		start := time.Now()
		_, err := c.Check(context.Background(), holder)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v, want about 200ms", d)
		}
		if f := mustFail(t, err, true); f.Reason != "no answer from the DBS service within 0.2 seconds after 1 try" {
			t.Errorf("got %q", f.Reason)
		}
		if n := fake.Calls(number); n != 1 {
			t.Errorf("got %d calls, want 1", n)
		}
	})
	t.Run("CancelledWhileWaitingToRetry", func(t *testing.T) {
		fake := testenv.StartDBSUpdate(t)
		fake.Subscribe(number, dob, surname, testenv.DBSServerError)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := newClient(t, fake.URL, func(c *dbsupdate.Config) { c.Backoff = time.Minute }).Check(ctx, holder)
		mustFail(t, err, true)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v, want about 100ms", d)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := newClient(t, srv.URL, nil).Check(context.Background(), holder)
		if f := mustFail(t, err, true); f.Reason != "the DBS service could not be reached after 3 tries" {
			t.Errorf("got %q", f.Reason)
		}
	})
	for _, answer := range []testenv.DBSAnswer{testenv.DBSMalformed, testenv.DBSHTML} {
		t.Run(string(answer), func(t *testing.T) {
			fake := testenv.StartDBSUpdate(t)
			fake.Subscribe(number, dob, surname, answer)
			_, err := newClient(t, fake.URL, nil).Check(context.Background(), holder)
			mustFail(t, err, false)
			if n := fake.Calls(number); n != 1 {
				t.Errorf("got %d calls, want 1", n)
			}
		})
	}
}

func TestCheckRejectsOddAnswers(t *testing.T) {
	const head = `<statusCheckResult><statusCheckResultType>SUCCESS</statusCheckResultType>`
	const good = head + `<status>BLANK_NO_NEW_INFO</status><forename/><surname/><printDate class="sql-date">2023-04-17</printDate></statusCheckResult>`
	for _, tc := range []struct {
		name        string
		code        int
		contentType string
		body        string
		ok          bool
	}{
		{"Good", 200, "application/xml", good, true},
		{"GoodWithDeclarationAndTrailingSpace", 200, "text/xml", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + good + "\n<!-- served -->\n", true},
		{"UnknownStatus", 200, "application/xml", head + `<status>PROBABLY_FINE</status></statusCheckResult>`, false},
		{"EmptyStatus", 200, "application/xml", head + `<status></status></statusCheckResult>`, false},
		{"MissingStatus", 200, "application/xml", head + `</statusCheckResult>`, false},
		{"TwoStatuses", 200, "application/xml", head + `<status>NEW_INFO</status><status>BLANK_NO_NEW_INFO</status></statusCheckResult>`, false},
		{"OtherResultType", 200, "application/xml", `<statusCheckResult><statusCheckResultType>FAILURE</statusCheckResultType><status>BLANK_NO_NEW_INFO</status></statusCheckResult>`, false},
		{"NoResultType", 200, "application/xml", `<statusCheckResult><status>BLANK_NO_NEW_INFO</status></statusCheckResult>`, false},
		{"WrongRoot", 200, "application/xml", `<result><statusCheckResultType>SUCCESS</statusCheckResultType><status>BLANK_NO_NEW_INFO</status></result>`, false},
		{"TrailingGarbage", 200, "application/xml", good + "garbage", false},
		{"SecondRoot", 200, "application/xml", good + good, false},
		{"BadPrintDate", 200, "application/xml", head + `<status>BLANK_NO_NEW_INFO</status><printDate>17/04/2023</printDate></statusCheckResult>`, false},
		{"Empty", 200, "application/xml", "", false},
		{"TooLong", 200, "application/xml", head + `<status>BLANK_NO_NEW_INFO</status><forename>` + strings.Repeat("a", 64<<10) + `</forename></statusCheckResult>`, false},
		{"HTMLContentType", 200, "text/html; charset=utf-8", good, false},
		{"NotFound", 404, "text/plain", "Not Found", false},
		{"NoContent", 204, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.code)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			res, err := newClient(t, srv.URL, nil).Check(context.Background(), holder)
			if tc.ok {
				if err != nil || res.Status != dbsupdate.BlankNoNewInfo {
					t.Errorf("got %v, %v; want BLANK_NO_NEW_INFO", res.Status, err)
				}
				return
			}
			mustFail(t, err, false)
			if res != (dbsupdate.Result{}) {
				t.Errorf("got result %+v with the failure, want none", res)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("got %d calls, want 1 (a bad answer is not retried)", n)
			}
		})
	}
}

func TestCheckInvalidRequest(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	fake.Subscribe(number, dob, surname, testenv.DBSBlank)
	c := newClient(t, fake.URL, nil)
	for name, r := range map[string]dbsupdate.Request{
		"ShortNumber":   {CertificateNumber: number[1:], DateOfBirth: holder.DateOfBirth, Surname: surname},
		"LongNumber":    {CertificateNumber: number + "1", DateOfBirth: holder.DateOfBirth, Surname: surname},
		"LetterInside":  {CertificateNumber: "00123456789x", DateOfBirth: holder.DateOfBirth, Surname: surname},
		"PathInNumber":  {CertificateNumber: "../123456789", DateOfBirth: holder.DateOfBirth, Surname: surname},
		"NoSurname":     {CertificateNumber: number, DateOfBirth: holder.DateOfBirth, Surname: "  "},
		"NoDateOfBirth": {CertificateNumber: number, Surname: surname},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Check(context.Background(), r)
			mustFail(t, err, false)
		})
	}
	if n := fake.Calls(number); n != 0 {
		t.Errorf("got %d calls, want 0", n)
	}
	if p := fake.Problems(); len(p) > 0 {
		t.Errorf("got problems %q, want no requests at all", p)
	}
}

func TestFakeValidatesRequests(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	fake.Subscribe(number, dob, surname, testenv.DBSBlank)
	good := url.Values{
		"dateOfBirth": {dob}, "surname": {surname}, "hasAgreedTermsAndConditions": {"true"},
		"organisationName": {"Org"}, "employeeSurname": {"Lovelace"}, "employeeForename": {"Ada"},
	}
	for name, change := range map[string]func(q url.Values){
		"NoTermsAgreed":  func(q url.Values) { q.Del("hasAgreedTermsAndConditions") },
		"TermsNotTrue":   func(q url.Values) { q.Set("hasAgreedTermsAndConditions", "yes") },
		"NotARealDate":   func(q url.Values) { q.Set("dateOfBirth", "31/02/1980") },
		"ISODate":        func(q url.Values) { q.Set("dateOfBirth", "1980-02-01") },
		"EmptyChecker":   func(q url.Values) { q.Set("employeeForename", "") },
		"ExtraParameter": func(q url.Values) { q.Set("forename", "Ada") },
		"Repeated":       func(q url.Values) { q.Add("surname", surname) },
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = append([]string(nil), v...)
			}
			change(q)
			before := len(fake.Problems())
			resp, err := http.Get(fake.URL + "/" + number + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("got %s %s, want 400 text/plain", resp.Status, resp.Header.Get("Content-Type"))
			}
			if len(fake.Problems()) == before {
				t.Error("no problem recorded")
			}
		})
	}
	resp, err := http.Get(fake.URL + "/" + number + "?" + good.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("an exactly right request: got %s, want 200", resp.Status)
	}
	if n := fake.Calls(number); n != 8 {
		t.Errorf("got %d calls, want 8", n)
	}
}

func TestCheckRateLimit(t *testing.T) {
	fake := testenv.StartDBSUpdate(t)
	fake.Subscribe(number, dob, surname, testenv.DBSBlank)
	c := newClient(t, fake.URL, func(c *dbsupdate.Config) { c.PerSecond = 10 })
	start := time.Now()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := c.Check(context.Background(), holder); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("5 checks at 10 a second took %v, want at least 400ms", d)
	}
	if n := fake.Calls(number); n != 5 {
		t.Errorf("got %d calls, want 5", n)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	ok := dbsupdate.Config{BaseURL: dbsupdate.DefaultBaseURL, OrganisationName: "Org", CheckerForename: "Ada", CheckerSurname: "Lovelace"}
	if _, err := dbsupdate.New(ok); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, change := range map[string]func(*dbsupdate.Config){
		"NoURL":           func(c *dbsupdate.Config) { c.BaseURL = "" },
		"NotAURL":         func(c *dbsupdate.Config) { c.BaseURL = "https://exa mple.com/%zz" },
		"FTP":             func(c *dbsupdate.Config) { c.BaseURL = "ftp://example.com/status" },
		"NoHost":          func(c *dbsupdate.Config) { c.BaseURL = "https:///status" },
		"Query":           func(c *dbsupdate.Config) { c.BaseURL = dbsupdate.DefaultBaseURL + "?x=1" },
		"NoOrganisation":  func(c *dbsupdate.Config) { c.OrganisationName = " " },
		"NoForename":      func(c *dbsupdate.Config) { c.CheckerForename = "" },
		"NoSurname":       func(c *dbsupdate.Config) { c.CheckerSurname = "" },
		"NegativeTimeout": func(c *dbsupdate.Config) { c.Timeout = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			change(&cfg)
			if _, err := dbsupdate.New(cfg); err == nil {
				t.Errorf("New(%+v): got no error", cfg)
			}
		})
	}
}

func TestFailureError(t *testing.T) {
	f := &dbsupdate.Failure{Reason: "the DBS service refused the request (400)"}
	if got, want := f.Error(), "could not check with the DBS Update Service: the DBS service refused the request (400)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := dbsupdate.Status("OTHER").Words(); got != "Unknown status" {
		t.Errorf("got %q, want %q", got, "Unknown status")
	}
	if dbsupdate.Status("OTHER").Clean() || dbsupdate.NewInfo.Clean() || dbsupdate.NoMatch.Clean() {
		t.Error("only the two no-new-information statuses are clean")
	}
}
