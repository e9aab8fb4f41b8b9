package server

import (
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/privacy"
	"github.com/family-advocacy/lms/internal/store"
)

func init() {
	req := &store.RightsRequest{ID: "r1", Kind: privacy.RightsErasure, Requester: "Eve", Contact: "eve@example.org", How: "email", UserID: "u1",
		Received: now, Due: now.AddDate(0, 1, 0), Status: privacy.RightsReceived, Steps: []store.RightsStep{{At: now, By: "Adam", Status: privacy.RightsReceived, Note: "n"}}}
	row := rightsRow{RightsRequest: req, Kind: "Erasure: delete their data", How: "Email", Status: "Received", DaysLeft: 3, DueText: "in 3 days", Person: "Eve"}
	moreSamples["admin_rights"] = func() page {
		return &rightsPage{Open: []rightsRow{row}, All: []rightsRow{row}, Pager: pager{Page: 1, PerPage: 25, Total: 1}}
	}
	moreSamples["admin_rights_new"] = func() page {
		return &rightsNewPage{Form: withErrors("kind", "requester", "how"), Kinds: privacy.RightsKinds, Hows: privacy.RightsHows}
	}
	moreSamples["admin_right"] = func() page {
		return &rightsRequestPage{R: row, Account: sampleUser, Next: []privacy.Choice{{Value: privacy.RightsRefused, Label: "Refused"}}, Form: withErrors("status", "note")}
	}
}

func init() {
	moreSamples["training"] = func() page {
		exp := now.AddDate(0, 1, 0)
		return &trainingPage{Rows: []trainingRow{{User: *sampleUser, Job: "Domestic abuse worker",
			Certificates: []trainingCert{{Certificate: certificates.Certificate{Code: "K7QX", CourseTitle: "Course", ExpiresAt: &exp}, State: certificates.StateValid, Soon: true, Until: "until 3 March 2027 (in 20 days)"}}}},
			Pager: pager{Page: 1, PerPage: 25, Total: 1}, OrgName: "Women's Aid", Orgs: []auth.Organisation{{ID: "o1", Name: "Org"}}, OrgID: "o1", Soon: 1}
	}
}
