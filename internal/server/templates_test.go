package server

import (
	"bytes"
	"testing"
)

// samplePages returns one sample page struct per page template. A template
// without a sample fails the test, so every page is rendered in CI.
func samplePages() map[string]page {
	return map[string]page{
		"home":         &homePage{},
		"content_page": &contentPage{Body: "<p>x</p>"},
		"error":        &errorPage{Status: 404, Heading: "Page not found", Message: "m"},
	}
}

func TestEveryTemplateRendersWithASamplePage(t *testing.T) {
	s := newBareServer(t)
	samples := samplePages()
	for name, tmpl := range s.tmpl.pages {
		p, ok := samples[name]
		if !ok {
			t.Errorf("template %q has no sample page in samplePages", name)
			continue
		}
		b := p.base()
		b.Title = "Sample"
		b.User = &viewer{ID: "u1", Name: "Sample Person", Roles: []string{"learner", "advocate", "manager", "admin"}}
		b.Nav = s.navFor(b.User, "/")
		b.FooterLinks = footerLinks
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Errorf("template %q: %v", name, err)
		}
	}
}
