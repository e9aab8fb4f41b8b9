package server

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/errs"
)

// formState carries what a person typed and the problems found, so a form
// that fails validation comes back with their input and a message per field.
type formState struct {
	Values map[string]string
	Errors errs.FieldErrors
	Order  []string // field order, for the error summary
	Labels map[string]string
	// ID, on a page with several forms with fields of one name, makes
	// this form's field ids f-<ID>-<name> instead of f-<name>.
	ID string
}

// newForm returns a form with the named fields read from the request body.
func newForm(c *fiber.Ctx, fields ...string) *formState {
	f := &formState{Values: map[string]string{}, Errors: errs.FieldErrors{}, Order: fields}
	for _, name := range fields {
		f.Values[name] = strings.Clone(c.FormValue(name))
	}
	return f
}

// emptyForm returns a form with no input yet.
func emptyForm(values map[string]string) *formState {
	if values == nil {
		values = map[string]string{}
	}
	return &formState{Values: values, Errors: errs.FieldErrors{}}
}

// Get returns a field's value.
func (f *formState) Get(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// Error returns a field's problem, if any.
func (f *formState) Error(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Problems lists the problems in field order for the error summary.
func (f *formState) Problems() []problem {
	if f == nil {
		return nil
	}
	var out []problem
	seen := map[string]bool{}
	for _, name := range f.Order {
		if msg, ok := f.Errors[name]; ok {
			out = append(out, problem{Field: name, Message: msg})
			seen[name] = true
		}
	}
	for name, msg := range f.Errors {
		if !seen[name] {
			out = append(out, problem{Field: name, Message: msg})
		}
	}
	return out
}

type problem struct{ Field, Message string }

// FieldID returns the element id of a field of this form (the error
// summary links to it).
func (f *formState) FieldID(name string) string {
	if f == nil || f.ID == "" {
		return "f-" + name
	}
	return "f-" + f.ID + "-" + name
}

// absorb records err on the form when it carries field problems or a safe
// message, and reports whether it did; other errors are returned untouched.
func (f *formState) absorb(err error) bool {
	if fe := errs.Fields(err); fe != nil {
		for k, v := range fe {
			f.Errors[k] = v
		}
		return true
	}
	switch errs.CodeOf(err) {
	case errs.EINVALID, errs.ECONFLICT, errs.ETOOMANY, errs.EFORBIDDEN:
		f.Errors["_form"] = errs.MessageOf(err)
		return true
	}
	return false
}

// statusFor returns 422 for a form with problems, 429 when throttled.
func statusFor(err error) int {
	if errs.CodeOf(err) == errs.ETOOMANY {
		return fiber.StatusTooManyRequests
	}
	if errs.CodeOf(err) == errs.EFORBIDDEN {
		return fiber.StatusForbidden
	}
	return fiber.StatusUnprocessableEntity
}

// inputView is what the "input" partial renders.
type inputView struct {
	Name, Label, Type, Value, Error, Hint, Autocomplete string
	ID                                                  string // element id; "" = f-<name>
}

// FieldID is the element's id: f-<name>, unless a page with several forms
// of one kind gave it another.
func (v inputView) FieldID() string { return fieldID(v.ID, v.Name) }

// WithID gives the field an id of its own (template helper).
func (v inputView) WithID(id string) inputView { v.ID = id; return v }

func fieldID(id, name string) string {
	if id != "" {
		return id
	}
	return "f-" + name
}

// input builds an inputView from a form (template helper).
func input(f *formState, name, label, typ, autocomplete string, hint ...string) inputView {
	v := inputView{Name: name, Label: label, Type: typ, Value: f.Get(name), Error: f.Error(name), Autocomplete: autocomplete}
	if f != nil && f.ID != "" {
		v.ID = f.FieldID(name)
	}
	if len(hint) > 0 {
		v.Hint = hint[0]
	}
	if typ == "password" {
		v.Value = "" // never echo a password back
	}
	return v
}

// setFlash stores a one-line message shown on the next page.
func (s *Server) setFlash(c *fiber.Ctx, f flash) {
	b, _ := json.Marshal(f)
	c.Cookie(&fiber.Cookie{Name: "lms_flash", Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies()})
}

// takeFlash returns and clears the pending flash message.
func (s *Server) takeFlash(c *fiber.Ctx) *flash {
	raw := c.Cookies("lms_flash")
	if raw == "" {
		return nil
	}
	c.Cookie(&fiber.Cookie{Name: "lms_flash", Value: "", Path: "/", MaxAge: -1, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies()})
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil {
		return nil
	}
	switch f.Kind {
	case "success", "error", "warning", "info":
	default:
		return nil
	}
	return &f
}

// redirectWith redirects (303) after a successful POST, with a flash message.
func (s *Server) redirectWith(c *fiber.Ctx, to string, f flash) error {
	s.setFlash(c, f)
	return c.Redirect(to, fiber.StatusSeeOther)
}

// safeNext returns a local path to go to after sign-in, or def.
func safeNext(next, def string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return def
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// selectView is what the "select" partial renders.
type selectView struct {
	Name, Label, Value, Error string
	Options                   []string
	ID                        string // element id; "" = f-<name>
}

// FieldID is the element's id (see inputView.FieldID).
func (v selectView) FieldID() string { return fieldID(v.ID, v.Name) }

// WithID gives the field an id of its own (template helper).
func (v selectView) WithID(id string) selectView { v.ID = id; return v }

// checkView is what the "check" partial renders.
type checkView struct {
	Name, Label string
	Value       bool
}
