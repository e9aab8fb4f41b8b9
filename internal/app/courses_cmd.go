package app

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/civil"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/reminders"
)

// catalogueFS returns the file system and root of the course catalogue:
// dir on disk when set, else the catalogue embedded in the binary.
func catalogueFS(dir string) (fs.FS, string) {
	if dir != "" {
		return os.DirFS(dir), "."
	}
	return content.Courses, "courses"
}

// LoadCatalogue loads and validates the catalogue (dir on disk, or the
// embedded one when empty); any error refuses it.
func LoadCatalogue(dir string) (*learning.Catalogue, error) {
	fsys, root := catalogueFS(dir)
	cs, probs := courses.LoadAll(fsys, root)
	if errs := courses.Errors(probs); len(errs) > 0 {
		msg := fmt.Sprintf("the course catalogue has %d problem(s); run `lms courses validate` for all of them; first: %s", len(errs), errs[0])
		return nil, fmt.Errorf("%s", msg)
	}
	return learning.NewCatalogue(cs), nil
}

// coursesCommand runs `lms courses validate [--due] [--on DATE] [DIR]`.
func coursesCommand(env Env, args []string) error {
	const use = "usage: lms courses validate [--due [--on YYYY-MM-DD]] [DIR]   (DIR defaults to content/courses, or the embedded catalogue; --due lists courses due for review and pending-commencement points)"
	if len(args) == 0 || args[0] != "validate" {
		return usageError{use}
	}
	fset := flag.NewFlagSet("courses validate", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	due := fset.Bool("due", false, "list courses past or within 30 days of their review date, and every pending-commencement point")
	onFlag := fset.String("on", "", "the day to check review dates against (default today, in London)")
	if err := fset.Parse(args[1:]); err != nil || fset.NArg() > 1 {
		return usageError{use}
	}
	today := civil.Of(env.Clock())
	if *onFlag != "" {
		d, err := civil.Parse(*onFlag)
		if err != nil {
			return usageError{"--on: want a date, YYYY-MM-DD"}
		}
		today = d
	}
	var fsys fs.FS
	root := "."
	label := ""
	switch {
	case fset.NArg() == 1:
		fsys, label = os.DirFS(fset.Arg(0)), fset.Arg(0)
	case dirExists("content/courses"):
		fsys, label = os.DirFS("content/courses"), "content/courses"
	default:
		fsys, root = catalogueFS("")
		label = "(embedded catalogue)"
	}
	if _, err := fs.Stat(fsys, root); err != nil {
		return fmt.Errorf("cannot read %s: %w", label, err)
	}
	prefix := ""
	if label != "" && root == "." {
		prefix = label + "/"
	}
	cs, probs := courses.LoadAll(fsys, root)
	errCount, warnCount := 0, 0
	for _, p := range probs {
		p.File = prefix + p.File
		fmt.Fprintln(env.Stdout, p)
		if p.Warning {
			warnCount++
		} else {
			errCount++
		}
	}
	fmt.Fprintf(env.Stdout, "%d course(s) valid, %d error(s), %d warning(s)\n", len(cs), errCount, warnCount)
	if *due {
		printReviewList(env, cs, today, prefix)
	}
	if errCount > 0 {
		return fmt.Errorf("%d error(s) in %s", errCount, label)
	}
	return nil
}

// printReviewList prints what `validate --due` lists.
func printReviewList(env Env, cs []*courses.Course, today civil.Date, prefix string) {
	items := courses.ReviewList(cs, today, reminders.ReviewNoticeDays)
	due, pending := 0, 0
	for _, it := range items {
		c := it.Course
		checked := "not recorded"
		if c.ReviewedBy != "" {
			checked = c.ReviewedBy + " on " + c.ReviewedOn
		}
		switch {
		case it.Overdue():
			due++
			fmt.Fprintf(env.Stdout, "review: %s: past its review date, %s (%d days ago); last checked: %s\n", c.Slug, it.Due.Format(time.DateOnly), -it.DueIn, checked)
		case it.DueIn <= reminders.ReviewNoticeDays:
			due++
			fmt.Fprintf(env.Stdout, "review: %s: due for review on %s (in %d days); last checked: %s\n", c.Slug, it.Due.Format(time.DateOnly), it.DueIn, checked)
		}
		for _, p := range it.Pending {
			pending++
			fmt.Fprintf(env.Stdout, "pending: %s%s/%s.md:%d: %s\n", prefix, c.Slug, p.Lesson, p.Line, p.Text)
		}
	}
	fmt.Fprintf(env.Stdout, "%d course(s) due for review by %s, %d pending-commencement point(s)\n", due, today.AddDays(reminders.ReviewNoticeDays), pending)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
