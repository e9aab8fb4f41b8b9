package server

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/learning"
)

const usersPerPage = 25

// adminHomePage is the page struct for GET /admin.
type adminHomePage struct {
	basePage
	Users, Admins int
}

// handleAdminHome handles GET /admin.
func (s *Server) handleAdminHome(c *fiber.Ctx) error {
	ctx := c.UserContext()
	n, err := s.auth.CountUsers(ctx)
	if err != nil {
		return err
	}
	a, err := s.auth.CountAdmins(ctx)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "admin_home", &adminHomePage{basePage: basePage{Title: "Administration"}, Users: n, Admins: a})
}

// adminUsersPage is the page struct for GET /admin/users.
type adminUsersPage struct {
	basePage
	Query    string
	Org      string // organisation filter (ID)
	Role     string // role filter
	Users    []auth.User
	Orgs     map[string]string
	OrgList  []auth.Organisation
	Roles    []auth.Role
	Pager    pager
	Filtered bool
}

// handleAdminUsers handles GET /admin/users?q=&org=&role=&page=: people by
// name, searched by the start of any word of a name or email, filtered by
// organisation and role.
func (s *Server) handleAdminUsers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := strings.TrimSpace(c.Query("q"))
	org, role := c.Query("org"), auth.Role(c.Query("role"))
	if role != "" && !slices.Contains(auth.AllRoles, role) {
		role = ""
	}
	orgList, err := s.auth.Organisations(ctx)
	if err != nil {
		return err
	}
	orgs := make(map[string]string, len(orgList))
	for _, o := range orgList {
		orgs[o.ID] = o.Name
	}
	if _, ok := orgs[org]; !ok {
		org = ""
	}
	users, total, err := s.auth.ListUsers(ctx, auth.UserQuery{Search: q, OrgID: org, Role: role, Offset: pageOffset(c, usersPerPage), Limit: usersPerPage})
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "admin_users", &adminUsersPage{basePage: basePage{Title: "Users"}, Query: q, Org: org, Role: string(role),
		Users: users, Orgs: orgs, OrgList: orgList, Roles: auth.AllRoles, Pager: newPager(c, usersPerPage, total), Filtered: q != "" || org != "" || role != ""})
}

func (s *Server) orgNames(c *fiber.Ctx) (map[string]string, error) {
	orgs, err := s.auth.Organisations(c.UserContext())
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(orgs))
	for _, o := range orgs {
		m[o.ID] = o.Name
	}
	return m, nil
}

// adminUserPage is the page struct for GET /admin/users/:id: what a
// support call needs about a person, and what can be done for them.
type adminUserPage struct {
	basePage
	NoShows  int // live sessions booked and missed
	Account  *auth.User
	Self     bool // the viewer's own account
	OrgName  string
	Orgs     []auth.Organisation
	Roles    []auth.Role
	Form     *formState // roles and organisation
	Reset2FA *formState // the reason for resetting two-factor
	// Invitation, for an account an administrator added.
	Invitation      auth.InvitationState
	InvitedBy       string // who sent the newest link
	SignIns         *auth.SignIns
	InProgress      []learning.Progress
	Completed       []learning.Progress
	Certificates    []userCertificate
	Advocate        *compliance.Advocate // their compliance record, if they are an advocate with one
	AdvocateMissing bool                 // the Advocate role without a compliance record
}

// userCertificate is one of a person's certificates and its state.
type userCertificate struct {
	certificates.Certificate
	State certificates.State
}

// handleAdminUser handles GET /admin/users/:id.
func (s *Server) handleAdminUser(c *fiber.Ctx) error {
	return s.renderAdminUser(c, fiber.StatusOK, nil, nil)
}

