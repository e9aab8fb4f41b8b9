package server

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/civil"
)

// Sharing a certificate from My certificates: its public verification link
// (a button copies it; without JavaScript the link is in a read-only box to
// select), and LinkedIn's "add a certification" link, which opens the
// person's profile with the certification filled in.

// linkedInAddURL is where LinkedIn's "Add to profile" for certifications
// starts.
const linkedInAddURL = "https://www.linkedin.com/profile/add"

// shareLinks are a certificate's links for sharing.
type shareLinks struct {
	VerifyURL string // the public verification page
	LinkedIn  string // LinkedIn's add-certification link
}

// shareOf returns the share links of a certificate issued by org, whose
// verification pages are under baseURL.
func shareOf(c *certificates.Certificate, baseURL, org string) *shareLinks {
	verify := strings.TrimRight(baseURL, "/") + "/verify/" + url.PathEscape(c.Code)
	return &shareLinks{VerifyURL: verify, LinkedIn: linkedInURL(c.CourseTitle, org, verify, c.Code, c.CompletedAt, c.ExpiresAt)}
}

// linkedInURL builds LinkedIn's add-certification link: the certification's
// name (the course), the issuing organisation, the month it was issued
// (the completion, in London) and, when it expires, the month it expires,
// the verification URL and the certificate's code. Parameters are in the
// order LinkedIn documents them, each query-escaped with spaces as %20.
func linkedInURL(name, org, certURL, code string, issued time.Time, expires *time.Time) string {
	var b strings.Builder
	b.WriteString(linkedInAddURL)
	sep := "?"
	add := func(k, v string) {
		b.WriteString(sep + k + "=" + strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		sep = "&"
	}
	add("startTask", "CERTIFICATION_NAME")
	add("name", name)
	add("organizationName", org)
	at := issued.In(civil.London)
	add("issueYear", strconv.Itoa(at.Year()))
	add("issueMonth", strconv.Itoa(int(at.Month())))
	if expires != nil {
		ex := expires.In(civil.London)
		add("expirationYear", strconv.Itoa(ex.Year()))
		add("expirationMonth", strconv.Itoa(int(ex.Month())))
	}
	add("certUrl", certURL)
	add("certId", code)
	return b.String()
}
