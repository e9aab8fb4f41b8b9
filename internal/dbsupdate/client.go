// Package dbsupdate asks the DBS Update Service whether a subscribed DBS
// certificate is still current.
//
// The service is asked one certificate at a time:
//
//	GET <base>/<certificate number>?dateOfBirth=DD/MM/YYYY&surname=…&hasAgreedTermsAndConditions=true&organisationName=…&employeeSurname=…&employeeForename=…
//
// and answers a small XML document. Only a well-formed statusCheckResult with
// result type SUCCESS and one of the four known statuses is an answer;
// anything else is a *Failure ("could not check"), never a pass.
//
// The request carries the holder's surname, date of birth and certificate
// number, so none of them ever appears in an error: a *Failure holds only
// status codes and plain words, and the client does not log.
package dbsupdate

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is the production address of the status check API.
const DefaultBaseURL = "https://secure.crbonline.gov.uk/crsc/api/status"

// maxBody is the largest answer read; a longer one is a failure.
const maxBody = 64 << 10

// Status is what the service says about a subscribed certificate.
type Status string

// The four statuses the service answers.
const (
	BlankNoNewInfo    Status = "BLANK_NO_NEW_INFO"
	NonBlankNoNewInfo Status = "NON_BLANK_NO_NEW_INFO"
	NewInfo           Status = "NEW_INFO"
	NoMatch           Status = "NO_MATCH_FOUND"
)

// Words returns the status in plain words for a manager.
func (s Status) Words() string {
	switch s {
	case BlankNoNewInfo:
		return "No information on the certificate and no new information"
	case NonBlankNoNewInfo:
		return "Information on the certificate, no new information since"
	case NewInfo:
		return "New information: a new DBS check is needed"
	case NoMatch:
		return "The details do not match a subscribed certificate"
	default:
		return "Unknown status"
	}
}

// Clean reports whether the certificate is still current: true only for
// the two "no new information" statuses.
func (s Status) Clean() bool { return s == BlankNoNewInfo || s == NonBlankNoNewInfo }

func (s Status) known() bool { return s == NoMatch || s == NewInfo || s.Clean() }

// Config configures a Client.
type Config struct {
	BaseURL          string        // required (callers treat "" as checks off and do not build a client)
	OrganisationName string        // required
	CheckerForename  string        // required: the named person checking
	CheckerSurname   string        // required
	Timeout          time.Duration // per request; default 20s
	PerSecond        float64       // at most this many requests per second across all callers of one Client; default 2
	Retries          int           // extra tries for network errors, time-outs and 5xx only (never 4xx or a bad answer); 0 means the default 2, negative means none
	Backoff          time.Duration // first wait between tries, doubled each time; default 1s
	HTTPClient       *http.Client  // optional
}

// Request is one certificate to check.
type Request struct {
	CertificateNumber string    // 12 digits (spaces allowed and removed)
	DateOfBirth       time.Time // the date part is used (its own Y/M/D fields, no time-zone conversion)
	Surname           string    // the holder's current surname
}

// Result is the service's answer.
type Result struct {
	Status    Status
	Forename  string
	Surname   string
	PrintDate time.Time // zero if absent
}

// Failure is "could not check": Reason in plain words for a manager, never
// holding the surname, date of birth or certificate number. Temporary
// failures (no answer, 5xx) may succeed if tried again later.
type Failure struct {
	Reason    string
	Temporary bool
}

// Error returns the reason.
func (f *Failure) Error() string { return "could not check with the DBS Update Service: " + f.Reason }