// renderAdminUser renders the person's page; f and reset are the forms
// sent back with problems (nil: fresh ones). Everything on it is a point
// read or a read of the person's own lists (sessions, enrolments by
// course, certificates from them).
func (s *Server) renderAdminUser(c *fiber.Ctx, status int, f, reset *formState) error {
	ctx := c.UserContext()
	u, err := s.auth.User(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	orgs, err := s.auth.Organisations(ctx)
	if err != nil {
		return err
	}
	if f == nil {
		f = emptyForm(map[string]string{"org": u.OrgID})
	}
	if reset == nil {
		reset = emptyForm(nil)
	}
	p := &adminUserPage{basePage: basePage{Title: u.Name}, Account: u, Self: u.ID == viewerOf(c).ID, Orgs: orgs, Roles: auth.AllRoles, Form: f, Reset2FA: reset,
		Invitation: u.InvitationState(s.now())}
	for _, o := range orgs {
		if o.ID == u.OrgID {
			p.OrgName = o.Name
		}
	}
	if u.Invitation != nil && u.Invitation.ByID != "" {
		if by, err := s.auth.User(ctx, u.Invitation.ByID); err == nil {
			p.InvitedBy = by.Name
		}
	}
	if p.SignIns, err = s.auth.SignInsOf(ctx, u.ID); err != nil {
		return err
	}
	if p.InProgress, p.Completed, _, err = s.learn.MyLearning(ctx, u.ID); err != nil {
		return err
	}
	if p.NoShows, err = s.live.NoShows(ctx, u.ID); err != nil {
		return err
	}
	certs, err := s.certs.ForUser(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, cert := range certs {
		p.Certificates = append(p.Certificates, userCertificate{Certificate: cert, State: certificates.StateOf(&cert, s.now())})
	}
	if u.HasRole(auth.RoleAdvocate) && s.comply != nil {
		a, err := s.comply.Get(ctx, viewerOf(c).user, u.ID)
		switch {
		case err == nil:
			p.Advocate = a
		case errs.Is(err, errs.ENOTFOUND):
			p.AdvocateMissing = true
		case errs.Is(err, errs.EFORBIDDEN): // their own record: seen on My compliance
		default:
			return err
		}
	}
	return s.render(c, status, "admin_user", p)
}

// handleAdminUserUpdate handles POST /admin/users/:id: roles and organisation.
func (s *Server) handleAdminUserUpdate(c *fiber.Ctx) error {
	id := c.Params("id")
	f := newForm(c, "roles", "org")
	var roles []auth.Role
	for _, r := range c.Request().PostArgs().PeekMulti("roles") {
		roles = append(roles, auth.Role(r))
	}
	if err := s.auth.SetRolesAndOrg(c.UserContext(), id, roles, f.Get("org")); err != nil {
		if f.absorb(err) {
			return s.renderAdminUser(c, statusFor(err), f, nil)
		}
		return err
	}
	s.sessions.dropUser(id)
	return s.redirectWith(c, "/admin/users/"+id, flash{Kind: "success", Text: "Roles and organisation saved."})
}

// handleAdminUserDisable handles POST /admin/users/:id/disable and /enable.
func (s *Server) handleAdminUserDisable(c *fiber.Ctx) error {
	id := c.Params("id")
	disable := strings.HasSuffix(c.Path(), "/disable")
	if disable && id == viewerOf(c).ID {
		return errs.E(errs.ECONFLICT, "You cannot disable your own account.")
	}
	if err := s.auth.SetDisabled(c.UserContext(), id, disable); err != nil {
		return err
	}
	s.sessions.dropUser(id)
	msg := "The account has been enabled."
	if disable {
		msg = "The account has been disabled and signed out everywhere."
	}
	return s.redirectWith(c, "/admin/users/"+id, flash{Kind: "success", Text: msg})
}

// adminOrgsPage is the page struct for GET /admin/organisations.
type adminOrgsPage struct {
	basePage
	Orgs []auth.Organisation
	Form *formState
}

// handleAdminOrgs handles GET /admin/organisations.
func (s *Server) handleAdminOrgs(c *fiber.Ctx) error {
	return s.renderAdminOrgs(c, fiber.StatusOK, emptyForm(map[string]string{"kind": string(auth.OrgPartner)}))
}

func (s *Server) renderAdminOrgs(c *fiber.Ctx, status int, f *formState) error {
	orgs, err := s.auth.Organisations(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, status, "admin_orgs", &adminOrgsPage{basePage: basePage{Title: "Organisations"}, Orgs: orgs, Form: f})
}

// handleAdminOrgCreate handles POST /admin/organisations.
func (s *Server) handleAdminOrgCreate(c *fiber.Ctx) error {
	f := newForm(c, "name", "kind")
	o, err := s.auth.CreateOrg(c.UserContext(), f.Get("name"), auth.OrgKind(f.Get("kind")))
	if err != nil {
		if f.absorb(err) {
			return s.renderAdminOrgs(c, statusFor(err), f)
		}
		return err
	}
	return s.redirectWith(c, "/admin/organisations", flash{Kind: "success", Text: o.Name + " has been added."})
}
