package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/learning"
)

// certifiedLearner passes the sample course as "learner" over HTTP and
// returns the certificate code.
func (w *world) certifiedLearner() string {
	w.t.Helper()
	c := w.readyLearner("learner")
	n, ids := w.paper(c)
	if resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true)); resp.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("submit: %d", resp.StatusCode)
	}
	e, err := w.env.DB.Enrolment(context.Background(), learning.EnrolmentID(w.users["learner"].ID, "sample-course"))
	if err != nil || len(e.CertificateCodes) != 1 {
		w.t.Fatalf("no certificate after passing: %v %v", e, err)
	}
	return e.CertificateCodes[0]
}

func TestCertificateDownloadAccess(t *testing.T) {
	w := newWorld(t, sampleDir)
	admin := w.client(w.srv, w.session("admin"))
	if _, body := admin.do("GET", "/admin/certificates", nil); !strings.Contains(body, "No certificates issued yet") || strings.Contains(body, "Download all as a ZIP") {
		t.Error("the admin's certificates page offers a ZIP and a reissue for a course with no certificates")
	}
	code := w.certifiedLearner()
	if _, body := admin.do("GET", "/admin/certificates", nil); !strings.Contains(body, "Download all as a ZIP") || strings.Contains(body, "No certificates issued yet") {
		t.Error("the admin's certificates page does not offer the course's one certificate")
	}
	for persona, want := range map[string]int{
		"learner": 200, "manager": 200, "admin": 200, // the learner, their manager, admins
		"learner2": 403, "advocate": 403, "other-manager": 403,
	} {
		resp, body := w.client(w.srv, w.session(persona)).do("GET", "/certificates/"+code+"/download", nil)
		if resp.StatusCode != want {
			t.Errorf("%s: got %d, want %d", persona, resp.StatusCode, want)
			continue
		}
		if want == 200 && (resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="certificate-`+code+`.pdf"`) {
			t.Errorf("%s: %s %q, body starts %q", persona, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body[:min(8, len(body))])
		}
	}
	if resp, _ := w.client(w.srv, "").do("GET", "/certificates/"+code+"/download", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous: got %d, want a redirect to sign in", resp.StatusCode)
	}
	// My certificates lists it for its learner only.
	_, body := w.client(w.srv, w.session("learner")).do("GET", "/my/certificates", nil)
	if !strings.Contains(body, code) {
		t.Error("My certificates does not list the certificate")
	}
	_, body = w.client(w.srv, w.session("learner2")).do("GET", "/my/certificates", nil)
	if strings.Contains(body, code) {
		t.Error("another learner's My certificates lists it")
	}
	// Only the owner may ask for a reissue.
	if resp, _ := w.client(w.srv, w.session("learner2")).post("/my/certificates/"+code+"/reissue-request", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("reissue request by another learner: got %d, want 404", resp.StatusCode)
	}
}

func TestVerifyIsPublicAndRateLimited(t *testing.T) {
	w := newWorld(t, sampleDir)
	code := w.certifiedLearner()
	anon := w.client(w.srv, "")
	resp, body := anon.do("GET", "/verify/"+code, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "This certificate is valid") || !strings.Contains(body, "Learner Person") {
		t.Fatalf("verify: %d", resp.StatusCode)
	}
	// Only what the public may see: no email, no score.
	if strings.Contains(body, "learner@example.org") || strings.Contains(body, "100%") {
		t.Fatal("the verification page shows more than name, course, dates and CPD hours")
	}
	if strings.Contains(body, "corrected copy") {
		t.Fatal("a certificate never reissued is said to have a corrected copy")
	}
	// After an admin reissues it, the code says a corrected copy exists.
	if resp, _ := w.client(w.srv, w.session("admin")).post("/admin/certificates/"+code+"/reissue", url.Values{"reason": {"typo in the name"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reissue: %d", resp.StatusCode)
	}
	if _, body := anon.do("GET", "/verify/"+code, nil); !strings.Contains(body, "This certificate is valid") || !strings.Contains(body, "replaced by the corrected copy") {
		t.Fatal("after a reissue, the verify page does not say a corrected copy was issued")
	}
	typo := code[:len(code)-1] + map[bool]string{true: "Z", false: "Y"}[!strings.HasSuffix(code, "Z")]
	if resp, body := anon.do("GET", "/verify/"+typo, nil); resp.StatusCode != 422 || !strings.Contains(body, "typing mistake") {
		t.Fatalf("mistyped code: got %d", resp.StatusCode)
	}
	status := 0
	for i := 0; i < 40 && status != http.StatusTooManyRequests; i++ {
		resp, _ := anon.do("GET", "/verify/"+code, nil)
		status = resp.StatusCode
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("40 checks in a minute: last status %d, want 429", status)
	}
}
