package main

import (
	"bytes"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"sort"
	"time"

	"github.com/family-advocacy/lms/internal/compliance"
)

// Page timings: each kind of page a person opens, the first page of every
// admin list with each of its searches and filters, ~20 sequential
// requests after 2 warm-ups.
const (
	pageSamples = 20
	pageWarmups = 2
	// A slow kind stops early: after this much time in samples (and at
	// least 3 of them), or after one sample this slow.
	pageBudget = 30 * time.Second
)

// pageKind is one kind of page: a name for its line and how to ask for it.
type pageKind struct {
	name string
	req  func() *http.Request
}

func (s *scaleBench) pageKinds(p *scalePeople) ([]pageKind, error) {
	cat := s.app.svc.Learn.Catalogue.All()
	c := cat[0]
	lesson := c.Lessons[min(1, len(c.Lessons)-1)].Name
	get := func(name, path, cookie string) pageKind {
		return pageKind{name, func() *http.Request { return s.request("GET", path, cookie, nil) }}
	}
	upload, err := s.uploadRequest(p.pdf)
	if err != nil {
		return nil, err
	}
	now := s.app.clock().In(compliance.London)
	from, to := now.AddDate(0, 0, -60).Format(time.DateOnly), now.AddDate(0, 0, -30).Format(time.DateOnly)
	m := s.meta
	q := url.QueryEscape
	completions := "/admin/courses/" + m.CompletionOf + "/completions"
	return []pageKind{
		get("home", "/", ""),
		get("catalogue", "/courses", ""),
		get("course", "/courses/"+c.Slug, p.learner),
		get("lesson", "/courses/"+c.Slug+"/lessons/"+lesson, p.learner),
		get("my_learning", "/my/learning", p.learner),
		get("my_certificates", "/my/certificates", p.learner),
		get("verify_code", "/verify/"+m.Codes[0], ""),
		{"verify_upload", upload},
		get("account", "/account", p.learner),
		get("notifications", "/notifications", p.learner),
		get("dashboard", "/manage", p.manager),
		get("dashboard_filtered", "/manage?filter=due90&sort=next-due&page=2", p.manager),
		get("dashboard_search", "/manage?q="+q(m.SearchWord)+"&requirement=cpd", p.manager),
		get("admin_home", "/admin", p.admin),
		get("admin_users", "/admin/users", p.admin),
		get("admin_users_search_name", "/admin/users?q="+q(m.SearchWord), p.admin),
		get("admin_users_search_email", "/admin/users?q="+q(m.SearchEmail), p.admin),
		get("admin_users_org", "/admin/users?org="+q(m.PartnerOrg), p.admin),
		get("admin_users_role", "/admin/users?role=manager", p.admin),
		get("admin_users_filtered", "/admin/users?q="+q(m.SearchWord)+"&org="+q(m.MainOrg)+"&role=learner", p.admin),
		get("admin_organisations", "/admin/organisations", p.admin),
		get("admin_certificates", "/admin/certificates", p.admin),
		get("admin_completions", completions, p.admin),
		get("admin_completions_version", completions+"?version="+q(m.OldVersion), p.admin),
		get("admin_outbox", "/admin/outbox", p.admin),
		get("admin_outbox_to", "/admin/outbox?to="+q(m.SearchEmail), p.admin),
		get("admin_audit", "/admin/audit", p.admin),
		get("admin_audit_action", "/admin/audit?action=cpd.create", p.admin),
		get("admin_audit_actor", "/admin/audit?actor="+q(m.ActorName), p.admin),
		get("admin_audit_target", "/admin/audit?target="+q("advocate:"+m.Advocate), p.admin),
		get("admin_audit_dates", "/admin/audit?from="+from+"&to="+to, p.admin),
		get("admin_retention", "/admin/retention", p.admin),
		get("admin_user", "/admin/users/"+m.ExportUser, p.admin),
		get("admin_erase_plan", "/admin/users/"+m.EraseUser+"/erase", p.admin),
		get("admin_rights", "/admin/rights", p.admin),
		get("admin_unlisted", "/admin/organisations/unlisted", p.admin),
		get("admin_content_review", "/admin/content-review", p.admin),
		get("lapsing", "/manage/lapsing?within=90", p.manager),
		get("training", "/manage/training", p.manager),
		get("join_requests", "/manage/join-requests", p.manager),
		// The impact report reads 12 months x 16 shard documents of the
		// course's evaluations, whatever the number of learners.
		get("impact_report", "/manage/impact?course="+q(c.Slug), p.admin),
		get("impact_report_org", "/manage/impact?course="+q(c.Slug)+"&org="+q(m.PartnerOrg), p.admin),
		get("impact_report_manager", "/manage/impact?course="+q(c.Slug), p.manager),
	}, nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// uploadRequest returns how to ask the public verification page about an
// uploaded file: a visitor who opened /verify (and so holds its CSRF
// cookie and token) uploading the PDF.
func (s *scaleBench) uploadRequest(pdf []byte) (func() *http.Request, error) {
	r := fetch(s.request("GET", "/verify", "", nil))
	if err := r.problem("the verification page", 200); err != nil {
		return nil, err
	}
	m := csrfField.FindSubmatch(r.body)
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on /verify")
	}
	var cookie string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "lms_anon" {
			cookie = c.Name + "=" + c.Value
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("_csrf", string(m[1])); err != nil {
		return nil, err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="certificate.pdf"`)
	h.Set("Content-Type", "application/pdf")
	fw, err := mw.CreatePart(h)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(pdf); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	form, contentType := body.Bytes(), mw.FormDataContentType()
	return func() *http.Request {
		req := s.request("POST", "/verify/file", cookie, bytes.NewReader(form))
		req.Header.Set("Content-Type", contentType)
		return req
	}, nil
}

// pages measures every kind of page and returns the worst p95; false when
// some page did not answer 200 (the run fails, saying which).
func (s *scaleBench) pages(p *scalePeople) (float64, bool) {
	kinds, err := s.pageKinds(p)
	if err != nil {
		s.fail(err)
		return 0, false
	}
	worst, ok := 0.0, true
	for _, k := range kinds {
		s.settle()
		p95, n, err := measurePage(k)
		if p95 >= ms(scaleTimeout) {
			s.cut.Store(true)
		}
		if err != nil {
			s.fail(err)
			ok = false
			continue
		}
		if n < pageSamples {
			fmt.Fprintf(os.Stderr, "lmsbench: %s is slow: p95 of %d requests\n", k.name, n)
		}
		s.info("scale_page_p95", k.name, p95, "ms")
		worst = math.Max(worst, p95)
	}
	return worst, ok
}

// measurePage returns the p95 of a kind's requests and how many there were.
func measurePage(k pageKind) (float64, int, error) {
	for i := 0; i < pageWarmups; i++ {
		r := fetch(k.req())
		if r.timedOut {
			return r.ms(), 1, nil
		}
		if err := r.problem(k.name, 200); err != nil {
			return 0, 0, err
		}
		if r.took > pageBudget/3 {
			break // warm enough: it will not get fast
		}
	}
	var samples []float64
	var spent time.Duration
	for len(samples) < pageSamples {
		r := fetch(k.req())
		if r.timedOut {
			samples = append(samples, r.ms())
			break
		}
		if err := r.problem(k.name, 200); err != nil {
			return 0, 0, err
		}
		samples = append(samples, r.ms())
		spent += r.took
		if r.took > pageBudget || spent > pageBudget && len(samples) >= 3 {
			break
		}
	}
	return percentile(samples, 0.95), len(samples), nil
}

// percentile returns the nearest-rank q-th percentile of xs.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}
