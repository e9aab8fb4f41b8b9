package people

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/errs"
)

// mustParse parses data and fails the test on a file-level problem.
func mustParse(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// names returns the records' names, in order.
func names(f *File) []string {
	var out []string
	for _, r := range f.Records {
		out = append(out, r.Name)
	}
	return out
}

func TestParseReadsWhatSpreadsheetsWrite(t *testing.T) {
	utf16le := func(s string) []byte {
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cp1252 := func(s string) []byte {
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		wantNames []string
		wantRows  []int
		wantEnc   string
	}{
		{"UTF8WithBOMAndCRLF", []byte("\uFEFFname,email,roles,organisation,advocate\r\nZoë Ørsted,zoe@example.org,Learner,Org A,no\r\nSiân Jones,sian@example.org,,Org A,yes\r\n"),
			[]string{"Zoë Ørsted", "Siân Jones"}, []int{2, 3}, "UTF-8 (with a byte-order mark)"},
		{"PlainUTF8WithoutFinalNewline", []byte("name,email,organisation\nAmy Adams,amy@example.org,Org A"),
			[]string{"Amy Adams"}, []int{2}, "UTF-8"},
		{"Windows1252", cp1252("name,email,organisation\r\nZoë Brontë,zoe@example.org,Org A\r\nJosé “Pepe” Núñez,jose@example.org,Org A\r\n"),
			[]string{"Zoë Brontë", "José “Pepe” Núñez"}, []int{2, 3}, "Windows-1252"},
		{"UTF16WithBOMAndTabs", utf16le("name\temail\torganisation\r\nŁucja Kowalska\tlucja@example.org\tOrg A\r\n"),
			[]string{"Łucja Kowalska"}, []int{2}, "UTF-16"},
		{"SemicolonsAsWrittenByEuropeanExcel", []byte("name;email;organisation\nAnna Müller;anna@example.org;Org A\n"),
			[]string{"Anna Müller"}, []int{2}, "UTF-8"},
		{"QuotedCommasAndQuotes", []byte("name,email,organisation\n\"Smith, Jane\",jane@example.org,\"Org A, North\"\n\"Dara \"\"DJ\"\" O'Brien\",dara@example.org,Org A\n"),
			[]string{"Smith, Jane", `Dara "DJ" O'Brien`}, []int{2, 3}, "UTF-8"},
		{"BlankLinesAndEmptyRowsAreSkippedButCounted", []byte("name,email,organisation\n\nAmy Adams,amy@example.org,Org A\n,,\n   \nBen Brown,ben@example.org,Org A\n\n"),
			[]string{"Amy Adams", "Ben Brown"}, []int{3, 6}, "UTF-8"},
		{"OldMacLineEnds", []byte("name,email,organisation\rAmy Adams,amy@example.org,Org A\r"),
			[]string{"Amy Adams"}, []int{2}, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.data)
			if got := names(f); !slices.Equal(got, tc.wantNames) {
				t.Errorf("names: got %q, want %q", got, tc.wantNames)
			}
			var rows []int
			for _, r := range f.Records {
				rows = append(rows, r.Row)
				if r.Problem != "" {
					t.Errorf("row %d: unexpected problem %q", r.Row, r.Problem)
				}
			}
			if !slices.Equal(rows, tc.wantRows) {
				t.Errorf("row numbers: got %v, want %v", rows, tc.wantRows)
			}
			if !strings.HasPrefix(f.Encoding, tc.wantEnc) {
				t.Errorf("encoding: got %q, want it to start %q", f.Encoding, tc.wantEnc)
			}
			if !utf8.ValidString(f.Text) || strings.HasPrefix(f.Text, "\uFEFF") {
				t.Errorf("the text kept for the confirmation is not clean UTF-8: %q", f.Text)
			}
		})
	}
}

func TestParseTakesTheHeaderInAnyOrder(t *testing.T) {
	f := mustParse(t, []byte("Advocate,Organization,E-mail,Phone,Full name,Roles\nyes,Org A,AMY@Example.org,0123,Amy Adams,Manager\n"))
	want := Record{Row: 2, Name: "Amy Adams", Email: "AMY@Example.org", Roles: "Manager", Organisation: "Org A", Advocate: "yes"}
	if !reflect.DeepEqual(f.Records, []Record{want}) {
		t.Fatalf("got %+v, want %+v", f.Records, want)
	}
	if !slices.Equal(f.Ignored, []string{"Phone"}) {
		t.Errorf("ignored columns: got %q, want [Phone]", f.Ignored)
	}
}

