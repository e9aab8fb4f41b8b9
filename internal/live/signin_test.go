package live

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/errs"
)

// signInFonts reads the fonts the server embeds, as the impact tests do.
func signInFonts(t *testing.T) (regular, bold []byte) {
	t.Helper()
	regular, err := os.ReadFile("../../web/static/fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	bold, err = os.ReadFile("../../web/static/fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		t.Fatal(err)
	}
	return regular, bold
}

// pdfPages is the text of a PDF's pages first to last (0: to the end),
// with runs of space made one.
func pdfPages(t *testing.T, pdf []byte, first, last int) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		// As testenv.NeedCommand (which this package cannot import):
		// .ci/run installs poppler-utils, so in CI a missing tool fails.
		if os.Getenv("CI") == "true" {
			t.Fatalf("pdftotext (poppler-utils) is not installed, and CI needs it")
		}
		t.Skip("pdftotext (poppler-utils) is not installed: apt-get install poppler-utils")
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("not a PDF: %.20q", pdf)
	}
	path := filepath.Join(t.TempDir(), "sign-in.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-layout", "-enc", "UTF-8", "-f", fmt.Sprint(first)}
	if last > 0 {
		args = append(args, "-l", fmt.Sprint(last))
	}
	out, err := exec.Command("pdftotext", append(args, path, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func signInSession(booked ...string) *Session {
	s := reportSession("s1", "Care proceedings: a day for advocates", InPerson, time.Date(2027, 6, 14, 8, 30, 0, 0, time.UTC), 6, 60, 6)
	s.Venue, s.Address = "Friends Meeting House", "6 Mount Street, Manchester"
	for i, name := range booked {
		s.Bookings[fmt.Sprint("u", i)] = reportBooking(fmt.Sprint("u", i), name, Booked, "")
	}
	s.Bookings["w1"] = reportBooking("w1", "Walter Waitlist", Waiting, "")
	s.Bookings["c1"] = reportBooking("c1", "Carla Cancelled", Cancelled, "")
	s.Bookings["o1"] = reportBooking("o1", "Otto Offered", Offered, "")
	return s
}

func TestSignInSheet(t *testing.T) {
	regular, bold := signInFonts(t)
	produced := time.Date(2027, 6, 10, 9, 0, 0, 0, time.UTC)

	t.Run("OnePageOfTheBookedByName", func(t *testing.T) {
		s := signInSession("Zofia Łukasiewicz", "Amal Haddad", "مريم", "Tom Baker")
		pdf, err := SignInSheet(s, "Northern Family Advocacy", produced, regular, bold)
		if err != nil {
			t.Fatal(err)
		}
		text := pdfPages(t, pdf, 1, 0)
		for _, want := range []string{
			"Sign-in sheet: Care proceedings: a day for advocates",
			"Monday 14 June 2027, 09:30 to 15:30", // London (BST)
			"Friends Meeting House, 6 Mount Street, Manchester", "Northern Family Advocacy", "4 booked",
			"Name Signature Arrived Left",
			"Amal Haddad", "Tom Baker", "Zofia Łukasiewicz",
			"Keep this sheet securely; it is destroyed with the session's records.",
			"Produced 10 June 2027", "Page 1 of 1",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF text lacks %q:\n%s", want, text)
			}
		}
		// The Arabic name is printed as on a certificate: its letters joined
		// (initial, medial and final forms: pdftotext reads them back in
		// reading order).
		if !strings.Contains(text, "\uFEE3\uFEAE\uFEF3\uFEE2") {
			t.Errorf("PDF text lacks the Arabic name:\n%s", text)
		}
		if a, z := strings.Index(text, "Amal Haddad"), strings.Index(text, "Zofia Łukasiewicz"); a > z {
			t.Errorf("names not in order: Amal at %d, Zofia at %d", a, z)
		}
		for _, absent := range []string{"Walter Waitlist", "Carla Cancelled", "Otto Offered"} {
			if strings.Contains(text, absent) {
				t.Errorf("PDF lists %q, who has no place:\n%s", absent, text)
			}
		}
		again, err := SignInSheet(s, "Northern Family Advocacy", produced, regular, bold)
		if err != nil || !bytes.Equal(pdf, again) {
			t.Errorf("the same sheet twice differs (%v)", err)
		}
	})

	t.Run("ManyBookedSpillOntoPageTwoUnderTheHeader", func(t *testing.T) {
		var names []string
		for i := 1; i <= 45; i++ {
			names = append(names, fmt.Sprintf("Person %02d", i))
		}
		pdf, err := SignInSheet(signInSession(names...), "", produced, regular, bold)
		if err != nil {
			t.Fatal(err)
		}
		one, two := pdfPages(t, pdf, 1, 1), pdfPages(t, pdf, 2, 2)
		if !strings.Contains(one, "Person 01") || strings.Contains(one, "Person 45") || !strings.Contains(one, "Page 1 of ") {
			t.Errorf("page 1: want Person 01, not Person 45, and Page 1 of:\n%s", one)
		}
		for _, want := range []string{"Care proceedings: a day for advocates", "Name Signature Arrived Left", "Person 45", "Page 2 of ",
			"Keep this sheet securely"} {
			if !strings.Contains(two, want) {
				t.Errorf("page 2 lacks %q:\n%s", want, two)
			}
		}
		for _, name := range names {
			if strings.Count(one+" "+two, name) != 1 {
				t.Errorf("%s: got %d times, want once", name, strings.Count(one+" "+two, name))
			}
		}
	})

	t.Run("OnlineHasNone", func(t *testing.T) {
		s := signInSession("Tom Baker")
		s.Mode = Online
		pdf, err := SignInSheet(s, "", produced, regular, bold)
		if pdf != nil || !errs.Is(err, errs.ECONFLICT) || errs.MessageOf(err) != "Online sessions have no sign-in sheet." {
			t.Errorf("got %d bytes, %v; want a conflict", len(pdf), err)
		}
	})
}
