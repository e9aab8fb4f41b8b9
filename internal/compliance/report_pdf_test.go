package compliance

import (
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The report tests read the PDFs with poppler's pdftotext and pdftoppm,
// as a person printing them would see them.

const reportOrg = "Northern Family Advocacy Partnership (Greater Manchester and Lancashire)"

// reportNow is when the test reports are produced: 22 November 2026.
var reportNow = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func reportService(t *testing.T) *Service {
	t.Helper()
	reg, err := os.ReadFile("../../web/static/fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	bold, err := os.ReadFile("../../web/static/fonts/DejaVuSans-Bold.ttf")
	if err != nil {
		t.Fatal(err)
	}
	return NewService(nil, Deps{Policy: testPolicy(t), Fonts: ReportFonts{Regular: reg, Bold: bold}, Now: func() time.Time { return reportNow }})
}

func needPoppler(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			// As testenv.NeedCommand (which this package cannot import):
			// .ci/run installs poppler-utils, so in CI a missing tool fails.
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s (poppler-utils) is not installed, and CI needs it", tool)
			}
			t.Skipf("%s (poppler-utils) is not installed: apt-get install poppler-utils", tool)
		}
	}
}

// writePDF saves the PDF for the poppler tools (and for a person to look
// at when a test fails).
func writePDF(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func poppler(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// pdfPages returns each page's text as pdftotext lays it out.
func pdfPages(t *testing.T, path, mode string) []string {
	t.Helper()
	p := strings.Split(poppler(t, "pdftotext", mode, "-enc", "UTF-8", path, "-"), "\f")
	if len(p) > 0 && strings.TrimSpace(p[len(p)-1]) == "" {
		p = p[:len(p)-1]
	}
	return p
}

// squash joins text into single-spaced words (for text wrapped over lines).
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// nospace drops all white space (for words wrapped inside, like long names).
func nospace(s string) string { return strings.Join(strings.Fields(s), "") }

type wordBox struct {
	XMin float64 `xml:"xMin,attr"`
	YMin float64 `xml:"yMin,attr"`
	XMax float64 `xml:"xMax,attr"`
	YMax float64 `xml:"yMax,attr"`
	Text string  `xml:",chardata"`
}

// wordBoxes returns the bounding box of every word, page by page.
func wordBoxes(t *testing.T, path string) [][]wordBox {
	t.Helper()
	var doc struct {
		Pages []struct {
			Words []wordBox `xml:"word"`
		} `xml:"body>doc>page"`
	}
	dec := xml.NewDecoder(strings.NewReader(poppler(t, "pdftotext", "-bbox", "-enc", "UTF-8", path, "-")))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out [][]wordBox
	for _, p := range doc.Pages {
		out = append(out, p.Words)
	}
	return out
}

// assertNoOverlap fails when two words on a page overprint each other.
func assertNoOverlap(t *testing.T, path string) {
	t.Helper()
	const eps = 0.25 // points
	boxes := wordBoxes(t, path)
	if len(boxes) == 0 {
		t.Fatal("pdftotext -bbox found no pages")
	}
	overlaps := 0
	for n, words := range boxes {
		for i := range words {
			for j := i + 1; j < len(words); j++ {
				a, b := words[i], words[j]
				if min(a.XMax, b.XMax)-max(a.XMin, b.XMin) > eps && min(a.YMax, b.YMax)-max(a.YMin, b.YMin) > eps {
					if overlaps++; overlaps <= 5 {
						t.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) overlaps %q at (%.1f,%.1f)-(%.1f,%.1f)", n+1,
							a.Text, a.XMin, a.YMin, a.XMax, a.YMax, b.Text, b.XMin, b.YMin, b.XMax, b.YMax)
					}
				}
			}
		}
	}
	if overlaps > 5 {
		t.Errorf("%d overlapping words in all", overlaps)
	}
}

// assertPageNumbers checks every page says "Page n of m", the date the
// report was produced and whose report it is.
func assertPageNumbers(t *testing.T, pp []string, who string) {
	t.Helper()
	if len(pp) < 2 {
		t.Fatalf("got %d pages, want several", len(pp))
	}
	for i, p := range pp {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pp)); !strings.Contains(p, want) {
			t.Errorf("page %d: no %q", i+1, want)
		}
		if !strings.Contains(squash(p), "22 November 2026") {
			t.Errorf("page %d: no date produced (22 November 2026)", i+1)
		}
		if !strings.Contains(squash(p), who) {
			t.Errorf("page %d: no %q", i+1, who)
		}
	}
}

