package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
	"golang.org/x/sync/errgroup"
)

// Certificates and completions are listed through lists written with them:
//
//	certs@course/<course>          a course's certificates by code (bucket:
//	                               the first character): the count on the
//	                               admin page, bulk reissue and the ZIP,
//	                               which carry on from the last code done
//	certs@expiry                   certificates that expire, by expiry date
//	                               (bucket: the month, 8 shards): renewal
//	                               reminders read the next two months only
//	completions@<course>           who completed a course, newest first
//	completions@<course>@<version> the same for one version
//	completion-versions@<course>   the versions anyone has completed
//	person/<user>                  "certificates/<code>", "enrolments/<id>"
var (
	courseCertsSpec = listSpec{prefix: 1}
	expirySpec      = listSpec{prefix: len("2006-01"), uncounted: true}
	completionsSpec = listSpec{prefix: len("2006-01"), desc: true}
	versionsSpec    = listSpec{prefix: 0, desc: true, uncounted: true}
)

func (db *DB) courseCerts(course string) list {
	return db.list("certs@course/"+course, courseCertsSpec)
}
func (db *DB) certExpiries() list { return db.list("certs@expiry", expirySpec) }

// expiryRow is a row of certs@expiry.
type certExpiryRow struct {
	UserID string `bson:"u"`
}

func certExpirySort(c *certificates.Certificate) string {
	return c.ExpiresAt.In(compliance.London).Format("2006-01-02") + "/" + c.Code
}

// indexCertificate enters a certificate in every list (the bulk loader
// and the upgrade, which write issued certificates).
func (db *DB) indexCertificate(ctx context.Context, c *certificates.Certificate) error {
	if err := db.notePerson(ctx, c.UserID, Ref{Collection: colCertificates, ID: c.Code}); err != nil {
		return err
	}
	return db.ListCertificate(ctx, c)
}

// ListCertificate enters a certificate in its course's list and the
// expiry schedule, side by side. (Its holder's list takes it before it is
// recorded; these two before it is issued: see InsertCertificate.)
// Idempotent.
func (db *DB) ListCertificate(ctx context.Context, c *certificates.Certificate) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return db.courseCerts(c.Course).Add(gctx, c.Code, c.Code, struct{}{}) })
	if c.ExpiresAt != nil {
		g.Go(func() error {
			return db.certExpiries().Add(gctx, c.Code, certExpirySort(c), certExpiryRow{UserID: c.UserID})
		})
	}
	return g.Wait()
}

// unindexCertificate removes a deleted certificate's rows.
func (db *DB) unindexCertificate(ctx context.Context, c *certificates.Certificate) error {
	if err := db.courseCerts(c.Course).Remove(ctx, c.Code, c.Code); err != nil {
		return err
	}
	if c.ExpiresAt != nil {
		if err := db.certExpiries().Remove(ctx, c.Code, certExpirySort(c)); err != nil {
			return err
		}
	}
	return db.forgetPerson(ctx, c.UserID, Ref{Collection: colCertificates, ID: c.Code})
}

// CountCourseCertificates counts a course's certificates (a directory read).
func (db *DB) CountCourseCertificates(ctx context.Context, course string) (int, error) {
	return db.courseCerts(course).Count(ctx)
}