func TestParseKeepsARowWithBadQuotingAsAProblem(t *testing.T) {
	f := mustParse(t, []byte("name,email,organisation\nAmy Adams,amy@example.org,Org A\nBen \"Benny\" Brown,ben@example.org,Org A\nCat Cole,cat@example.org,Org A\n"))
	if len(f.Records) != 3 || f.Records[1].Row != 3 || !strings.Contains(f.Records[1].Problem, "quotation mark") {
		t.Fatalf("got %+v, want row 3 kept with a problem about its quotation mark", f.Records)
	}
	if f.Records[2].Name != "Cat Cole" || f.Records[2].Problem != "" {
		t.Errorf("the row after the bad one: got %+v", f.Records[2])
	}
}

func TestParseRefusesFilesItCannotUse(t *testing.T) {
	var many strings.Builder
	many.WriteString("name,email,organisation\n")
	for i := 0; i < MaxRows+1; i++ {
		fmt.Fprintf(&many, "Person %d,p%d@example.org,Org A\n", i, i)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"Empty", []byte(""), "empty"},
		{"OnlyBlankLines", []byte("\r\n\r\n"), "empty"},
		{"HeaderOnly", []byte("name,email,organisation\n"), "nobody below it"},
		{"NoHeader", []byte("Amy Adams,amy@example.org,Org A\n"), "must name the columns"},
		{"NoEmailColumn", []byte("name,organisation\nAmy,Org A\n"), "no “email” column"},
		{"TheSameColumnTwice", []byte("name,email,Email,organisation\n"), "twice"},
		{"TooManyRows", []byte(many.String()), fmt.Sprintf("has %d people; at most %d", MaxRows+1, MaxRows)},
		{"ASpreadsheetFile", []byte("PK\x03\x04\x14\x00\x06\x00"), "spreadsheet file"},
		{"NeitherUTF8NorWindows1252", []byte("name,email,organisation\nA\x81B,a@example.org,Org A\n"), "not UTF-8 or Windows-1252"},
		{"BinaryData", []byte("name,email\x00,organisation\n"), "binary"},
		{"TooLarge", bytes.Repeat([]byte("a"), MaxBytes+1), "at most 1 MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || errs.CodeOf(err) != errs.EINVALID || !strings.Contains(errs.MessageOf(err), tc.want) {
				t.Fatalf("got %v, want an EINVALID error saying %q", err, tc.want)
			}
		})
	}
	t.Run("ExactlyTheLimitIsFine", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("name,email,organisation\n")
		for i := 0; i < MaxRows; i++ {
			fmt.Fprintf(&b, "Person %d,p%d@example.org,Org A\n", i, i)
		}
		if f := mustParse(t, []byte(b.String())); len(f.Records) != MaxRows {
			t.Fatalf("got %d records, want %d", len(f.Records), MaxRows)
		}
	})
}

var orgs = []auth.Organisation{{ID: "org-a-1", Name: "Org A"}, {ID: "refuge-2", Name: "Northern  Refuge"}}

// outcomes checks a file against orgs and returns each row's message
// (problems) or outcome.
func outcomes(t *testing.T, csv string) []string {
	t.Helper()
	var out []string
	for _, r := range check(mustParse(t, []byte(csv)), orgs) {
		if r.Outcome == Invalid {
			out = append(out, r.Message())
		} else {
			out = append(out, fmt.Sprintf("row %d: %s %v advocate=%v %s", r.Row, r.Email, r.Roles, r.Advocate, r.OrgID))
		}
	}
	return out
}