// assertStateColours renders page 1 and checks it is in colour: every
// state's fill is there, and other pixels are coloured too.
func assertStateColours(t *testing.T, path string, states ...State) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	poppler(t, "pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", path, prefix)
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d > -10 && d < 10 }
	found, coloured, total := map[State]int{}, 0, 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			total++
			if max(r, g, b)>>8-min(r, g, b)>>8 > 60 {
				coloured++
			}
			for _, s := range states {
				c := stateStyles[s].Fill
				if near(r, c[0]) && near(g, c[1]) && near(b, c[2]) {
					found[s]++
				}
			}
		}
	}
	if coloured < total/200 {
		t.Errorf("page 1: %d of %d pixels coloured, want at least %d", coloured, total, total/200)
	}
	for _, s := range states {
		if found[s] < 20 {
			t.Errorf("page 1: %d pixels of the %s colour, want at least 20", found[s], s.Label())
		}
	}
}

// reportDashboard is an organisation of 60 advocates, some with long
// names, in every state, with due dates from 40 days ago to next year.
func reportDashboard() *Dashboard {
	d := &Dashboard{Counts: map[State]int{}}
	for i := 0; i < 60; i++ {
		name := fmt.Sprintf("Advocate %02d Smith", i)
		switch i % 7 {
		case 3:
			name = fmt.Sprintf("Dr Maximiliana Featherstonehaugh-Wolfeschlegelsteinhausen %02d of the Lancashire Partnership", i)
		case 5:
			name = fmt.Sprintf("Siobhán Ní Bhriain-O'Donoghue %02d", i)
		}
		r := Row{ID: fmt.Sprint(i), Name: name, Status: AdvocateStatuses[i%3], States: map[string]State{}, Due: map[string]*time.Time{}, Overall: Met}
		for k, key := range RequirementKeys {
			days := (i*37+k*71)%420 - 40
			if i%5 == 0 { // all met
				days = 100 + (i*13+k*17)%300
			}
			if i%5 != 0 && ((i+k)%11 == 0 || i%9 == 8 && k < 3) {
				r.States[key] = Missing
			} else {
				due := reportNow.AddDate(0, 0, days)
				r.States[key], r.Due[key] = byDate(reportNow, due, 60), &due
			}
			if Worse(r.States[key], r.Overall) {
				r.Overall = r.States[key]
			}
		}
		if i == 59 { // nothing recorded yet
			for _, key := range RequirementKeys {
				r.States[key], r.Due[key] = Missing, nil
			}
			r.Overall = Missing
		}
		_, r.NextDue = r.Next()
		r.Cleared = true
		for _, k := range []string{ReqDBS, ReqReferences, ReqTraining} {
			r.Cleared = r.Cleared && (r.States[k] == Met || r.States[k] == DueSoon)
		}
		d.Rows = append(d.Rows, r)
		d.Advocates++
		d.Counts[r.Overall]++
		if r.Cleared {
			d.Cleared++
		}
	}
	d.Total = len(d.Rows)
	return d
}

