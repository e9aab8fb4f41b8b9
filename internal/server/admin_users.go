package server

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
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

// adminUserPage is the page struct for GET /admin/users/:id.
type adminUserPage struct {
	basePage
	Account *auth.User
	Orgs    []auth.Organisation
	Roles   []auth.Role
	Form    *formState
}

// handleAdminUser handles GET /admin/users/:id.
func (s *Server) handleAdminUser(c *fiber.Ctx) error {
	return s.renderAdminUser(c, fiber.StatusOK, nil)
}

func (s *Server) renderAdminUser(c *fiber.Ctx, status int, f *formState) error {
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
	return s.render(c, status, "admin_user", &adminUserPage{basePage: basePage{Title: u.Name}, Account: u, Orgs: orgs, Roles: auth.AllRoles, Form: f})
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
			return s.renderAdminUser(c, statusFor(err), f)
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
