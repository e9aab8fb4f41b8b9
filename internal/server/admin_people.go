package server

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
	"github.com/family-advocacy/lms/internal/people"
)

// Adding people (issue 17): one at a time with the form, or many from a
// CSV file, checked in a dry run that writes nothing before they are
// created. Each gets an invitation to choose a password.

// people returns the service that adds people. It holds nothing of its
// own, so it is made from the server's services when needed.
func (s *Server) people() *people.Service {
	budget := s.cfg.RequestTimeout / 2 // the rest of the request's time renders the answer
	if budget <= 0 {
		budget = 30 * time.Second
	}
	return &people.Service{Auth: s.auth, Comply: s.comply, Audit: s.audit, Log: s.log, Budget: budget}
}

// newPersonPage is the page struct for GET /admin/users/new.
type newPersonPage struct {
	basePage
	Form     *formState
	Orgs     []auth.Organisation
	Roles    []auth.Role // the roles offered as boxes (Advocate is the question below them)
	Chosen   []auth.Role // the boxes ticked
	Advocate string      // what the advocate role means
}

// handleNewPersonForm handles GET /admin/users/new.
func (s *Server) handleNewPersonForm(c *fiber.Ctx) error {
	return s.renderNewPerson(c, fiber.StatusOK, emptyForm(map[string]string{"advocate": "no", "org": c.Query("org")}), []auth.Role{auth.RoleLearner})
}

func (s *Server) renderNewPerson(c *fiber.Ctx, status int, f *formState, chosen []auth.Role) error {
	orgs, err := s.auth.Organisations(c.UserContext())
	if err != nil {
		return err
	}
	roles := slices.DeleteFunc(slices.Clone(auth.AllRoles), func(r auth.Role) bool { return r == auth.RoleAdvocate })
	return s.render(c, status, "admin_person_new", &newPersonPage{basePage: basePage{Title: "Add a person"}, Form: f, Orgs: orgs, Roles: roles,
		Chosen: chosen, Advocate: auth.RoleAdvocate.Description()})
}

// handleNewPerson handles POST /admin/users: adds the person and emails
// their invitation.
func (s *Server) handleNewPerson(c *fiber.Ctx) error {
	f := newForm(c, "name", "email", "roles", "org", "advocate")
	var roles []auth.Role
	for _, r := range c.Request().PostArgs().PeekMulti("roles") {
		if role := auth.Role(r); slices.Contains(auth.AllRoles, role) && role != auth.RoleAdvocate {
			roles = append(roles, role)
		}
	}
	adv := f.Get("advocate")
	p := people.Person{Name: f.Get("name"), Email: f.Get("email"), OrgID: f.Get("org"), Roles: roles, Advocate: adv == "yes"}
	orgs, err := s.auth.Organisations(c.UserContext())
	if err != nil {
		return err
	}
	// Every problem at once: the person's, and the question's.
	f.absorb(p.Validate(func(id string) bool {
		return slices.ContainsFunc(orgs, func(o auth.Organisation) bool { return o.ID == id })
	}))
	if adv != "yes" && adv != "no" {
		f.Errors["advocate"] = "Say whether they are one of our professional advocates"
	}
	if len(f.Errors) > 0 {
		return s.renderNewPerson(c, fiber.StatusUnprocessableEntity, f, roles)
	}
	u, notes, err := s.people().Add(c.UserContext(), viewerOf(c).user, p)
	if err != nil {
		if f.absorb(err) {
			return s.renderNewPerson(c, statusFor(err), f, roles)
		}
		return err
	}
	fl := flash{Kind: "success", Text: u.Name + " has been added. We have emailed " + u.Email + " an invitation to choose a password; the link works for 7 days."}
	if len(notes) > 0 {
		fl = flash{Kind: "warning", Text: u.Name + " has been added, but " + strings.Join(notes, "; ") + "."}
	}
	return s.redirectWith(c, "/admin/users/"+u.ID, fl)
}

// uploadPage is the page struct for /admin/users/upload: the form, a dry
// run's outcome, or a confirmation's.
type uploadPage struct {
	basePage
	Form    *formState
	Plan    *people.Plan
	Text    string // the file as read, base64, for the confirmation
	Columns []uploadColumn
	MaxRows int
}

// MaxRowsText is the limit on people in a file, as written: "1,000".
func (p *uploadPage) MaxRowsText() string {
	n := strconv.Itoa(p.MaxRows)
	for i := len(n) - 3; i > 0; i -= 3 {
		n = n[:i] + "," + n[i:]
	}
	return n
}

