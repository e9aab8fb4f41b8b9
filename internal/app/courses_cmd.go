package app

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/courses"
	"github.com/family-advocacy/lms/internal/learning"
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

// coursesCommand runs `lms courses validate [DIR]`.
func coursesCommand(env Env, args []string) error {
	if len(args) == 0 || args[0] != "validate" || len(args) > 2 {
		return usageError{"usage: lms courses validate [DIR]   (DIR defaults to content/courses, or the embedded catalogue)"}
	}
	var fsys fs.FS
	root := "."
	label := ""
	switch {
	case len(args) == 2:
		fsys, label = os.DirFS(args[1]), args[1]
	case dirExists("content/courses"):
		fsys, label = os.DirFS("content/courses"), "content/courses"
	default:
		fsys, root = catalogueFS("")
		label = "(embedded catalogue)"
	}
	if _, err := fs.Stat(fsys, root); err != nil {
		return fmt.Errorf("cannot read %s: %w", label, err)
	}
	cs, probs := courses.LoadAll(fsys, root)
	errCount, warnCount := 0, 0
	for _, p := range probs {
		if label != "" && root == "." {
			p.File = label + "/" + p.File
		}
		fmt.Fprintln(env.Stdout, p)
		if p.Warning {
			warnCount++
		} else {
			errCount++
		}
	}
	fmt.Fprintf(env.Stdout, "%d course(s) valid, %d error(s), %d warning(s)\n", len(cs), errCount, warnCount)
	if errCount > 0 {
		return fmt.Errorf("%d error(s) in %s", errCount, label)
	}
	return nil
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