func TestOrganisationReport(t *testing.T) {
	needPoppler(t)
	s, d := reportService(t), reportDashboard()
	pdf, err := s.OrganisationReport(reportOrg, d, reportNow)
	if err != nil {
		t.Fatal(err)
	}
	path := writePDF(t, pdf)
	layout, raw := pdfPages(t, path, "-layout"), pdfPages(t, path, "-raw")
	all := squash(strings.Join(raw, "\n"))

	t.Run("PageNumbersDateAndOrganisationOnEveryPage", func(t *testing.T) {
		assertPageNumbers(t, layout, reportOrg)
	})
	t.Run("TableHeaderOnEveryPage", func(t *testing.T) {
		for i, p := range layout {
			for _, h := range []string{"Advocate", "Cleared", "DBS check", "Supervision", "Next due"} {
				if !strings.Contains(p, h) {
					t.Errorf("page %d: no column header %q", i+1, h)
				}
			}
		}
	})
	t.Run("SummaryCounts", func(t *testing.T) {
		first := squash(raw[0])
		for _, want := range []string{
			fmt.Sprintf("%d advocates", d.Advocates),
			fmt.Sprintf("%d cleared for allocation", d.Cleared),
			fmt.Sprintf("Met: %d", d.Counts[Met]), fmt.Sprintf("Due soon: %d", d.Counts[DueSoon]),
			fmt.Sprintf("Missing: %d", d.Counts[Missing]), fmt.Sprintf("Overdue: %d", d.Counts[Overdue]),
		} {
			if !strings.Contains(first, want) {
				t.Errorf("page 1: no %q", want)
			}
		}
	})
	t.Run("EveryAdvocateWithNextDueDate", func(t *testing.T) {
		for _, r := range d.Rows {
			if !strings.Contains(nospace(all), nospace(r.Name)) {
				t.Errorf("no advocate %q", r.Name)
			}
			key, due := r.Next()
			if due == nil {
				continue
			}
			date := due.In(London).Format("2 January 2006")
			if !strings.Contains(squash(strings.Join(layout, "\n")), date) {
				t.Errorf("%s: next due date %q not printed", r.Name, date)
			}
			if want := RequirementLabels[key] + " on " + date; !strings.Contains(all, want) {
				t.Errorf("%s: no %q", r.Name, want)
			}
		}
	})
	t.Run("EveryDueDatePrinted", func(t *testing.T) {
		for _, r := range d.Rows {
			for _, k := range RequirementKeys {
				if due := r.Due[k]; due != nil && !strings.Contains(all, due.In(London).Format("2 January 2006")) {
					t.Errorf("%s: %s due date not printed", r.Name, k)
				}
			}
		}
	})
	t.Run("NoOverlappingText", func(t *testing.T) { assertNoOverlap(t, path) })
	t.Run("StatesInColour", func(t *testing.T) { assertStateColours(t, path, Met, DueSoon, Missing, Overdue) })
}

// reportAdvocate is an advocate with a long record: 70 CPD entries, two
// DBS checks, references and supervisions, with sensitive fields set.
func reportAdvocate(t *testing.T, s *Service) *Advocate {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, London) }
	seen := at(2024, 5, 2)
	a := &Advocate{ID: "a1", Name: "Siobhán Featherstonehaugh-Wolfeschlegelsteinhausen", OrgID: "org", Profession: SocialWorker,
		ProfessionalBody: "Social Work England", RegistrationNo: "SW123456", Status: StatusActive,
		ContractStart: ptr(at(2024, 6, 1)), RegistrationDue: ptr(at(2026, 12, 1)),
		DBS: []DBSCheck{
			{ID: "d1", Level: "enhanced", BarredLists: []string{"children", "adults"}, Workforce: "child-and-adult", CertificateNumber: "009988776655",
				NumberLast4: "6655", IssueDate: at(2021, 5, 1), Decision: "clear", DecisionNotes: "SECRET-DECISION-NOTE", OriginalSeenBy: "Pat Manager", OriginalSeenAt: &seen},
			{ID: "d2", Level: "enhanced", BarredLists: []string{"children", "adults"}, Workforce: "child-and-adult", CertificateNumber: "001122334455",
				NumberLast4: "4455", IssueDate: at(2024, 4, 20), Decision: "clear-after-risk-assessment", DecisionAt: &seen, DecisionNotes: "SECRET-DECISION-NOTE-2"},
		},
		References: []Reference{
			{ID: "r1", Referee: "Professor Eleanor Montgomery-Hargreaves", Relationship: "Former line manager", Organisation: "Lancashire County Council Children's Services",
				Contact: "eleanor@example.org", ReceivedAt: ptr(at(2024, 5, 10)), Outcome: "satisfactory", Notes: "SECRET-REFERENCE-NOTE", VerifiedBy: "Pat Manager", VerifiedAt: ptr(at(2024, 5, 11))},
		},
		Supervisions: []Supervision{{ID: "s1", Date: at(2026, 8, 1), Supervisor: "Pat Manager", Kind: "individual", Notes: "SECRET-SUPERVISION-NOTE"}},
		Training:     map[string]time.Time{},
	}
	for i := 0; i < 70; i++ {
		title := fmt.Sprintf("CPD entry %02d: reflective practice", i)
		if i%4 == 0 {
			title = fmt.Sprintf("CPD entry %02d: a very long course title about safeguarding adults and children in family court proceedings, with a long subtitle", i)
		}
		a.CPD = append(a.CPD, CPDEntry{ID: fmt.Sprint(i), Date: at(2026, 11, 20).AddDate(0, 0, -5*i), Title: title, Type: CPDTypes[i%len(CPDTypes)],
			Hours: 1.5, Learnt: "SECRET-LEARNT", Impact: "SECRET-IMPACT", PeerName: map[bool]string{true: "Sam Peer"}[i%3 == 0]})
	}
	a.Snapshot = Evaluate(s.Policy, a, func(slug string) string { return slug }, reportNow)
	return a
}

