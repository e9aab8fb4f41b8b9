package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/family-advocacy/lms/internal/civil"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/web"
)

// link is one entry of a navigation list.
type link struct {
	Href, Label string
	Current     bool
	Count       int // unread notifications, shown after the label when > 0
}

// flash is a one-line message shown at the top of a page, or, when it
// names a Section of the page, in that section (where a save returned).
type flash struct {
	Kind    string // success, error, warning, info
	Text    string
	Section string `json:",omitempty"`
}

// basePage is embedded in every page struct; the layout reads it.
type basePage struct {
	Title     string
	User      *viewer
	CSRF      string
	Flash     *flash
	Nav       []link
	RequestID string
}

// NavHTML renders the main navigation. It is built in Go rather than with
// a template range: html/template's per-action escaping calls cost more
// than the rest of a cached page, and the navigation is on every page.
func (b *basePage) NavHTML() template.HTML { return linksHTML(b.Nav) }

// FooterHTML renders the footer links (the same on every page).
func (b *basePage) FooterHTML() template.HTML { return footerHTML }

var footerHTML = linksHTML(footerLinks)

func linksHTML(ls []link) template.HTML {
	var sb strings.Builder
	for _, l := range ls {
		sb.WriteString(`<li><a href="`)
		sb.WriteString(template.HTMLEscapeString(l.Href))
		sb.WriteString(`"`)
		if l.Current {
			sb.WriteString(` aria-current="page"`)
		}
		sb.WriteString(`>`)
		sb.WriteString(template.HTMLEscapeString(l.Label))
		if l.Count > 0 {
			sb.WriteString(unreadBadge(l.Count))
		}
		sb.WriteString("</a></li>")
	}
	return template.HTML(sb.String()) //nolint:gosec // every part is escaped above
}

func (b *basePage) base() *basePage { return b }

// page is implemented by every page struct through its embedded basePage.
type page interface{ base() *basePage }

