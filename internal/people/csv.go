// Package people adds people to the LMS: one at a time from the
// administrator's form, or many from a CSV file, checked first in a dry
// run that writes nothing. Each person gets an account with an invitation
// to choose a password (auth.Service.Invite) and, for an advocate, a
// compliance record for their organisation's managers to complete.
package people

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/family-advocacy/lms/internal/errs"
)

// Limits on one file.
const (
	MaxRows  = 1000    // people in one file
	MaxBytes = 1 << 20 // the file's size
)

// Columns is the header of the file, in the template's order.
var Columns = []string{"name", "email", "roles", "organisation", "advocate"}

// required are the columns a file must have; roles (Learner when empty)
// and advocate (no when empty) may be left out.
var required = []string{"name", "email", "organisation"}

// headerNames maps what people write in a header cell to its column.
var headerNames = map[string]string{
	"name": "name", "full name": "name", "fullname": "name", "full_name": "name",
	"email": "email", "e-mail": "email", "email address": "email", "e-mail address": "email", "email_address": "email",
	"roles": "roles", "role": "roles",
	"organisation": "organisation", "organization": "organisation", "org": "organisation", "organisation name": "organisation",
	"organization name": "organisation", "agency": "organisation",
	"advocate": "advocate", "is advocate": "advocate", "advocate?": "advocate", "is_advocate": "advocate",
}

// Record is one data row of a file, its values trimmed.
type Record struct {
	Row                                        int // the row as a spreadsheet numbers it: the header is row 1
	Name, Email, Roles, Organisation, Advocate string
	Problem                                    string // what is wrong with the row's CSV, if anything
}

// File is a parsed file of people.
type File struct {
	Text      string // the file as UTF-8, without a byte-order mark
	Hash      string // SHA-256 (hex) of Text: the upload's identity
	Encoding  string // how the file was read, in words
	Delimiter rune
	Ignored   []string // header cells of columns that are not used
	Records   []Record // the data rows, blank ones left out
}

// problem is a file-level problem, in words an administrator can act on.
func problem(format string, args ...any) error { return errs.E(errs.EINVALID, format, args...) }

// Parse reads a CSV file of people: UTF-8 (with or without a byte-order
// mark), UTF-16 with a byte-order mark (Excel's "Unicode text"), or, when
// the bytes are not UTF-8, Windows-1252 (which includes Latin-1's
// letters); separated by commas, semicolons or tabs, whichever the header
// uses; a header naming the columns in any order. A problem with the
// whole file (empty, a spreadsheet rather than CSV, no header, too many
// rows) is an EINVALID error; a problem with one row's CSV is kept on
// its Record.
func Parse(data []byte) (*File, error) {
	tooBig := func(n int) error {
		return problem("The file is %s; it can be at most 1 MB. Split it into smaller files.", size(n))
	}
	if len(data) > 2*MaxBytes {
		return nil, tooBig(len(data))
	}
	text, enc, err := decode(data)
	if err != nil {
		return nil, err
	}
	// As UTF-8, the form the confirmation reads it in.
	if len(text) > MaxBytes {
		return nil, tooBig(len(text))
	}
	sum := sha256.Sum256([]byte(text))
	f := &File{Text: text, Hash: hex.EncodeToString(sum[:]), Encoding: enc, Delimiter: delimiter(text)}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = f.Delimiter
	r.FieldsPerRecord = -1
	var cols map[int]string
	rows := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, problem("The file could not be read as CSV: %v", err)
		}
		if pe != nil {
			if cols == nil {
				return nil, problem("The first row, which names the columns, could not be read: %s.", csvProblem(pe.Err))
			}
			rows++
			if rows <= MaxRows {
				f.Records = append(f.Records, Record{Row: pe.StartLine, Problem: csvProblem(pe.Err)})
			}
			continue
		}
		if blank(rec) {
			continue
		}
		if cols == nil {
			if cols, err = header(rec, f); err != nil {
				return nil, err
			}
			continue
		}
		rows++
		if rows > MaxRows {
			continue // counted, to say how many there are
		}
		line, _ := r.FieldPos(0)
		x := Record{Row: line}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch cols[i] {
			case "name":
				x.Name = v
			case "email":
				x.Email = v
			case "roles":
				x.Roles = v
			case "organisation":
				x.Organisation = v
			case "advocate":
				x.Advocate = v
			}
		}
		f.Records = append(f.Records, x)
	}
	switch {
	case cols == nil:
		return nil, problem("The file is empty. Download the template, add one person per row below the header, and upload it again.")
	case rows == 0:
		return nil, problem("The file has the header but nobody below it: add one person per row.")
	case rows > MaxRows:
		return nil, problem("The file has %d people; at most %d can be added from one file. Split it into smaller files.", rows, MaxRows)
	}
	return f, nil
}

