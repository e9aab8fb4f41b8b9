package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DataFormat is the layout of the data directory this version reads and
// writes. A directory carries its format in the file FORMAT; a version of
// lms that finds a newer one refuses to start rather than guess.
const DataFormat = 1

const (
	formatFile    = "FORMAT"
	restoringFile = "RESTORING" // present while `lms restore` fills the directory
)

// prepareDataDir makes sure dir exists, can be written, and holds data this
// version understands, and marks it with the format when it has none. Every
// error says what a person can do about it.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return dataDirError(dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, restoringFile)); err == nil {
		return fmt.Errorf("a restore into the data directory %s did not finish: run `lms restore` again with the same backup", dir)
	}
	probe := filepath.Join(dir, ".write-check")
	if err := os.WriteFile(probe, []byte("ok"), 0o600); err != nil {
		return dataDirError(dir, err)
	}
	_ = os.Remove(probe)

	f, err := readFormat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new directory, or one from before formats were recorded
		// (which is format 1).
		return writeFormat(dir)
	case err != nil:
		return err
	case f > DataFormat:
		return fmt.Errorf("the data directory %s was written by a newer version of lms (data format %d; this version reads format %d): run the newer version, or restore a backup taken with this one into an empty directory", dir, f, DataFormat)
	}
	return nil
}

func readFormat(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, formatFile))
	if err != nil {
		return 0, err
	}
	f, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || f < 1 {
		return 0, fmt.Errorf("the data directory %s has a damaged %s file (%q): it should hold the number %d", dir, formatFile, strings.TrimSpace(string(b)), DataFormat)
	}
	return f, nil
}

func writeFormat(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, formatFile), []byte(strconv.Itoa(DataFormat)+"\n"), 0o600); err != nil {
		return dataDirError(dir, err)
	}
	return nil
}

// dataDirError turns a file-system error on the data directory into a
// sentence.
func dataDirError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("the data directory %s is read-only or this user may not write to it: give the user running lms write access, or set LMS_DATA_DIR to a directory it can write (%v)", dir, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("the disk holding the data directory %s is full: free some space and start again", dir)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("the data directory %s is not a directory: set LMS_DATA_DIR to a directory (%v)", dir, err)
	}
	return fmt.Errorf("the data directory %s cannot be used: %w", dir, err)
}

// damagedDatabase says, for an error from starting the embedded database,
// whether its files are damaged, and if so what to do.
func damagedDatabase(dir string, err error) error {
	msg := err.Error()
	for _, sign := range []string{"file is not a database", "database disk image is malformed", "SQLITE_CORRUPT", "SQLITE_NOTADB"} {
		if strings.Contains(msg, sign) {
			return fmt.Errorf("the embedded database in %s is damaged (%s): restore it from a backup with `lms restore DIR` into an empty data directory", dir, sign)
		}
	}
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(msg, "database or disk is full") {
		return fmt.Errorf("the disk holding the embedded database in %s is full: free some space and start again", dir)
	}
	if strings.Contains(msg, "readonly database") || strings.Contains(msg, "attempt to write a readonly") {
		return fmt.Errorf("the embedded database in %s is read-only: give the user running lms write access to its files", dir)
	}
	return nil
}
