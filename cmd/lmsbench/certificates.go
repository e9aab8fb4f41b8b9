package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/store"
)

// names are realistic learner names, some needing more than one code page.
var names = []string{
	"Sarah Thompson", "Siobhán O'Connor", "Zoë Łukasiewicz-Ørsted", "Mohammed Al-Rashid", "Aoife Ní Bhriain",
	"Krzysztof Wójcik", "Chloé Dubois", "Oluwaseun Adébáyọ̀", "Dmitri Иванов", "Jürgen Müller",
	"Priya Patel", "Eleni Παπαδοπούλου", "Ana María Núñez", "Tomás Ó Súilleabháin", "Ayşe Yılmaz",
}

func benchCertificates(ctx context.Context, svc *app.Services, db *store.DB) error {
	course := svc.Learn.Catalogue.All()[0]
	now := time.Now().UTC()

	// Rendering, with the Unicode font, as issuing does it (QR code made
	// once per certificate and stored with it).
	var renders []float64
	for i := 0; i < 300; i++ {
		code := certificates.NewCode()
		qr, err := certificates.EncodeQR(svc.Certs.VerifyURL(code))
		if err != nil {
			return err
		}
		d := certificates.Document{Code: code, Name: names[i%len(names)], OrgName: "Family Advocacy Service", CourseTitle: course.Title,
			CourseVersion: course.Version, Completed: now, CPDHours: course.CPDHours, Expires: now.AddDate(2, 0, 0),
			VerifyURL: svc.Certs.VerifyURL(code), Issued: now, QR: qr}
		start := time.Now()
		if _, err := svc.Certs.Renderer.Render(d); err != nil {
			return err
		}
		renders = append(renders, ms(time.Since(start)))
	}
	fmt.Printf("bench certificate_render_p50 %.2f ms\n", median(renders))

	// Issuing: claim → render → MinIO → mark issued, for fresh completions;
	// the first 20 warm up connections and caches and are not counted.
	const warmUp, measured = 20, 300
	ids, err := seedCompletions(ctx, db, course.Slug, course.Title, course.Version, course.CPDHours, warmUp+measured, now)
	if err != nil {
		return err
	}
	var issues []float64
	for i, id := range ids {
		start := time.Now()
		if _, err := svc.Certs.Issue(ctx, id); err != nil {
			return err
		}
		if i >= warmUp {
			issues = append(issues, ms(time.Since(start)))
		}
	}
	fmt.Printf("bench certificate_issue_p50 %.2f ms\n", median(issues))

	// Bulk reissue of 10,000 certificates of one course.
	bulk := 10000
	if v, err := strconv.Atoi(os.Getenv("LMSBENCH_BULK")); err == nil {
		bulk = v
	}
	if err := seedCertificates(ctx, db, svc.Certs.BaseURL, "bulk-"+course.Slug, course, bulk, now); err != nil {
		return err
	}
	admin := &auth.User{ID: "bench-admin", Name: "Bench Admin"}
	start := time.Now()
	job, err := svc.Certs.StartBulkReissue(ctx, course.Slug, "bench", admin)
	if err != nil {
		return err
	}
	for {
		j, err := svc.Certs.Job(ctx, job.ID)
		if err != nil {
			return err
		}
		if !j.Finished.IsZero() {
			if j.Failed > 0 || j.Error != "" || j.Done < bulk {
				return fmt.Errorf("bulk reissue: %d done, %d failed, %s", j.Done, j.Failed, j.Error)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Printf("bench certificate_bulk_reissue_10k %.1f s\n", time.Since(start).Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// seedCompletions inserts n learners with a passed enrolment waiting for
// its certificate, and returns the enrolment IDs.
func seedCompletions(ctx context.Context, db *store.DB, slug, title, version string, hours float64, n int, now time.Time) ([]string, error) {
	var users, enrols []any
	var ids []string
	for i := 0; i < n; i++ {
		uid := "bench-learner-" + strconv.Itoa(i)
		users = append(users, auth.User{ID: uid, Email: uid + "@bench.example", Name: names[i%len(names)], OrgID: "bench", Roles: []auth.Role{auth.RoleLearner}, Version: 1})
		e := learning.Enrolment{ID: learning.EnrolmentID(uid, slug), UserID: uid, Course: slug, CourseVersion: version, Enrolled: now, Updated: now,
			Lessons: map[string]time.Time{}, Attempts: map[string]learning.AttemptSummary{"1": {No: 1, Started: now, Submitted: now, Passed: true, Percent: 100}},
			Completion: &learning.Completion{At: now, CourseVersion: version, CourseTitle: title, Percent: 100, CPDHours: hours, Attempt: 1},
			Pending:    []string{learning.PendingCertificate}}
		enrols = append(enrols, e)
		ids = append(ids, e.ID)
	}
	if _, err := db.DB.Collection("users").InsertMany(ctx, users); err != nil {
		return nil, err
	}
	if _, err := db.DB.Collection("enrolments").InsertMany(ctx, enrols); err != nil {
		return nil, err
	}
	return ids, nil
}

// seedCertificates adds n issued certificates of a course (and their
// learners, claims and first revisions) through the store's bulk loader,
// which writes the lists bulk reissue reads, as issuing does.
func seedCertificates(ctx context.Context, db *store.DB, baseURL, prefix string, c *courses.Course, n int, now time.Time) error {
	codes := make([]string, 0, n)
	for i := 0; i < n; i++ {
		codes = append(codes, certificates.NewCode())
	}
	sort.Strings(codes)
	// Each certificate keeps its QR code (made once at issue); make them on
	// both cores.
	qrs := make([]*certificates.QRCode, n)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 2 {
				qrs[i], _ = certificates.EncodeQR(baseURL + "/verify/" + codes[i])
			}
		}(w)
	}
	wg.Wait()
	ld := db.NewLoader()
	for i, code := range codes {
		uid := prefix + "-" + strconv.Itoa(i)
		u := &auth.User{ID: uid, Email: uid + "@bench.example", Name: names[i%len(names)], OrgID: "bench", Roles: []auth.Role{auth.RoleLearner}, Version: 1}
		if err := ld.User(ctx, u); err != nil {
			return err
		}
		cert := &certificates.Certificate{Code: code, ClaimKey: uid + "/" + c.Slug + "/1", EnrolmentID: uid + "/" + c.Slug, UserID: uid, OrgID: "bench",
			Name: names[i%len(names)], Course: c.Slug, CourseTitle: c.Title, CourseVersion: c.Version, CompletedAt: now, CPDHours: c.CPDHours,
			QR: qrs[i], Status: certificates.StatusIssued, ClaimedAt: now, IssuedAt: now, Revision: 1, SHA256: fmt.Sprintf("%064x", i)}
		claim := &certificates.Claim{Key: cert.ClaimKey, Code: code, At: now}
		rev := &certificates.Revision{ID: code + "/1", Code: code, N: 1, Name: cert.Name, IssuedAt: now, SHA256: cert.SHA256}
		if err := ld.Certificate(ctx, cert, claim, rev, &certificates.Hash{SHA256: cert.SHA256, Code: code, Revision: 1}); err != nil {
			return err
		}
	}
	return ld.Flush(ctx)
}
