package server_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/auth"
)

// Finding the right course (issue 17, point 7): a search over titles,
// summaries and lesson text, the audience filter, and the courses written
// for the learner's job role first.

// findCatalogue writes a catalogue of four courses whose words and
// audiences fall in known places: the sample course (advocates and
// domestic abuse workers) and three copies of it.
func findCatalogue(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(sampleDir, "sample-course")
	for _, c := range []struct {
		slug, title, summary string
		audiences            []string
		everyone             bool
		extra                string // added to the second lesson
	}{
		{slug: "sample-course"},
		{"da-court-course", "Domestic abuse at court", "How the family court deals with abuse.", []string{"domestic-abuse-worker", "advocate"}, false,
			"Practice Direction 12J sets out how the judge decides on fact-finding before any order."},
		{"everyone-course", "Working with parents", "For everyone who supports a family.", []string{"mental-health-support-worker", "domestic-abuse-worker", "advocate"}, true, ""},
		{"mh-course", "Parental mental health", "How a parent's mental health is looked at.", []string{"mental-health-support-worker"}, false, ""},
	} {
		to := filepath.Join(dir, c.slug)
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			if c.title != "" && e.Name() == "course.yaml" {
				s = strings.Replace(s, "slug: sample-course", "slug: "+c.slug, 1)
				s = strings.Replace(s, "title: Sample course for tests", "title: "+c.title, 1)
				s = regexp.MustCompile(`(?m)^summary: .*$`).ReplaceAllString(s, "summary: "+c.summary)
				s = strings.Replace(s, "  - advocate\n  - domestic-abuse-worker\n", "  - "+strings.Join(c.audiences, "\n  - ")+"\n", 1)
				if c.everyone {
					s = strings.Replace(s, "recommended_for_all: false", "recommended_for_all: true", 1)
				}
			}
			if c.extra != "" && e.Name() == "02-second-steps.md" {
				s += "\n" + c.extra + "\n"
			}
			if err := os.WriteFile(filepath.Join(to, e.Name()), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

var courseCardRE = regexp.MustCompile(`<li class="card" id="course-([a-z0-9-]+)">`)

// shown returns the slugs of the course cards on a catalogue page, in order.
func shown(page string) []string {
	var out []string
	for _, m := range courseCardRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// card returns the HTML of one course's card.
func card(page, slug string) string {
	i := strings.Index(page, `id="course-`+slug+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if j := strings.Index(rest[1:], `<li class="card"`); j >= 0 {
		return rest[:j+1]
	}
	return rest
}

func TestCatalogueSearch(t *testing.T) {
	w := newWorld(t, findCatalogue(t))
	anon := w.client(w.srv, "")
	get := func(q url.Values) string {
		t.Helper()
		resp, page := anon.do("GET", "/courses?"+q.Encode(), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /courses?%s: %d", q.Encode(), resp.StatusCode)
		}
		return page
	}
	t.Run("AWordOnlyInALessonFindsTheCourseAndNamesTheLesson", func(t *testing.T) {
		page := get(url.Values{"q": {"Fact-Finding"}})
		if got := shown(page); !slices.Equal(got, []string{"da-court-course"}) {
			t.Fatalf("shown %v, want only da-court-course", got)
		}
		c := card(page, "da-court-course")
		if !strings.Contains(c, `Found in lesson 2: <a href="/courses/da-court-course/lessons/02-second-steps">Second steps</a>`) {
			t.Errorf("the card does not name the lesson: %s", c)
		}
		if !strings.Contains(c, "on <mark>fact</mark>-<mark>finding</mark> before") || !strings.Contains(c, "Practice Direction 12J") {
			t.Errorf("the card has no passage with the words marked: %s", c)
		}
		if !strings.Contains(page, "1 course matches “Fact-Finding”") || !strings.Contains(page, `value="Fact-Finding"`) {
			t.Error("the page does not say what was found for the search as typed, or lost the search from its box")
		}
	})
	t.Run("EveryWordMustMatch", func(t *testing.T) {
		if got := shown(get(url.Values{"q": {"court judge"}})); !slices.Equal(got, []string{"da-court-course"}) {
			t.Errorf("court judge: shown %v, want da-court-course (court in its title, judge in a lesson)", got)
		}
		if got := shown(get(url.Values{"q": {"mental judge"}})); len(got) != 0 {
			t.Errorf("mental judge: shown %v, want none (no course has both)", got)
		}
	})
	t.Run("TitleBeforeSummaryBeforeLessons", func(t *testing.T) {
		got := shown(get(url.Values{"q": {"parent"}}))
		if len(got) != 4 || got[0] != "everyone-course" || got[1] != "mh-course" {
			t.Errorf("parent: shown %v, want everyone-course (title), mh-course (summary), then the rest (lessons)", got)
		}
	})
	t.Run("NoMatchSaysSoAndOffersAWayOn", func(t *testing.T) {
		page := get(url.Values{"q": {"<zebra>"}})
		if len(shown(page)) != 0 || !strings.Contains(page, "No courses match “&lt;zebra&gt;”.") || !strings.Contains(page, "Check the spelling") || !strings.Contains(page, `<a href="/courses">Show all courses</a>`) {
			t.Fatalf("no-match page: %s", page[strings.Index(page, "<main"):])
		}
		if strings.Contains(page, "<zebra>") {
			t.Error("the search is not escaped")
		}
	})
	t.Run("SearchWithinAnAudience", func(t *testing.T) {
		page := get(url.Values{"q": {"court"}, "audience": {"mental-health-support-worker"}})
		if len(shown(page)) != 0 || !strings.Contains(page, "No courses for mental health support workers match “court”.") ||
			!strings.Contains(page, `<a href="/courses?q=court">Search courses for everyone</a>`) {
			t.Fatal("a search within an audience does not say that nothing for it matched, or offers no search for everyone")
		}
	})
}

// TestCatalogueAudienceFilter: the filter shows exactly the courses for the
// audience chosen (and those recommended for everyone), and says how many
// of the catalogue's that is. Before, it listed the same courses, without a
// word, whatever was chosen on the shipped catalogue (every course but one
// lists every audience), so choosing looked like doing nothing.
func TestCatalogueAudienceFilter(t *testing.T) {
	t.Run("TestCatalogue", func(t *testing.T) {
		w := newWorld(t, findCatalogue(t))
		anon := w.client(w.srv, "")
		for aud, want := range map[string][]string{
			"mental-health-support-worker": {"everyone-course", "mh-course"},
			"domestic-abuse-worker":        {"everyone-course", "da-court-course", "sample-course"},
			"advocate":                     {"everyone-course", "da-court-course", "sample-course"},
			"":                             {"everyone-course", "da-court-course", "mh-course", "sample-course"},
			"no-such-audience":             {"everyone-course", "da-court-course", "mh-course", "sample-course"},
		} {
			_, page := anon.do("GET", "/courses?audience="+aud, nil)
			if got := shown(page); !slices.Equal(got, want) {
				t.Errorf("audience %q: shown %v, want %v", aud, got, want)
			}
		}
		_, page := anon.do("GET", "/courses?audience=mental-health-support-worker", nil)
		if !strings.Contains(page, "2 of 4 courses are for mental health support workers.") || !strings.Contains(page, `<option value="mental-health-support-worker" selected>`) {
			t.Error("the filtered page does not say how many of the courses are shown, or forgets the choice")
		}
		_, page = anon.do("GET", "/courses?audience=advocate", nil)
		if !strings.Contains(page, "3 of 4 courses are for advocates.") {
			t.Error("the advocates' page does not count its courses")
		}
	})
	t.Run("ShippedCatalogue", func(t *testing.T) {
		w := newWorld(t)
		anon := w.client(w.srv, "")
		_, page := anon.do("GET", "/courses?audience=mental-health-support-worker", nil)
		if got := shown(page); len(got) != 5 || slices.Contains(got, "domestic-abuse-and-the-family-courts") {
			t.Errorf("mental health support workers: shown %v, want the 5 courses without Domestic abuse and the family courts", got)
		}
		if !strings.Contains(page, "5 of 6 courses are for mental health support workers.") {
			t.Error("the page does not say 5 of 6")
		}
		if _, page := anon.do("GET", "/courses?audience=advocate", nil); !strings.Contains(page, "All 6 courses are for advocates.") {
			t.Error("the advocates' page does not say that every course is for them")
		}
	})
}

func TestCatalogueRecommendsCoursesForTheJobRoleFirst(t *testing.T) {
	w := newWorld(t, findCatalogue(t))
	ctx := context.Background()
	hash := auth.HashPassword("correct horse battery staple")
	// as returns a signed-in browser of a new learner with the job role.
	as := func(job auth.JobRole) *client {
		t.Helper()
		u, err := w.svc.Auth.CreateUser(ctx, "job-"+string(job)+"@example.org", "Job "+string(job), hash, w.orgA.ID, job, []auth.Role{auth.RoleLearner})
		if err != nil {
			t.Fatal(err)
		}
		return w.client(w.srv, w.sessionFor(u.ID))
	}
	marked := func(page string) []string {
		var out []string
		for _, s := range shown(page) {
			if strings.Contains(card(page, s), "Recommended for your role") {
				out = append(out, s)
			}
		}
		return out
	}
	_, anonPage := w.client(w.srv, "").do("GET", "/courses", nil)
	catalogueOrder := []string{"everyone-course", "da-court-course", "mh-course", "sample-course"}
	for _, tc := range []struct {
		job          auth.JobRole
		order, marks []string
	}{
		{auth.JobDomesticAbuse, []string{"da-court-course", "sample-course", "everyone-course", "mh-course"}, []string{"da-court-course", "sample-course"}},
		{auth.JobMentalHealth, []string{"mh-course", "everyone-course", "da-court-course", "sample-course"}, []string{"mh-course"}},
		{auth.JobOther, catalogueOrder, nil},
	} {
		_, page := as(tc.job).do("GET", "/courses", nil)
		if got := shown(page); !slices.Equal(got, tc.order) {
			t.Errorf("%s: order %v, want %v", tc.job, got, tc.order)
		}
		if got := marked(page); !slices.Equal(got, tc.marks) {
			t.Errorf("%s: marked %v, want %v", tc.job, got, tc.marks)
		}
	}
	if got := shown(anonPage); !slices.Equal(got, catalogueOrder) || len(marked(anonPage)) != 0 {
		t.Errorf("signed out: order %v, marked %v; want the catalogue's order, nothing marked", got, marked(anonPage))
	}
	t.Run("TheRoleGivenAtRegistration", func(t *testing.T) {
		c := w.client(w.srv, "")
		resp, _ := c.post("/register", url.Values{"name": {"Mo Mental"}, "email": {"mo@example.org"}, "password": {"a long enough new password"},
			"org": {auth.NoOrganisation}, "job_role": {string(auth.JobMentalHealth)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: %d", resp.StatusCode)
		}
		// Registering does not sign in (verify mode): they sign in.
		if resp, _ := c.post("/login", url.Values{"email": {"mo@example.org"}, "password": {"a long enough new password"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in after registering: %d", resp.StatusCode)
		}
		_, page := c.do("GET", "/courses", nil)
		if got := shown(page); len(got) == 0 || got[0] != "mh-course" || !slices.Equal(marked(page), []string{"mh-course"}) {
			t.Errorf("after registering as a mental health support worker: order %v, marked %v", got, marked(page))
		}
	})
	t.Run("ASearchRanksFirstThenTheRole", func(t *testing.T) {
		_, page := as(auth.JobAdvocate).do("GET", "/courses?q=steps", nil)
		// "steps" is in every course's lessons only: equal matches, so the
		// role's courses come first.
		if got := shown(page); len(got) != 4 || got[0] != "da-court-course" || got[1] != "sample-course" {
			t.Errorf("advocate searching steps: %v, want the role's courses first", got)
		}
	})
}