func TestCheckSaysWhatIsWrongWithEachRow(t *testing.T) {
	got := outcomes(t, "name,email,roles,organisation,advocate\n"+
		"Amy Adams,Amy@Example.org,,org a,\n"+ // 2: fine, learner by default
		"Ben Brown,ben@,Learner,Org A,no\n"+ // 3
		"Cat Cole,AMY@example.ORG,Learner,Org A,no\n"+ // 4: Amy's address again
		"Dan Dale,dan@example.org,Learner,Nowhere Trust,no\n"+ // 5
		"Eve Ekwe,eve@example.org,Superuser,Org A,no\n"+ // 6
		",fay@example.org,Learner,Org A,maybe\n"+ // 7: two problems
		"Gus Grey,gus@example.org,Administrator; manager,northern refuge,yes\n"+ // 8
		"Hal Hart,hal@example.org,Advocate,Org A,no\n"+ // 9
		"Ida Iles,,Learner,,\n") // 10
	want := []string{
		"row 2: amy@example.org [learner] advocate=false org-a-1",
		"Row 3: the email “ben@” is not a valid address",
		"Row 4: duplicate of row 2 (the same email address)",
		"Row 5: the organisation “Nowhere Trust” is not one of yours: add it on the Organisations page first, or correct the spelling",
		"Row 6: the role “superuser” is not known (use Learner, Advocate, Manager or Administrator)",
		"Row 7: the name is missing; advocate should be yes or no, not “maybe”",
		"row 8: gus@example.org [advocate manager admin] advocate=true refuge-2",
		"Row 9: the roles include Advocate but advocate says no",
		"Row 10: the email is missing; the organisation is missing",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRoleWordsAndYesNo(t *testing.T) {
	for cell, want := range map[string][]auth.Role{
		"":                         {auth.RoleLearner},
		"Learner":                  {auth.RoleLearner},
		"learners and managers":    {auth.RoleLearner, auth.RoleManager},
		"Administrator/Advocate":   {auth.RoleAdmin, auth.RoleAdvocate},
		"admin, admin":             {auth.RoleAdmin},
		"Learner + Manager; admin": {auth.RoleLearner, auth.RoleManager, auth.RoleAdmin},
	} {
		got, bad := parseRoles(cell)
		if !slices.Equal(got, want) || len(bad) != 0 {
			t.Errorf("parseRoles(%q): got %v (unknown %v), want %v", cell, got, bad, want)
		}
	}
	for cell, want := range map[string]bool{"Yes": true, "y": true, "TRUE": true, "1": true, "no": false, "": false, "N": false} {
		if got, _, ok := parseYesNo(cell); !ok || got != want {
			t.Errorf("parseYesNo(%q): got %v %v, want %v", cell, got, ok, want)
		}
	}
	if _, _, ok := parseYesNo("perhaps"); ok {
		t.Error(`parseYesNo("perhaps") was understood`)
	}
}

// FuzzParsePeopleCSV: whatever the bytes, Parse does not panic; a file it
// accepts has at most MaxRows rows in increasing order, clean UTF-8 text
// whose hash is Hash, and reads back the same from that text (which is
// what the confirmation parses); checking its rows does not panic.
func FuzzParsePeopleCSV(f *testing.F) {
	for _, seed := range []string{
		"name,email,roles,organisation,advocate\r\nZoë,zoe@example.org,Learner,Org A,no\r\n",
		"\uFEFFname;email;organisation\n\"Smith; Jane\";jane@example.org;Org A\n",
		"name\temail\torganisation\nA\ta@b.org\tOrg A\n\n\n",
		"email,name,organisation\n\"unclosed,x@y.org,Org A\n",
		"name,email,organisation\nA \"B\" C,a@b.org,Org A\nD,d@e.org,Org A\n",
		"name,email,organisation\rA,a@b.org,Org A\r",
		"\xff\xfen\x00a\x00m\x00e\x00,\x00e\x00m\x00a\x00i\x00l\x00,\x00o\x00r\x00g\x00\n\x00",
		"name,email,organisation\nZo\xeb,z@b.org,Org A\n",
		"PK\x03\x04",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if errs.CodeOf(err) != errs.EINVALID || errs.MessageOf(err) == "" {
				t.Fatalf("a problem with the file is not an EINVALID with words: %v", err)
			}
			return
		}
		if len(file.Records) == 0 || len(file.Records) > MaxRows {
			t.Fatalf("%d records", len(file.Records))
		}
		for i, r := range file.Records {
			if i > 0 && r.Row <= file.Records[i-1].Row {
				t.Fatalf("row numbers not increasing: %d after %d", r.Row, file.Records[i-1].Row)
			}
			if r.Row < 2 {
				t.Fatalf("a data row numbered %d (the header is row 1)", r.Row)
			}
		}
		if !utf8.ValidString(file.Text) {
			t.Fatal("the text is not UTF-8")
		}
		if sum := sha256.Sum256([]byte(file.Text)); hex.EncodeToString(sum[:]) != file.Hash {
			t.Fatal("the hash is not the text's")
		}
		again, err := Parse([]byte(file.Text))
		if err != nil {
			t.Fatalf("the text kept for the confirmation does not parse: %v", err)
		}
		if !reflect.DeepEqual(again.Records, file.Records) || again.Hash != file.Hash {
			t.Fatalf("the text reads back differently:\n%+v\n%+v", file.Records, again.Records)
		}
		for _, r := range check(file, orgs) {
			if r.Outcome == Invalid && len(r.Problems) == 0 {
				t.Fatalf("row %d is not added but says no reason", r.Row)
			}
		}
	})
}
