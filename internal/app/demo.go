package app

import (
	"context"
	"fmt"
	"io"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/store"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "demo-family-advocacy-2026"

// demoAccounts are seeded into an empty database when LMS_DEMO is on.
var demoAccounts = []struct {
	Email, Name string
	Job         auth.JobRole
	Roles       []auth.Role
}{
	{"learner@demo.example", "Lena Learner", auth.JobMentalHealth, []auth.Role{auth.RoleLearner}},
	{"advocate1@demo.example", "Amira Advocate", auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate}},
	{"advocate2@demo.example", "Ben Advocate", auth.JobAdvocate, []auth.Role{auth.RoleLearner, auth.RoleAdvocate}},
	{"manager@demo.example", "Maya Manager", auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleManager}},
	{"admin@demo.example", "Adam Admin", auth.JobOther, []auth.Role{auth.RoleLearner, auth.RoleAdmin}},
}

// seedDemo creates a demo organisation, a partner agency and the demo
// accounts when the database has no accounts, and prints the logins.
func seedDemo(ctx context.Context, svc *Services, db *store.DB, out io.Writer) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	org, err := svc.Auth.CreateOrg(ctx, "Demo Family Advocacy Service", auth.OrgService)
	if err != nil {
		return err
	}
	if _, err := svc.Auth.CreateOrg(ctx, "Demo Women's Aid Partnership", auth.OrgPartner); err != nil {
		return err
	}
	hash := auth.HashPassword(DemoPassword)
	users := map[string]*auth.User{}
	for _, a := range demoAccounts {
		u, err := svc.Auth.CreateUser(ctx, a.Email, a.Name, hash, org.ID, a.Job, a.Roles)
		if err != nil {
			return err
		}
		users[a.Email] = u
	}
	if err := seedDemoAdvocates(ctx, svc, users); err != nil {
		return err
	}
	fmt.Fprintln(out, "Demo data created. Sign in at the address below with any of these accounts:")
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-26s %-20s password: %s\n", a.Email, fmt.Sprint(a.Roles), DemoPassword)
	}
	fmt.Fprintln(out, "The manager and admin accounts are asked to set up two-factor authentication (any TOTP app) at first sign-in.")
	return nil
}

// seedDemoAdvocates gives the two demo advocates compliance records: one
// nearly cleared (mandatory training to do), one with a DBS recheck due
// soon and a reference missing.
func seedDemoAdvocates(ctx context.Context, svc *Services, users map[string]*auth.User) error {
	if svc.Comply == nil {
		return nil
	}
	manager := users["manager@demo.example"]
	now := svc.Comply.Now().In(compliance.London)
	date := func(months int) string { return now.AddDate(0, months, 0).Format("2006-01-02") }
	for _, d := range []struct {
		email, profession string
		dbsMonthsAgo      int
		references        int
	}{
		{"advocate1@demo.example", compliance.OtherAdvocate, -10, 2},
		{"advocate2@demo.example", compliance.SocialWorker, -35, 1},
	} {
		u := users[d.email]
		start, _ := compliance.ParseDate(date(-9))
		reg, _ := compliance.ParseDate(date(8))
		p := compliance.Advocate{Profession: d.profession, Status: compliance.StatusActive, ManagerID: manager.ID, ContractStart: start}
		if d.profession == compliance.SocialWorker {
			p.ProfessionalBody, p.RegistrationNo, p.RegistrationDue = "Social Work England", "SW123456", reg
		}
		if _, err := svc.Comply.CreateForUser(ctx, manager, u, p); err != nil {
			return err
		}
		if _, err := svc.Comply.AddDBS(ctx, manager, u.ID, compliance.DBSForm{Level: "enhanced", RoleEligible: "eligible", Workforce: "child", CertificateNumber: "001234567890",
			IssueDate: date(d.dbsMonthsAgo), OriginalSeenBy: manager.Name, OriginalSeenAt: date(d.dbsMonthsAgo), Decision: "clear", BarredChildren: true}, nil); err != nil {
			return err
		}
		for i := 0; i < d.references; i++ {
			if _, err := svc.Comply.AddReference(ctx, manager, u.ID, compliance.ReferenceForm{Referee: []string{"Jo Brown", "Sam Patel"}[i],
				Relationship: "Former line manager", Contact: "referee@example.org", RequestedAt: date(-11), ReceivedAt: date(-10),
				Outcome: "satisfactory", VerifiedDirectly: true}); err != nil {
				return err
			}
		}
		if d.references < 2 { // one more asked for, not back yet
			if _, err := svc.Comply.AddReference(ctx, manager, u.ID, compliance.ReferenceForm{Referee: "Alex Green",
				Relationship: "Former team leader", Contact: "alex.green@example.org", RequestedAt: date(-1)}); err != nil {
				return err
			}
		}
		if _, err := svc.Comply.AddSupervision(ctx, manager, u.ID, compliance.SupervisionForm{Date: now.AddDate(0, 0, -20).Format("2006-01-02"),
			Supervisor: manager.Name, Kind: "individual", Notes: "Demo supervision."}); err != nil {
			return err
		}
		if _, err := svc.Comply.AddCPD(ctx, manager, u.ID, compliance.CPDForm{Date: date(-2), Title: "Local authority child protection procedures update",
			Type: "reading", Hours: "3", Learnt: "Changes to our local conference timescales.", Impact: "I prepare parents earlier."}, nil); err != nil {
			return err
		}
	}
	return nil
}