// uploadColumn describes one column of the file.
type uploadColumn struct{ Name, Says string }

// uploadColumns describes the file's columns on the form.
var uploadColumns = []uploadColumn{
	{"name", "The person's full name."},
	{"email", "Their email address: the invitation goes there, and it is how they sign in. One row per address."},
	{"roles", "Learner, Advocate, Manager or Administrator; several separated by semicolons. Empty means Learner."},
	{"organisation", "The name of one of your organisations, as on the Organisations page."},
	{"advocate", "yes for one of our professional advocates (their compliance record is started), otherwise no or empty."},
}

func (s *Server) renderUpload(c *fiber.Ctx, status int, f *formState, p *people.Plan) error {
	pg := &uploadPage{basePage: basePage{Title: "Add people from a file"}, Form: f, Plan: p, Columns: uploadColumns, MaxRows: people.MaxRows}
	if p != nil {
		pg.Text = base64.StdEncoding.EncodeToString([]byte(p.File.Text))
		switch {
		case p.Confirmed && p.Stopped != "":
			pg.Title = "People added so far"
		case p.Confirmed:
			pg.Title = "People added"
		default:
			pg.Title = "Check the people before adding them"
		}
	}
	return s.render(c, status, "admin_people_upload", pg)
}

// handleUploadForm handles GET /admin/users/upload.
func (s *Server) handleUploadForm(c *fiber.Ctx) error {
	return s.renderUpload(c, fiber.StatusOK, emptyForm(nil), nil)
}

// handleUploadTemplate handles GET /admin/users/upload/template.csv: the
// header and an example row, with a byte-order mark so that Excel reads
// accented names as UTF-8.
func (s *Server) handleUploadTemplate(c *fiber.Ctx) error {
	org := "Your organisation"
	if orgs, err := s.auth.Organisations(c.UserContext()); err == nil && len(orgs) > 0 {
		org = orgs[0].Name
		for _, o := range orgs {
			if o.Kind == auth.OrgPartner {
				org = o.Name
				break
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(people.Columns)
	_ = w.Write([]string{"Aisha Khan", "aisha.khan@example.org", "Learner", org, "no"})
	w.Flush()
	return sendFile(c, b.Bytes(), "text/csv; charset=utf-8", "people-template.csv")
}

// handleUploadCheck handles POST /admin/users/upload: the dry run. It
// reads the file and shows what confirming it would do, writing nothing.
func (s *Server) handleUploadCheck(c *fiber.Ctx) error {
	f := emptyForm(nil)
	f.Order = []string{"file"}
	fh, err := c.FormFile("file")
	if err != nil {
		f.Errors["file"] = "Choose a CSV file of people"
		return s.renderUpload(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	if fh.Size > 2*people.MaxBytes {
		f.Errors["file"] = "The file is larger than 1 MB: split it into smaller files"
		return s.renderUpload(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	r, err := fh.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 2*people.MaxBytes+1))
	if err != nil {
		return err
	}
	p, err := s.people().DryRun(c.UserContext(), data)
	if err != nil {
		if errs.CodeOf(err) == errs.EINVALID {
			f.Errors["file"] = errs.MessageOf(err)
			return s.renderUpload(c, fiber.StatusUnprocessableEntity, f, nil)
		}
		return err
	}
	return s.renderUpload(c, fiber.StatusOK, emptyForm(nil), p)
}

// handleUploadConfirm handles POST /admin/users/upload/confirm: adds the
// people of the file the dry run showed (its text and hash come back with
// the form). Posting it again, or after it stopped, carries on where it
// left off; each person is added once.
func (s *Server) handleUploadConfirm(c *fiber.Ctx) error {
	f := emptyForm(nil)
	f.Order = []string{"file"}
	text, err := base64.StdEncoding.DecodeString(c.FormValue("text"))
	if err != nil || len(text) == 0 {
		f.Errors["file"] = "The file to add was not sent with the confirmation. Upload it again."
		return s.renderUpload(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	p, err := s.people().Confirm(c.UserContext(), viewerOf(c).user, string(text), c.FormValue("hash"))
	if err != nil {
		if errs.CodeOf(err) == errs.EINVALID {
			f.Errors["file"] = errs.MessageOf(err)
			return s.renderUpload(c, fiber.StatusUnprocessableEntity, f, nil)
		}
		return err
	}
	return s.renderUpload(c, fiber.StatusOK, emptyForm(nil), p)
}