// Client checks certificates. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	cfg     Config
	http    *http.Client
	gap     time.Duration // between the starts of two requests
	retries int

	mu   sync.Mutex
	next time.Time // when the next request may start
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("dbsupdate: the DBS Update Service address is missing")
	case err != nil:
		return nil, fmt.Errorf("dbsupdate: the DBS Update Service address %q is not a URL", cfg.BaseURL)
	case base.Scheme != "http" && base.Scheme != "https":
		return nil, fmt.Errorf("dbsupdate: the DBS Update Service address %q must start with https:// (or http://)", cfg.BaseURL)
	case base.Host == "":
		return nil, fmt.Errorf("dbsupdate: the DBS Update Service address %q has no host", cfg.BaseURL)
	case base.RawQuery != "" || base.Fragment != "" || base.User != nil:
		return nil, fmt.Errorf("dbsupdate: the DBS Update Service address %q must not have a query, fragment or password", base.Redacted())
	case strings.TrimSpace(cfg.OrganisationName) == "":
		return nil, errors.New("dbsupdate: the organisation name is missing")
	case strings.TrimSpace(cfg.CheckerForename) == "" || strings.TrimSpace(cfg.CheckerSurname) == "":
		return nil, errors.New("dbsupdate: the forename and surname of the person checking are both needed")
	case cfg.PerSecond < 0 || cfg.Timeout < 0 || cfg.Backoff < 0:
		return nil, errors.New("dbsupdate: the time-out, rate and back-off must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.PerSecond == 0 {
		cfg.PerSecond = 2
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Second
	}
	c := &Client{base: base, cfg: cfg, http: cfg.HTTPClient, gap: time.Duration(float64(time.Second) / cfg.PerSecond)}
	switch {
	case cfg.Retries == 0:
		c.retries = 2
	case cfg.Retries > 0:
		c.retries = cfg.Retries
	}
	if c.http == nil {
		// The query holds personal data: follow redirects only within the
		// same scheme and host.
		c.http = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	}
	return c, nil
}

// Check asks the service about one certificate. The error is a *Failure
// for anything but a valid answer; an invalid Request fails at once
// (Temporary false) without a request being sent.
func (c *Client) Check(ctx context.Context, r Request) (Result, error) {
	u, err := c.url(r)
	if err != nil {
		return Result{}, err
	}
	backoff := c.cfg.Backoff
	for try := 1; ; try++ {
		if err := c.wait(ctx); err != nil {
			return Result{}, stopped()
		}
		res, f := c.try(ctx, u)
		if f == nil {
			return res, nil
		}
		if !f.Temporary || ctx.Err() != nil || try > c.retries {
			if f.Temporary && ctx.Err() == nil {
				f.Reason += " after " + plural(try, "try", "tries")
			}
			return Result{}, f
		}
		// Wait before the next try, doubling the wait each time.
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, stopped()
		case <-t.C:
		}
		backoff *= 2
	}
}

