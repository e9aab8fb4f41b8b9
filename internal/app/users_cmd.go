package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"strings"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/store"
)

// usersCommand runs `lms users create ...`.
func usersCommand(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: lms users create --email E --name N [--role admin] [--org NAME] [--password-stdin]"}
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "learner", "role: learner, advocate, manager or admin")
	orgName := fs.String("org", "", "organisation name (default: the advocacy service, created if missing)")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	e, ok := auth.NormaliseEmail(*email)
	if !ok || strings.TrimSpace(*name) == "" {
		return usageError{"--email (a valid address) and --name are required"}
	}
	r := auth.Role(*role)
	if !containsRole(auth.AllRoles, r) {
		return usageError{fmt.Sprintf("--role %q: want learner, advocate, manager or admin", *role)}
	}
	cfg, err := config.Load(nil, env.Getenv, env.Stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(cfg, env.Stderr)
	db, err := store.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, cfg.DataDir, log)
	if err != nil {
		return fmt.Errorf("cannot reach the database: %w", err)
	}
	defer db.Close(context.Background())
	key, _, err := secrets.LoadKey(cfg.SecretKey, cfg.DataDir+"/secret.key")
	if err != nil {
		return err
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return err
	}
	svc, err := NewServices(cfg, learning.NewCatalogue(nil), db, nil, box, env.Clock, log, nil)
	if err != nil {
		return err
	}

	password := ""
	generated := false
	if *stdin {
		line, err := bufio.NewReader(envStdin(env)).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = generatePassword(), true
	}
	if msg := auth.CheckPassword(password, e, *name); msg != "" {
		return usageError{"password: " + msg}
	}
	orgID, err := findOrCreateOrg(ctx, svc, db, *orgName)
	if err != nil {
		return err
	}
	roles := []auth.Role{auth.RoleLearner}
	if r != auth.RoleLearner {
		roles = append(roles, r)
	}
	u, err := svc.Auth.CreateUser(ctx, e, auth.NormaliseName(*name), auth.HashPassword(password), orgID, auth.JobOther, roles)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created %s <%s> with roles %s.\n", u.Name, u.Email, auth.RoleLabels(u.Roles))
	if generated {
		fmt.Fprintf(env.Stdout, "Password (shown once; change it after signing in): %s\n", password)
	}
	if u.NeedsTwoFactor() {
		fmt.Fprintln(env.Stdout, "Two-factor authentication will be set up at first sign-in.")
	}
	return nil
}

func containsRole(rs []auth.Role, r auth.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func findOrCreateOrg(ctx context.Context, svc *Services, db *store.DB, name string) (string, error) {
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return "", err
	}
	for _, o := range orgs {
		if (name == "" && o.Kind == auth.OrgService) || (name != "" && strings.EqualFold(o.Name, name)) {
			return o.ID, nil
		}
	}
	kind := auth.OrgPartner
	if name == "" {
		name, kind = "Family Advocacy Service", auth.OrgService
	}
	o, err := svc.Auth.CreateOrg(ctx, name, kind)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// generatePassword returns four random words' worth of entropy as
// lower-case letters in groups, e.g. "kdmw-qpza-rtey-bhnc-lsvo".
func generatePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyz"
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(x)%len(alphabet)])
	}
	return sb.String()
}
