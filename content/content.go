// Package content holds the authored material: the courses and the public
// pages, embedded in the binary.
package content

import "embed"

// Pages holds pages/*.md: public pages (about, standards, policies).
//
//go:embed pages
var Pages embed.FS