// decode returns the file as UTF-8 and says how it was read.
func decode(data []byte) (string, string, error) {
	var text string
	enc := "UTF-8"
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "", "", problem("The file is empty. Download the template, add one person per row below the header, and upload it again.")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", "", problem("This is a spreadsheet file (such as .xlsx), not CSV. In Excel choose File, Save As, and “CSV UTF-8 (comma delimited)”; then upload that file.")
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data, enc = data[3:], "UTF-8 (with a byte-order mark)"
		if !utf8.Valid(data) {
			return "", "", problem("The file says it is UTF-8 but is not: save it again as “CSV UTF-8”.")
		}
		text = string(data)
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(b) {
			return "", "", problem("The file says it is UTF-16 but could not be read as such: save it again as “CSV UTF-8”.")
		}
		text, enc = string(b), "UTF-16 (Unicode text)"
		text = strings.TrimPrefix(text, "\uFEFF")
	case utf8.Valid(data):
		text = string(data)
	default:
		// Not UTF-8: read as Windows-1252, the encoding of Excel's plain
		// "CSV" on Windows in English, unless it has bytes that encoding
		// leaves undefined (then it is neither).
		if undefined1252(data) {
			return "", "", problem("The file is not UTF-8 or Windows-1252 text. Save it again as “CSV UTF-8”.")
		}
		b, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return "", "", problem("The file is not UTF-8 or Windows-1252 text. Save it again as “CSV UTF-8”.")
		}
		text, enc = string(b), "Windows-1252 (it was not UTF-8: check that accented letters below look right)"
	}
	if !strings.Contains(text, "\n") {
		text = strings.ReplaceAll(text, "\r", "\n") // old Mac line ends
	}
	if strings.ContainsRune(text, 0) {
		return "", "", problem("The file holds binary data, not CSV text. Save it again as “CSV UTF-8”.")
	}
	return text, enc, nil
}

// undefined1252 reports whether data has a byte Windows-1252 leaves
// undefined.
func undefined1252(data []byte) bool {
	for _, b := range data {
		switch b {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			return true
		}
	}
	return false
}

// delimiter guesses the separator from the first line: commas, or the
// semicolons a spreadsheet in some languages writes, or tabs.
func delimiter(text string) rune {
	first, _, _ := strings.Cut(strings.TrimLeft(text, "\r\n"), "\n")
	c, s, t := strings.Count(first, ","), strings.Count(first, ";"), strings.Count(first, "\t")
	switch {
	case t > c && t > s:
		return '\t'
	case s > c:
		return ';'
	}
	return ','
}

// header maps the columns of the header row, and notes the ones not used.
func header(rec []string, f *File) (map[int]string, error) {
	cols := map[int]string{}
	seen := map[string]bool{}
	for i, cell := range rec {
		name := strings.ToLower(strings.Join(strings.Fields(strings.Trim(cell, "\uFEFF \t\"")), " "))
		col, ok := headerNames[name]
		switch {
		case name == "":
			continue
		case !ok:
			f.Ignored = append(f.Ignored, strings.TrimSpace(cell))
			continue
		case seen[col]:
			return nil, problem("The header names the “%s” column twice.", col)
		}
		seen[col] = true
		cols[i] = col
	}
	if len(cols) == 0 {
		return nil, problem("The first row must name the columns: %s. Download the template to see how.", strings.Join(Columns, ","))
	}
	var missing []string
	for _, c := range required {
		if !seen[c] {
			missing = append(missing, "“"+c+"”")
		}
	}
	if len(missing) > 0 {
		return nil, problem("The file has no %s column. The first row must name the columns: %s.", strings.Join(missing, " or "), strings.Join(Columns, ","))
	}
	return cols, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// csvProblem says what is wrong with a row's CSV.
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote), errors.Is(err, csv.ErrQuote):
		return "a quotation mark (\") is out of place: put quotation marks around the whole value, and write a quotation mark inside it twice"
	case errors.Is(err, csv.ErrFieldCount):
		return "it has the wrong number of values"
	}
	return "it could not be read as CSV (" + err.Error() + ")"
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}
