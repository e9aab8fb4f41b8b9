package server

import (
	"bytes"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/learning"
)

// Sample pages of the catalogue with a search, registration with an
// unlisted organisation, the admins' page of typed organisations and My
// certificates with its share controls (issue 17, points 7-9).
func init() {
	moreSamples["catalogue"] = func() page {
		course, _ := courses.Load(os.DirFS("../../courses/testdata"), "sample-course")
		hit := &learning.SearchHit{Course: course, Score: 1, Lessons: []learning.LessonHit{{Lesson: &course.Lessons[1], Number: 2,
			Snippet: []learning.SnippetPart{{Text: "… goes to the "}, {Text: "meeting", Match: true}, {Text: " with Sam …"}}}}}
		return &cataloguePage{Courses: []*courses.Course{course}, Audiences: []audienceOption{{Value: "advocate", Label: "Advocates", Selected: true}},
			Audience: "advocate", Query: "meeting", Hits: map[string]*learning.SearchHit{course.Slug: hit}, ForRole: map[string]bool{course.Slug: true}, RoleLabel: "advocates", Total: 3}
	}
	moreSamples["register"] = func() page {
		return &registerPage{formPage: formPage{Form: withErrors("name", "email", "password", "org", "org_name", "job_role")},
			Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, JobRoles: auth.JobRoles, NoOrg: auth.NoOrganisation, Verify: true}
	}
	moreSamples["admin_unlisted"] = func() page { return sampleUnlisted(false) }
	moreSamples["my_certificates"] = func() page {
		exp := now.AddDate(1, 0, 0)
		cert := certificates.Certificate{Code: "K7QX-M2PA-HW9D-R3", Name: "Zoë Ørsted", Course: "sample-course", CourseTitle: "Sample & <course>", CourseVersion: "2026-11-01",
			CompletedAt: now, CPDHours: 0.5, ExpiresAt: &exp, Status: certificates.StatusIssued, IssuedAt: now}
		revoked := cert
		revoked.Code, revoked.Revoked = "REVK-0000-0000-00", &certificates.Revocation{At: now, Reason: "other"}
		return &myCertificatesPage{AccountName: "Zoë Ørsted", Certificates: []certView{
			{Certificate: cert, State: certificates.StateValid, Share: shareOf(&cert, "https://lms.example", "Family Advocacy Service")},
			{Certificate: revoked, State: certificates.StateRevoked}}}
	}
}

// sampleUnlisted is the admins' page of typed organisations: the list
// (with a merge under way and a merge sent back with a problem), or one
// name's accounts.
func sampleUnlisted(one bool) *unlistedPage {
	f := emptyForm(map[string]string{"name": "womens aid leeds"})
	f.ID, f.Order, f.Errors["org"] = "merge-sent", []string{"org"}, "Choose the partner organisation to merge into"
	merging := &auth.UnlistedName{Key: "leeds dv", Name: "Leeds DV", Accounts: 2, Merge: &auth.UnlistedMerge{OrgID: "o2", Started: now}}
	p := &unlistedPage{Names: []*auth.UnlistedName{{Key: "womens aid leeds", Name: "Women's Aid Leeds", Accounts: 3}, merging},
		Pager: pager{Page: 1, PerPage: 25, Total: 2}, Partners: []auth.Organisation{{ID: "o2", Name: "Partner", Kind: auth.OrgPartner}},
		OrgNames: map[string]string{"o1": "Org", "o2": "Partner"}, Form: f}
	if one {
		p.Names, p.Form, p.Name = nil, nil, merging
		p.Accounts = []auth.UnlistedAccount{{UserID: "u1", Listed: now, User: sampleUser}, {UserID: "u2", Listed: now}}
	}
	return p
}

// TestUnlistedPageRendersOneName renders the second view of the typed
// organisations' page, which the one sample per template does not.
func TestUnlistedPageRendersOneName(t *testing.T) {
	s := newBareServer(t)
	p := sampleUnlisted(true)
	p.User = &viewer{ID: "u1", Name: "Sample Person", Roles: []string{"learner", "admin"}}
	var buf bytes.Buffer
	if err := s.tmpl.pages["admin_unlisted"].ExecuteTemplate(&buf, "layout", p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"“Leeds DV”", "Continue the merge", "Account being created", sampleUser.Email, `value="leeds dv"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("one name's page lacks %q", want)
		}
	}
}

// TestLinkedInURLWithoutExpiry: a certificate that does not expire sends
// no expiry parameters; the month is London's (a completion late on 31
// December in summer time is still that month), and names are escaped.
func TestLinkedInURLWithoutExpiry(t *testing.T) {
	issued := time.Date(2026, 7, 31, 23, 30, 0, 0, time.UTC) // 00:30 on 1 August in London
	got := linkedInURL("Child law & you: 100% “essentials”", "Family Advocacy Service", "https://lms.example/verify/AB-CD", "AB-CD", issued, nil)
	want := "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=Child%20law%20%26%20you%3A%20100%25%20%E2%80%9Cessentials%E2%80%9D" +
		"&organizationName=Family%20Advocacy%20Service&issueYear=2026&issueMonth=8&certUrl=https%3A%2F%2Flms.example%2Fverify%2FAB-CD&certId=AB-CD"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("name") != "Child law & you: 100% “essentials”" || q.Has("expirationYear") || q.Has("expirationMonth") {
		t.Errorf("parameters: %v", q)
	}
}
