// Package web holds the HTML templates and static assets, embedded in the binary.
package web

import "embed"

// Templates holds layouts/*.html, partials/*.html and pages/*.html.
//
//go:embed templates
var Templates embed.FS

// Static holds the CSS, JavaScript, images and fonts served under /static/.
//
//go:embed static
var Static embed.FS
