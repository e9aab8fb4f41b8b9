package app

import (
	"context"
	"fmt"
	"io"

	"github.com/family-advocacy/lms/internal/auth"
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
	for _, a := range demoAccounts {
		if _, err := svc.Auth.CreateUser(ctx, a.Email, a.Name, hash, org.ID, a.Job, a.Roles); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Demo data created. Sign in at the address below with any of these accounts:")
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-26s %-20s password: %s\n", a.Email, fmt.Sprint(a.Roles), DemoPassword)
	}
	fmt.Fprintln(out, "The manager and admin accounts are asked to set up two-factor authentication (any TOTP app) at first sign-in.")
	return nil
}