func TestAdvocateReport(t *testing.T) {
	needPoppler(t)
	s := reportService(t)
	a := reportAdvocate(t, s)
	pdf, err := s.AdvocateReport("Sample Advocacy Service", a, reportNow)
	if err != nil {
		t.Fatal(err)
	}
	path := writePDF(t, pdf)
	layout, raw := pdfPages(t, path, "-layout"), pdfPages(t, path, "-raw")
	all := squash(strings.Join(raw, "\n"))

	t.Run("PageNumbersDateAndNameOnEveryPage", func(t *testing.T) {
		assertPageNumbers(t, layout, a.Name)
		assertPageNumbers(t, layout, "Sample Advocacy Service")
	})
	t.Run("RequirementsWithStatesDatesAndReasons", func(t *testing.T) {
		for _, r := range a.Snapshot.Requirements {
			if !strings.Contains(all, RequirementLabels[r.Key]) || !strings.Contains(all, r.State.Label()) {
				t.Errorf("%s: no label or state %q", r.Key, r.State.Label())
			}
			if r.Due != nil && !strings.Contains(all, r.Due.In(London).Format("2 January 2006")) {
				t.Errorf("%s: due date %s not printed", r.Key, r.Due.In(London).Format("2 January 2006"))
			}
			if !strings.Contains(nospace(all), nospace(r.Reason)) {
				t.Errorf("%s: no reason %q", r.Key, r.Reason)
			}
		}
	})
	t.Run("NextDue", func(t *testing.T) {
		key, due := nextRequirement(a.Snapshot)
		if due == nil {
			t.Fatal("fixture has nothing due")
		}
		if want := RequirementLabels[key] + " on " + due.In(London).Format("2 January 2006"); !strings.Contains(all, want) {
			t.Errorf("no %q", want)
		}
	})
	t.Run("EveryCPDEntryAndCPDHeaderOnItsPages", func(t *testing.T) {
		for _, e := range a.CPD {
			if !strings.Contains(nospace(all), nospace(e.Title)) {
				t.Errorf("no CPD entry %q", e.Title)
			}
		}
		entry := regexp.MustCompile(`CPD entry \d\d`)
		cpdPages := 0
		for i, p := range layout {
			if !entry.MatchString(p) {
				continue
			}
			cpdPages++
			for _, h := range []string{"Date", "Title", "Hours"} {
				if !strings.Contains(p, h) {
					t.Errorf("page %d has CPD entries but no column header %q", i+1, h)
				}
			}
		}
		if cpdPages < 2 {
			t.Errorf("CPD entries on %d pages, want the table to run over at least 2", cpdPages)
		}
	})
	t.Run("NoSensitiveFields", func(t *testing.T) {
		for _, secret := range []string{"SECRET", "6655", "4455", "009988776655", "eleanor@example.org"} {
			if strings.Contains(all, secret) {
				t.Errorf("report shows %q", secret)
			}
		}
	})
	t.Run("NoOverlappingText", func(t *testing.T) { assertNoOverlap(t, path) })
	t.Run("StatesInColour", func(t *testing.T) {
		var states []State
		for _, r := range a.Snapshot.Requirements {
			states = append(states, r.State)
		}
		assertStateColours(t, path, states...)
	})
}
