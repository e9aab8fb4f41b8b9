package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"go.yaml.in/yaml/v3"

	"github.com/family-advocacy/lms/content"
)

// contentPage is a public page rendered from content/pages/*.md.
type contentPage struct {
	basePage
	Summary string
	Body    template.HTML
}

// pageSet holds the public pages, rendered once at start-up.
type pageSet struct {
	bySlug map[string]contentPage
}

// markdown renders Markdown safely: raw HTML is dropped (goldmark's default).
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// renderMarkdown converts Markdown to HTML that is safe to include in a page.
func renderMarkdown(src []byte) (template.HTML, error) {
	var buf bytes.Buffer
	if err := markdown.Convert(src, &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil //nolint:gosec // goldmark escapes text and omits raw HTML
}

func loadPages() (*pageSet, error) {
	files, err := fs.Glob(content.Pages, "pages/*.md")
	if err != nil {
		return nil, err
	}
	ps := &pageSet{bySlug: map[string]contentPage{}}
	for _, f := range files {
		b, err := fs.ReadFile(content.Pages, f)
		if err != nil {
			return nil, err
		}
		var meta struct {
			Title   string `yaml:"title"`
			Summary string `yaml:"summary"`
		}
		body, err := splitFrontMatter(b, &meta)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", f, err)
		}
		if meta.Title == "" {
			return nil, fmt.Errorf("page %s: front matter has no title", f)
		}
		html, err := renderMarkdown(body)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", f, err)
		}
		p := contentPage{Summary: meta.Summary, Body: html}
		p.Title = meta.Title
		ps.bySlug[strings.TrimSuffix(path.Base(f), ".md")] = p
	}
	return ps, nil
}

// splitFrontMatter decodes a leading YAML block between --- lines into meta
// and returns the rest.
func splitFrontMatter(b []byte, meta any) ([]byte, error) {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(b, []byte("---\n")) {
		return b, nil
	}
	end := bytes.Index(b[4:], []byte("\n---\n"))
	if end < 0 {
		return nil, fmt.Errorf("front matter is not closed with ---")
	}
	if err := yaml.Unmarshal(b[4:4+end], meta); err != nil {
		return nil, fmt.Errorf("front matter: %w", err)
	}
	return b[4+end+5:], nil
}

// handleContentPage handles GET /pages/:slug.
func (s *Server) handleContentPage(c *fiber.Ctx) error {
	p, ok := s.pages.bySlug[c.Params("slug")]
	if !ok {
		return fiber.ErrNotFound
	}
	return s.render(c, fiber.StatusOK, "content_page", &p)
}
