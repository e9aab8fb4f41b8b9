package learning

import (
	"slices"

	"github.com/family-advocacy/lms/courses"
)

// WrittenFor reports whether a course is written for audience in
// particular: its audiences include it and not every audience. (A course
// for every audience is for everyone, not for one role.)
func WrittenFor(c *courses.Course, audience string) bool {
	return audience != "" && slices.Contains(c.Audiences, audience) && len(c.Audiences) < len(courses.Audiences)
}

// ForAudience orders courses for a person whose work is audience: the
// courses written for it in particular first, then those recommended for
// everyone, then the others for it, then those that are not for it; each
// group keeps the order given. With no audience the order is unchanged.
func ForAudience(cs []*courses.Course, audience string) []*courses.Course {
	if audience == "" {
		return cs
	}
	group := func(c *courses.Course) int {
		switch {
		case WrittenFor(c, audience):
			return 0
		case c.RecommendedForAll:
			return 1
		case c.ForAudience(audience):
			return 2
		}
		return 3
	}
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b *courses.Course) int { return group(a) - group(b) })
	return out
}
