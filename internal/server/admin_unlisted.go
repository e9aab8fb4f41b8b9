package server

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// Organisations people typed at registration because they were not listed:
// each name with how many accounts gave it, who they are, and "merge into"
// a partner organisation, which asks each of them to join it (see
// auth/unlisted.go for why it does not add them outright).

const unlistedPerPage = 25

// unlistedPage is the page struct for GET /admin/organisations/unlisted
// (?name=<key> for one name's accounts).
type unlistedPage struct {
	basePage
	Names    []*auth.UnlistedName
	Pager    pager
	Partners []auth.Organisation // where a name can be merged
	OrgNames map[string]string   // every organisation's name, by ID
	// Form is a merge sent back with a problem: its "name" is the key of
	// the name it was for.
	Form *formState
	// One name and a page of the accounts that gave it (?name=).
	Name     *auth.UnlistedName
	Accounts []auth.UnlistedAccount
}

// MergeForm returns the merge form of the i-th name on the page (key): the
// one sent back with a problem, or an empty one.
func (p *unlistedPage) MergeForm(key string, i int) *formState {
	if p.Form != nil && p.Form.Get("name") == key {
		return p.Form
	}
	f := emptyForm(nil)
	f.ID = "merge-" + strconv.Itoa(i)
	return f
}

// mergeView is what the mergeForm template renders: the form of one name.
type mergeView struct {
	Page *unlistedPage
	Name *auth.UnlistedName
	Form *formState
	Back string // "name" on one name's page
}

// Merge returns the merge form of one name (template helper).
func (p *unlistedPage) Merge(n *auth.UnlistedName, f *formState, back string) mergeView {
	return mergeView{Page: p, Name: n, Form: f, Back: back}
}

// Count says "1 account" or "n accounts" (template helper).
func (p *unlistedPage) Count(n int) string { return accountWord(n) }

func accountWord(n int) string {
	if n == 1 {
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", n)
}

// handleUnlistedOrgs handles GET /admin/organisations/unlisted.
func (s *Server) handleUnlistedOrgs(c *fiber.Ctx) error {
	return s.renderUnlisted(c, fiber.StatusOK, nil, c.Query("name"), pageOffset(c, unlistedPerPage))
}

// renderUnlisted renders the names from offset, or one name (key) and its
// accounts; f is a merge form sent back with a problem.
func (s *Server) renderUnlisted(c *fiber.Ctx, status int, f *formState, key string, offset int) error {
	ctx := c.UserContext()
	actor := viewerOf(c).user
	p := &unlistedPage{basePage: basePage{Title: "Organisations people typed"}, Form: f, OrgNames: map[string]string{}}
	orgs, err := s.auth.Organisations(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		p.OrgNames[o.ID] = o.Name
		if o.Kind == auth.OrgPartner {
			p.Partners = append(p.Partners, o)
		}
	}
	if key != "" {
		n, rows, err := s.auth.UnlistedName(ctx, actor, key, offset, unlistedPerPage)
		if errs.Is(err, errs.ENOTFOUND) {
			return s.redirectWith(c, "/admin/organisations/unlisted", flash{Kind: "info", Text: "No account gives that organisation any more: it may have been merged."})
		}
		if err != nil {
			return err
		}
		p.Name, p.Accounts, p.Title = n, rows, "“"+n.Name+"”"
		p.Pager = newPager(c, unlistedPerPage, n.Accounts)
		return s.render(c, status, "admin_unlisted", p)
	}
	names, total, err := s.auth.UnlistedNames(ctx, actor, offset, unlistedPerPage)
	if err != nil {
		return err
	}
	for i := range names {
		if names[i].Accounts > 0 || names[i].Merge != nil {
			p.Names = append(p.Names, &names[i])
		}
	}
	p.Pager = newPager(c, unlistedPerPage, total)
	return s.render(c, status, "admin_unlisted", p)
}

// handleUnlistedMerge handles POST /admin/organisations/unlisted/merge:
// each account that gave the name (form "name": its key) asks to join the
// partner organisation "org". Audited; a merge that stops part-way is
// continued by sending it again.
func (s *Server) handleUnlistedMerge(c *fiber.Ctx) error {
	f := newForm(c, "name", "org", "offset", "back")
	ctx := c.UserContext()
	res, err := s.auth.MergeUnlisted(ctx, viewerOf(c).user, f.Get("name"), f.Get("org"))
	switch {
	case errs.Is(err, errs.ENOTFOUND) || errs.CodeOf(err) == errs.ECONFLICT:
		return s.redirectWith(c, "/admin/organisations/unlisted", flash{Kind: "warning", Text: errs.MessageOf(err)})
	case err != nil && errs.Fields(err) != nil:
		// Back to the page the form was on, with the problem at its field.
		f.absorb(err)
		f.Order, f.ID = []string{"org"}, "merge-sent"
		key, offset := "", 0
		if f.Get("back") == "name" {
			key = f.Get("name")
		} else if n, err := strconv.Atoi(f.Get("offset")); err == nil && n > 0 && n < maxPage*unlistedPerPage {
			offset = n
		}
		return s.renderUnlisted(c, fiber.StatusUnprocessableEntity, f, key, offset)
	case err != nil:
		return err
	}
	text := fmt.Sprintf("%s that gave “%s” now %s to join %s. Its managers, or an administrator, approve each on Requests to join.",
		accountWord(res.Requests), res.Name, map[bool]string{true: "asks", false: "ask"}[res.Requests == 1], res.Org.Name)
	if res.Settled > 0 {
		text += fmt.Sprintf(" %s already in it, or already asking to join an organisation, kept as they were.", accountWord(res.Settled))
	}
	if res.Left > 0 {
		return s.redirectWith(c, "/admin/organisations/unlisted", flash{Kind: "warning",
			Text: text + fmt.Sprintf(" %s still to do: press “Continue the merge”.", accountWord(res.Left))})
	}
	return s.redirectWith(c, "/admin/organisations/unlisted", flash{Kind: "success", Text: text})
}