// CourseCertificates returns up to limit (0: all) certificates of a course
// with codes after the given one, in code order: the buckets from that code
// on, and a point read per certificate.
func (db *DB) CourseCertificates(ctx context.Context, course, after string, limit int) ([]certificates.Certificate, error) {
	var out []certificates.Certificate
	err := db.courseCerts(course).Scan(ctx, after, func(r Row) (bool, error) {
		if r.Key == after {
			return true, nil
		}
		c, err := db.Certificate(ctx, r.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		out = append(out, *c)
		return limit <= 0 || len(out) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: course certificates: %w", err)
	}
	return out, nil
}

// ExpiringCertificates returns issued, unrevoked certificates that expire
// in [from, to] (London dates): the expiry buckets of those months and a
// point read per certificate in the range.
func (db *DB) ExpiringCertificates(ctx context.Context, from, to time.Time) ([]certificates.Certificate, error) {
	start := from.In(compliance.London).Format("2006-01-02")
	end := to.In(compliance.London).Format("2006-01-02")
	var out []certificates.Certificate
	err := db.certExpiries().Scan(ctx, start, func(r Row) (bool, error) {
		if day, _, _ := strings.Cut(r.Sort, "/"); day > end {
			return false, nil
		}
		c, err := db.Certificate(ctx, r.Key)
		if errs.Is(err, errs.ENOTFOUND) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if c.Status == certificates.StatusIssued && c.Revoked == nil && c.ExpiresAt != nil &&
			!c.ExpiresAt.Before(from) && !c.ExpiresAt.After(to) {
			c.QR = nil
			out = append(out, *c)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expiring certificates: %w", err)
	}
	return out, nil
}

// Completions.

func (db *DB) completions(course, version string) list {
	name := "completions@" + course
	if version != "" {
		name += "@" + version
	}
	return db.list(name, completionsSpec)
}

func (db *DB) completionVersions(course string) list {
	return db.list("completion-versions@"+course, versionsSpec)
}

type completionRow struct {
	Version string `bson:"v"`
}

func completionSort(e *learning.Enrolment, c *learning.Completion) string {
	return timeKey(c.At) + "/" + e.ID
}

// indexCompletion enters a completion in the course's lists (before it is
// recorded on the enrolment).
func (db *DB) indexCompletion(ctx context.Context, e *learning.Enrolment, c *learning.Completion) error {
	if err := db.completionVersions(e.Course).Add(ctx, c.CourseVersion, c.CourseVersion, struct{}{}); err != nil {
		return err
	}
	sort := completionSort(e, c)
	for _, v := range []string{"", c.CourseVersion} {
		if err := db.completions(e.Course, v).Add(ctx, e.ID, sort, completionRow{Version: c.CourseVersion}); err != nil {
			return err
		}
	}
	return nil
}

// unindexCompletion removes a replaced (or erased) completion's rows.
func (db *DB) unindexCompletion(ctx context.Context, e *learning.Enrolment, c *learning.Completion) error {
	sort := completionSort(e, c)
	for _, v := range []string{"", c.CourseVersion} {
		if err := db.completions(e.Course, v).Remove(ctx, e.ID, sort); err != nil {
			return err
		}
	}
	return nil
}

// CompletionVersions counts a course's completions per version, newest
// version first (directory reads only).
func (db *DB) CompletionVersions(ctx context.Context, course string) ([]learning.VersionCount, error) {
	var out []learning.VersionCount
	err := db.completionVersions(course).Scan(ctx, "", func(r Row) (bool, error) {
		n, err := db.completions(course, r.Key).Count(ctx)
		if err != nil {
			return false, err
		}
		if n > 0 {
			out = append(out, learning.VersionCount{Version: r.Key, Count: n})
		}
		return true, nil
	})
	return out, err
}

// CompletionsPage returns a page of the enrolments in a course (of one
// version, unless it is "") that have a completion, newest completion
// first, and how many there are: a directory read, the buckets the page
// falls in and a point read per enrolment. limit 0 returns all.
func (db *DB) CompletionsPage(ctx context.Context, course, version string, offset, limit int) ([]learning.Enrolment, int, error) {
	l := db.completions(course, version)
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, total, err := l.Page(ctx, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: completions of %s: %w", course, err)
	}
	es, err := readRows[learning.Enrolment](ctx, db, colEnrolments, rows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]learning.Enrolment, 0, len(rows))
	for i, e := range es {
		// A row left by a completion since replaced is not shown.
		if e == nil || e.Completion == nil || completionSort(e, e.Completion) != rows[i].Sort {
			continue
		}
		out = append(out, *e)
	}
	return out, total, nil
}
