package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/testenv"
)

// TestAPassWhileStorageIsDownShowsItsResult: with object storage
// unreachable (an instance whose MinIO address answers nothing), a learner
// who passes sees that they passed and that the certificate is on its way;
// the pass is kept with its certificate still to issue, and once storage
// is back the reconciler issues it and the download works.
func TestAPassWhileStorageIsDownShowsItsResult(t *testing.T) {
	w := newWorld(t, sampleDir)
	ctx := context.Background()
	client, err := minio.New("127.0.0.1:1", &minio.Options{Creds: credentials.NewStaticV4("k", "secret-key", ""), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	dead := &blob.Store{Client: client, Bucket: "lms", Endpoint: "127.0.0.1:1"}
	cfg := config.Default()
	cfg.BaseURL, cfg.CoursesDir, cfg.CompliancePolicy = "http://lms.test", w.courses, "../compliance/testdata/sample-policy.yaml"
	cat, err := app.LoadCatalogue(w.courses)
	if err != nil {
		t.Fatal(err)
	}
	down, _, err := app.Wire(cfg, cat, w.env.DB, dead, w.key, w.clock, testenv.Logger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := w.client(down, w.session("learner"))
	for _, path := range []string{"/courses/sample-course/enrol", "/courses/sample-course/lessons/01-first-steps/complete",
		"/courses/sample-course/lessons/02-second-steps/complete", "/courses/sample-course/lessons/03-last-steps/complete"} {
		if resp, _ := c.post(path, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	n, ids := w.paper(c)
	resp, _ := c.post(fmt.Sprintf("/courses/sample-course/assessment/%d", n), answers(ids, true))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a pass while storage is down: %d", resp.StatusCode)
	}
	_, page := c.do("GET", resp.Header.Get("Location"), nil)
	if !strings.Contains(page, "You passed") || !strings.Contains(page, "Your certificate is being prepared") {
		t.Fatalf("the result page while storage is down: %.2000s", page)
	}
	id := learning.EnrolmentID(w.users["learner"].ID, "sample-course")
	e, err := w.env.DB.Enrolment(ctx, id)
	if err != nil || e.Completion == nil || len(e.CertificateCodes) != 0 || !strings.Contains(strings.Join(e.Pending, ","), learning.PendingCertificate) {
		t.Fatalf("the pass as kept: %+v, %v", e, err)
	}
	// Storage back (the ordinary instance): the reconciler issues it.
	w.advance(10 * time.Minute)
	if _, err := w.svc.HandOver.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if e, _ = w.env.DB.Enrolment(ctx, id); len(e.CertificateCodes) != 1 {
		t.Fatalf("no certificate after storage came back: %+v", e)
	}
	ok := w.client(w.srv, w.session("learner"))
	if resp, body := ok.do("GET", "/certificates/"+e.CertificateCodes[0]+"/download", nil); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("download once storage is back: %d", resp.StatusCode)
	}
}
