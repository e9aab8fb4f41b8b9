// Package content holds the authored material: the courses and the public
// pages, embedded in the binary.
package content

import "embed"

// Pages holds pages/*.md: public pages (about, standards, policies).
//
//go:embed pages
var Pages embed.FS

// Courses holds courses/<slug>/: the course catalogue, in the format of the
// courses package.
//
//go:embed courses
var Courses embed.FS

// Compliance holds compliance/policy.yaml: the organisation's compliance policy.
//
//go:embed compliance
var Compliance embed.FS