// templates holds one parsed template set per page.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates(funcs template.FuncMap) (*templates, error) {
	layout, err := template.New("").Funcs(funcs).ParseFS(web.Templates, "templates/layouts/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if matches, _ := fs.Glob(web.Templates, "templates/partials/*.html"); len(matches) > 0 {
		if layout, err = layout.ParseFS(web.Templates, "templates/partials/*.html"); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	files, err := fs.Glob(web.Templates, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, f := range files {
		clone, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := clone.ParseFS(web.Templates, f); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		t.pages[strings.TrimSuffix(path.Base(f), ".html")] = clone
	}
	return t, nil
}

// render executes the named page template inside the main layout.
func (s *Server) render(c *fiber.Ctx, status int, name string, p page) error {
	t, ok := s.tmpl.pages[name]
	if !ok {
		return fmt.Errorf("render: no template %q", name)
	}
	s.fillBase(c, p.base())
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() < 1<<20 {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(status).Response().SetBody(buf.Bytes()) // SetBody copies; buf goes back to the pool
	return nil
}

// bufPool reuses page buffers: pages are 5-40 KB.
var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// fillBase sets what every page shows: the signed-in user, navigation and
// the CSRF token.
func (s *Server) fillBase(c *fiber.Ctx, b *basePage) {
	v := viewerOf(c)
	b.User = v
	b.RequestID = requestID(c)
	b.CSRF = s.csrfToken(c)
	if b.Flash == nil {
		b.Flash = s.takeFlash(c)
	}
	b.Nav = s.navFor(v, c.Path())
	s.countUnread(c, v, b.Nav)
}

var footerLinks = []link{
	{Href: "/pages/about", Label: "About us"},
	{Href: "/pages/standards", Label: "Our standards"},
	{Href: "/pages/confidentiality", Label: "Confidentiality"},
	{Href: "/pages/complaints", Label: "Complaints"},
	{Href: "/pages/equal-opportunities", Label: "Equal opportunities"},
	{Href: "/pages/privacy", Label: "Privacy"},
	{Href: "/pages/accessibility", Label: "Accessibility"},
	{Href: "/verify", Label: "Verify a certificate"},
}

// navFor returns the main navigation for a viewer, marking the current section.
func (s *Server) navFor(v *viewer, current string) []link {
	nav := []link{{Href: "/courses", Label: "Courses"}, {Href: "/live", Label: "Live training"}}
	if v == nil || v.MustSetup2FA {
		if v == nil {
			nav = append(nav, link{Href: "/login", Label: "Sign in"})
			if s.selfRegistration() {
				nav = append(nav, link{Href: "/register", Label: "Create an account"})
			}
		}
	} else {
		nav = append(nav, link{Href: "/my/learning", Label: "My learning"}, link{Href: "/my/certificates", Label: "My certificates"}, link{Href: "/notifications", Label: "Notifications"})
		if v.HasRole("advocate") {
			nav = append(nav, link{Href: "/my/compliance", Label: "My compliance"})
		}
		if v.HasRole("manager") || v.HasRole("admin") {
			nav = append(nav, link{Href: "/manage", Label: "Advocates"})
		}
		if v.HasRole("trainer") && !v.HasRole("admin") {
			nav = append(nav, link{Href: "/trainer/live", Label: "Run training"})
		}
		if v.HasRole("admin") {
			nav = append(nav, link{Href: "/admin", Label: "Admin"})
		}
		nav = append(nav, link{Href: "/account", Label: "Account"})
	}
	nav = slices.DeleteFunc(nav, func(l link) bool { return !s.hasGET[l.Href] })
	for i := range nav {
		nav[i].Current = current == nav[i].Href || strings.HasPrefix(current, nav[i].Href+"/")
	}
	return nav
}

// templateFuncs are the functions available in every template.
func templateFuncs(assets *assets) template.FuncMap {
	london := mustLondon()
	head := template.HTML(fmt.Sprintf( //nolint:gosec // fixed asset paths
		"<link rel=\"stylesheet\" href=\"%s\">\n<link rel=\"icon\" href=\"%s\" type=\"image/svg+xml\">\n<script src=\"%s\" defer></script>",
		assets.url("css/site.css"), assets.url("img/favicon.svg"), assets.url("js/site.js")))
	return template.FuncMap{
		"asset":     assets.url,
		"headLinks": func() template.HTML { return head },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(london).Format("2 January 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(london).Format("2 January 2006, 15:04")
		},
		"dayOf": func(iso string) string { // "2026-11-22" → "22 November 2026"
			t, err := time.Parse(time.DateOnly, iso)
			if err != nil {
				return iso
			}
			return t.Format("2 January 2006")
		},
		"isodate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(london).Format("2006-01-02")
		},
		"add":        func(a, b int) int { return a + b },
		"browser":    browserOf,
		"input":      input,
		"stateLabel": func(s compliance.State) string { return s.Label() },
		"label":      compliance.Label,
		"selectOf": func(f *formState, name, label string, options []string) selectView {
			return selectView{Name: name, Label: label, Value: f.Get(name), Error: f.Error(name), Options: options}
		},
		"checkOf": func(f *formState, name, label string) checkView {
			return checkView{Name: name, Label: label, Value: f.Get(name) != ""}
		},
		"textareaOf": func(f *formState, name, label string, hint ...string) inputView {
			v := inputView{Name: name, Label: label, Value: f.Get(name), Error: f.Error(name)}
			if len(hint) > 0 {
				v.Hint = hint[0]
			}
			return v
		},
		"reqLabel": func(k string) string { return compliance.RequirementLabels[k] },
		"list":     func(xs ...string) []string { return xs },
		"lessonDone": func(e *learning.Enrolment, name string) bool {
			if e == nil {
				return false
			}
			_, ok := e.Lessons[name]
			return ok
		},
		"hasRole": func(roles []auth.Role, r string) bool { return slices.Contains(roles, auth.Role(r)) },
		"percent": func(n, d int) int { return percent(n, d) },
	}
}

func percent(n, d int) int {
	if d <= 0 {
		return 0
	}
	return n * 100 / d
}

func mustLondon() *time.Location { return civil.London }

// assets serves the embedded static files from memory under content-hashed
// URLs (/static/<hash>/<path>), which may be cached for a year.
type assets struct {
	files map[string]asset // by path below static/
}

type asset struct {
	body        []byte
	hash        string
	contentType string
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(web.Static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[strings.TrimPrefix(p, "static/")] = asset{body: b, hash: hex.EncodeToString(sum[:])[:12], contentType: ct}
		return nil
	})
	return a, err
}

// url returns the content-hashed URL of a static file; it panics on a name
// that does not exist so a broken template fails at start-up and in tests.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("unknown static asset " + name)
	}
	return "/static/" + f.hash + "/" + name
}

// handleStatic handles GET /static/:hash/*.
func (s *Server) handleStatic(c *fiber.Ctx) error {
	name := c.Params("*")
	f, ok := s.assets.files[name]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	if c.Params("hash") == f.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	c.Set(fiber.HeaderETag, `"`+f.hash+`"`)
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+f.hash+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(f.body)
}