// url validates r and builds the request URL.
func (c *Client) url(r Request) (string, error) {
	number := strings.ReplaceAll(r.CertificateNumber, " ", "")
	if len(number) != 12 || strings.Trim(number, "0123456789") != "" {
		return "", &Failure{Reason: "the certificate number must be 12 digits"}
	}
	if strings.TrimSpace(r.Surname) == "" {
		return "", &Failure{Reason: "the certificate holder's surname is missing"}
	}
	if r.DateOfBirth.IsZero() {
		return "", &Failure{Reason: "the certificate holder's date of birth is missing"}
	}
	y, m, d := r.DateOfBirth.Date()
	q := url.Values{
		"dateOfBirth":                 {fmt.Sprintf("%02d/%02d/%04d", d, m, y)},
		"surname":                     {strings.TrimSpace(r.Surname)},
		"hasAgreedTermsAndConditions": {"true"},
		"organisationName":            {strings.TrimSpace(c.cfg.OrganisationName)},
		"employeeSurname":             {strings.TrimSpace(c.cfg.CheckerSurname)},
		"employeeForename":            {strings.TrimSpace(c.cfg.CheckerForename)},
	}
	u := c.base.JoinPath(number) // path-escapes the number
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// wait blocks until the rate limit lets one more request start, or ctx ends.
func (c *Client) wait(ctx context.Context) error {
	c.mu.Lock()
	at := c.next
	if now := time.Now(); at.Before(now) {
		at = now
	}
	c.next = at.Add(c.gap)
	c.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// try sends one request. The returned *Failure is Temporary when trying
// again may help.
func (c *Client) try(ctx context.Context, u string) (Result, *Failure) {
	tctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, u, nil)
	if err != nil {
		return Result{}, &Failure{Reason: "the request to the DBS service could not be made"}
	}
	req.Header.Set("Accept", "application/xml, text/xml")
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, c.noAnswer(ctx, tctx, err) // err holds the URL: never shown
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	switch {
	case resp.StatusCode >= 500:
		return Result{}, &Failure{Reason: fmt.Sprintf("the DBS service answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode)), Temporary: true}
	case resp.StatusCode >= 400:
		return Result{}, &Failure{Reason: fmt.Sprintf("the DBS service refused the request (%d)", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return Result{}, &Failure{Reason: fmt.Sprintf("the DBS service gave an unexpected answer (%d)", resp.StatusCode)}
	case err != nil:
		return Result{}, c.noAnswer(ctx, tctx, err)
	case len(body) > maxBody:
		return Result{}, &Failure{Reason: "the DBS service's answer was too long to be a status check result"}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" || mt == "application/xhtml+xml" {
		return Result{}, &Failure{Reason: "the DBS service answered with a web page, not a status check result"}
	}
	res, ok := parse(body)
	if !ok {
		return Result{}, &Failure{Reason: "the DBS service's answer was not a status check result"}
	}
	return res, nil
}

// noAnswer describes a request that got no (complete) answer.
func (c *Client) noAnswer(ctx, tctx context.Context, err error) *Failure {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return stopped()
	case tctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return &Failure{Reason: "no answer from the DBS service within " + seconds(c.cfg.Timeout), Temporary: true}
	default:
		return &Failure{Reason: "the DBS service could not be reached", Temporary: true}
	}
}

// stopped is the failure when the caller's context ends first.
func stopped() *Failure {
	return &Failure{Reason: "the check was stopped before the DBS service answered", Temporary: true}
}

// statusCheckResult is the service's XML answer. The result type and status
// are slices so that a repeated element is caught rather than overwritten.
type statusCheckResult struct {
	XMLName   xml.Name `xml:"statusCheckResult"`
	Type      []string `xml:"statusCheckResultType"`
	Status    []string `xml:"status"`
	Forename  []string `xml:"forename"`
	Surname   []string `xml:"surname"`
	PrintDate []string `xml:"printDate"`
}

// parse reads a statusCheckResult strictly: the right root element, one
// SUCCESS result type, one known status, at most one of each other field,
// a valid print date, and nothing but white space or comments after it.
func parse(body []byte) (Result, bool) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var x statusCheckResult
	if err := dec.Decode(&x); err != nil {
		return Result{}, false
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, false
		}
		switch t := tok.(type) {
		case xml.Comment:
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return Result{}, false
			}
		default:
			return Result{}, false
		}
	}
	if len(x.Type) != 1 || strings.TrimSpace(x.Type[0]) != "SUCCESS" || len(x.Status) != 1 ||
		len(x.Forename) > 1 || len(x.Surname) > 1 || len(x.PrintDate) > 1 {
		return Result{}, false
	}
	res := Result{Status: Status(strings.TrimSpace(x.Status[0])), Forename: one(x.Forename), Surname: one(x.Surname)}
	if !res.Status.known() {
		return Result{}, false
	}
	if d := one(x.PrintDate); d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return Result{}, false
		}
		res.PrintDate = t
	}
	return res, true
}

// one returns the trimmed only element of s, or "".
func one(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return strings.TrimSpace(s[0])
}

// seconds writes d as "20 seconds" or "0.2 seconds".
func seconds(d time.Duration) string {
	if d == time.Second {
		return "1 second"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " seconds"
}

// plural writes "1 try" or "3 tries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
