package server_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/civil"
)

// Sharing a certificate (issue 17, point 9): My certificates offers a valid
// certificate's verification link to copy and LinkedIn's add-certification
// link with the certificate's details.

var linkedInRE = regexp.MustCompile(`<a class="button secondary linkedin" href="([^"]+)"`)

func TestMyCertificatesShareLinks(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	code := w.certifiedLearner()
	cert, err := w.svc.Certs.Get(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	learner := w.client(w.srv, w.session("learner"))
	_, page := learner.do("GET", "/my/certificates", nil)
	verify := "http://lms.test/verify/" + code

	t.Run("TheVerificationLinkToCopy", func(t *testing.T) {
		for _, want := range []string{
			`<input type="text" id="link-` + code + `" class="share-link" value="` + verify + `" readonly`, // selectable without JavaScript
			`data-copy="link-` + code + `"`, `>Copy verification link<`, // the button, shown by share.js
			`<label for="link-` + code + `">Verification link`,
			`href="/verify/` + code + `"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("My certificates lacks %s", want)
			}
		}
		if !regexp.MustCompile(`<button type="button" class="button secondary copy-link" data-copy="link-` + code + `"[^>]* hidden>`).MatchString(page) {
			t.Error("the copy button is not hidden until the script shows it")
		}
		if !regexp.MustCompile(`<script src="/static/[0-9a-f]+/js/share.js" defer>`).MatchString(page) {
			t.Error("the page does not load share.js")
		}
	})
	t.Run("LinkedInsAddCertificationLink", func(t *testing.T) {
		m := linkedInRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no Add to LinkedIn profile link")
		}
		raw := html.UnescapeString(m[1])
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "https" || u.Host != "www.linkedin.com" || u.Path != "/profile/add" {
			t.Errorf("link goes to %s://%s%s, want https://www.linkedin.com/profile/add", u.Scheme, u.Host, u.Path)
		}
		issued, expires := cert.CompletedAt.In(civil.London), cert.ExpiresAt.In(civil.London)
		want := map[string]string{
			"startTask":        "CERTIFICATION_NAME",
			"name":             "Sample course for tests",
			"organizationName": "Family Advocacy Service",
			"issueYear":        strconv.Itoa(issued.Year()),
			"issueMonth":       strconv.Itoa(int(issued.Month())),
			"expirationYear":   strconv.Itoa(expires.Year()),
			"expirationMonth":  strconv.Itoa(int(expires.Month())),
			"certUrl":          verify,
			"certId":           code,
		}
		q := u.Query()
		for k, v := range want {
			if got := q[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: got %q, want %q", k, got, v)
			}
		}
		for k := range q {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected parameter %s=%q", k, q.Get(k))
			}
		}
		if want["issueYear"] != "2026" || want["issueMonth"] != "11" || want["expirationYear"] != "2027" {
			t.Errorf("the certificate is dated %v, expires %v: the test's dates are not what it means to check", issued, expires)
		}
		if strings.Contains(u.RawQuery, "+") || !strings.Contains(u.RawQuery, "name=Sample%20course%20for%20tests") ||
			!strings.Contains(u.RawQuery, "certUrl=http%3A%2F%2Flms.test%2Fverify%2F"+code) {
			t.Errorf("the parameters are not escaped as LinkedIn reads them: %s", u.RawQuery)
		}
		if !strings.HasPrefix(u.RawQuery, "startTask=CERTIFICATION_NAME&name=") {
			t.Errorf("startTask is not first: %s", u.RawQuery)
		}
	})
	t.Run("ARevokedCertificateIsNotShared", func(t *testing.T) {
		if err := w.svc.Certs.Revoke(ctx, code, "issued-in-error", "", w.users["admin"]); err != nil {
			t.Fatal(err)
		}
		_, page := learner.do("GET", "/my/certificates", nil)
		if !strings.Contains(page, code) || strings.Contains(page, "linkedin.com") || strings.Contains(page, `data-copy=`) {
			t.Error("a revoked certificate is offered for sharing")
		}
	})
}
