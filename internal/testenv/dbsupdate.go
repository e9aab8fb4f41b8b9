package testenv

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// DBSAnswer is what the fake DBS Update Service answers for a certificate:
// one of the four statuses, or a way of failing.
type DBSAnswer string

// The answers the fake can give.
const (
	DBSBlank       DBSAnswer = "BLANK_NO_NEW_INFO"
	DBSNonBlank    DBSAnswer = "NON_BLANK_NO_NEW_INFO"
	DBSNewInfo     DBSAnswer = "NEW_INFO"
	DBSNoMatch     DBSAnswer = "NO_MATCH_FOUND"
	DBSBadRequest  DBSAnswer = "400"       // 400 with a text/plain body
	DBSServerError DBSAnswer = "500"       // 500 with a text/plain body
	DBSSlow        DBSAnswer = "slow"      // waits (until the request's context ends or 30 s) before answering 503
	DBSMalformed   DBSAnswer = "malformed" // 200 with broken XML
	DBSHTML        DBSAnswer = "html"      // 200 text/html error page
)

// DBSPrintDate is the print date the fake gives every matched certificate.
const DBSPrintDate = "2023-04-17"

// dbsPath is the path the fake serves under, as the real service does.
const dbsPath = "/crsc/api/status"

var (
	dbsNumber = regexp.MustCompile(`^\d{12}$`)
	dbsDOB    = regexp.MustCompile(`^\d{2}/\d{2}/\d{4}$`)
	dbsParams = []string{"dateOfBirth", "surname", "hasAgreedTermsAndConditions", "organisationName", "employeeSurname", "employeeForename"}
)

// DBSUpdate is an in-process fake of the DBS Update Service's status check
// API. It checks every request's parameters exactly; a request with any
// problem is recorded (see Problems) and answered 400. It is safe for
// concurrent use.
type DBSUpdate struct {
	URL string // the base URL for dbsupdate.Config.BaseURL

	srv  *httptest.Server
	done chan struct{} // closed when the test ends, to release slow answers

	mu       sync.Mutex
	certs    map[string]dbsCert
	calls    map[string]int
	problems []string
}

type dbsCert struct {
	dob, surname string
	answer       DBSAnswer
}

// StartDBSUpdate starts a fake DBS Update Service that stops when the test ends.
func StartDBSUpdate(t testing.TB) *DBSUpdate {
	t.Helper()
	f := &DBSUpdate{done: make(chan struct{}), certs: map[string]dbsCert{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL + dbsPath
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

// Subscribe registers a subscribed certificate: number (12 digits), dob
// "DD/MM/YYYY", surname, and what the fake answers for it.
func (f *DBSUpdate) Subscribe(number, dob, surname string, answer DBSAnswer) {
	mustAnswer(answer)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.certs[number] = dbsCert{dob: dob, surname: surname, answer: answer}
}

// SetAnswer changes what the fake answers for a subscribed certificate.
func (f *DBSUpdate) SetAnswer(number string, answer DBSAnswer) {
	mustAnswer(answer)
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.certs[number]
	if !ok {
		panic("testenv: SetAnswer for certificate " + number + ", which is not subscribed")
	}
	c.answer = answer
	f.certs[number] = c
}

// Calls returns how many requests the fake received for that number,
// valid or not.
func (f *DBSUpdate) Calls(number string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[number]
}

// Problems returns the parameter problems seen so far: empty when every
// request was exactly right.
func (f *DBSUpdate) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.problems)
}

func mustAnswer(a DBSAnswer) {
	switch a {
	case DBSBlank, DBSNonBlank, DBSNewInfo, DBSNoMatch, DBSBadRequest, DBSServerError, DBSSlow, DBSMalformed, DBSHTML:
	default:
		panic(fmt.Sprintf("testenv: unknown DBSAnswer %q", a))
	}
}

// serve answers one status check.
func (f *DBSUpdate) serve(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	problems := dbsProblems(r)

	f.mu.Lock()
	f.calls[number]++
	f.problems = append(f.problems, problems...)
	cert, ok := f.certs[number]
	f.mu.Unlock()

	if len(problems) > 0 {
		dbsText(w, http.StatusBadRequest, "Bad Request\n"+strings.Join(problems, "\n"))
		return
	}
	q := r.URL.Query()
	if !ok || q.Get("dateOfBirth") != cert.dob || !strings.EqualFold(q.Get("surname"), cert.surname) {
		dbsXML(w, DBSNoMatch, "")
		return
	}
	switch cert.answer {
	case DBSBadRequest:
		dbsText(w, http.StatusBadRequest, "Bad Request")
	case DBSServerError:
		dbsText(w, http.StatusInternalServerError, "Internal Server Error")
	case DBSSlow:
		select {
		case <-r.Context().Done():
		case <-f.done:
		case <-time.After(30 * time.Second):
		}
		dbsText(w, http.StatusServiceUnavailable, "Service Unavailable")
	case DBSMalformed:
		w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
		fmt.Fprint(w, `<statusCheckResult><statusCheckResultType>SUCCESS</statusCheckResultType><status>BLANK_NO_NEW_INFO</status><forename>`)
	case DBSHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body><h1>Sorry, the service is unavailable</h1></body></html>\n")
	default:
		dbsXML(w, cert.answer, cert.surname)
	}
}

// dbsProblems lists what is wrong with a request's method, path and parameters.
func dbsProblems(r *http.Request) []string {
	var p []string
	if r.Method != http.MethodGet {
		p = append(p, "method "+r.Method+", want GET")
	}
	number, ok := strings.CutPrefix(r.URL.Path, dbsPath+"/")
	if !ok || !dbsNumber.MatchString(number) {
		p = append(p, fmt.Sprintf("path %q, want %s/<12 digits>", r.URL.Path, dbsPath))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return append(p, "query does not parse: "+err.Error())
	}
	for name, vs := range q {
		switch {
		case !slices.Contains(dbsParams, name):
			p = append(p, "unexpected parameter "+name)
		case len(vs) > 1:
			p = append(p, "parameter "+name+" given more than once")
		}
	}
	for _, name := range dbsParams {
		v, ok := q[name]
		switch {
		case !ok:
			p = append(p, "missing parameter "+name)
		case strings.TrimSpace(v[0]) == "":
			p = append(p, "empty parameter "+name)
		}
	}
	if v := q.Get("hasAgreedTermsAndConditions"); v != "" && v != "true" {
		p = append(p, fmt.Sprintf("hasAgreedTermsAndConditions %q, want \"true\"", v))
	}
	if dob := q.Get("dateOfBirth"); dob != "" {
		if _, err := time.Parse("02/01/2006", dob); !dbsDOB.MatchString(dob) || err != nil {
			p = append(p, fmt.Sprintf("dateOfBirth %q is not a real DD/MM/YYYY date", dob))
		}
	}
	slices.Sort(p)
	return p
}

func dbsText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}

// dbsXML writes a statusCheckResult; a match carries the surname and the print date.
func dbsXML(w http.ResponseWriter, status DBSAnswer, surname string) {
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	printDate := ""
	if status != DBSNoMatch {
		printDate = `<printDate class="sql-date">` + DBSPrintDate + `</printDate>`
	} else {
		surname = ""
	}
	fmt.Fprintf(w, `<statusCheckResult><statusCheckResultType>SUCCESS</statusCheckResultType><status>%s</status><forename/><surname>%s</surname>%s</statusCheckResult>`,
		status, html.EscapeString(strings.ToUpper(surname)), printDate)
}
