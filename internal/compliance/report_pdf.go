package compliance

// This is the only file of the package that uses gofpdf (see
// certificates/render.go for why that matters).

import (
	"bytes"
	"fmt"
	"time"

	"github.com/jung-kurt/gofpdf"
)

// ReportFonts are the TrueType fonts of the reports (any Unicode name).
type ReportFonts struct{ Regular, Bold []byte }

func (s *Service) newReport(title string, now time.Time) *gofpdf.Fpdf {
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(now)
	pdf.SetTitle(title, true)
	pdf.SetAuthor("Family Advocacy Learning", true)
	pdf.AddUTF8FontFromBytes("body", "", s.Fonts.Regular)
	pdf.AddUTF8FontFromBytes("body", "B", s.Fonts.Bold)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 15)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("body", "", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("%s · produced %s · page %d", title, now.In(London).Format("2 January 2006 15:04"), pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("body", "B", 16)
	pdf.MultiCell(0, 8, title, "", "L", false)
	pdf.Ln(2)
	return pdf
}

func stateText(s State) string { return s.Label() }

func dateText(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return t.In(London).Format("2 Jan 2006")
}

// AdvocateReport renders one advocate's compliance report.
func (s *Service) AdvocateReport(a *Advocate, now time.Time) ([]byte, error) {
	pdf := s.newReport("Compliance report: "+a.Name, now)
	pdf.SetFont("body", "", 10)
	line := func(k, v string) {
		pdf.SetFont("body", "B", 10)
		pdf.CellFormat(55, 6, k, "", 0, "L", false, 0, "")
		pdf.SetFont("body", "", 10)
		pdf.MultiCell(0, 6, v, "", "L", false)
	}
	line("Profession", Label(a.Profession))
	line("Status", Label(a.Status))
	line("Contract start", dateText(a.ContractStart))
	line("Cleared for allocation", map[bool]string{true: "Yes", false: "No"}[a.Snapshot.Cleared])
	line("Overall", stateText(a.Snapshot.Overall))
	pdf.Ln(3)
	pdf.SetFont("body", "B", 12)
	pdf.CellFormat(0, 7, "Requirements", "", 1, "L", false, 0, "")
	pdf.SetFont("body", "B", 9)
	widths := []float64{35, 22, 25, 98}
	for i, h := range []string{"Requirement", "State", "Due", "Why"} {
		pdf.CellFormat(widths[i], 6, h, "1", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("body", "", 9)
	for _, r := range a.Snapshot.Requirements {
		y := pdf.GetY()
		pdf.CellFormat(widths[0], 6, RequirementLabels[r.Key], "", 0, "L", false, 0, "")
		pdf.CellFormat(widths[1], 6, stateText(r.State), "", 0, "L", false, 0, "")
		pdf.CellFormat(widths[2], 6, dateText(r.Due), "", 0, "L", false, 0, "")
		pdf.MultiCell(widths[3], 6, r.Reason, "", "L", false)
		pdf.Line(15, max(pdf.GetY(), y+6), 195, max(pdf.GetY(), y+6))
	}
	pdf.Ln(3)
	pdf.SetFont("body", "B", 12)
	pdf.CellFormat(0, 7, "CPD", "", 1, "L", false, 0, "")
	pdf.SetFont("body", "", 9)
	pr := Progress(s.Policy.Rule(a.Profession), a.CPD, now)
	pdf.MultiCell(0, 5, pr.Summary+" ("+pr.Period.Label()+")", "", "L", false)
	for _, e := range a.CPD {
		pdf.MultiCell(0, 5, fmt.Sprintf("%s  %s (%s, %s h)", e.Date.In(London).Format("2 Jan 2006"), e.Title, Label(e.Type), trimFloat(e.Hours)), "", "L", false)
	}
	pdf.Ln(2)
	pdf.SetFont("body", "B", 12)
	pdf.CellFormat(0, 7, "DBS checks", "", 1, "L", false, 0, "")
	pdf.SetFont("body", "", 9)
	for _, d := range a.DBS {
		pdf.MultiCell(0, 5, fmt.Sprintf("Issued %s, %s, workforce %s, number ending %s, decision %s", d.IssueDate.In(London).Format("2 Jan 2006"),
			d.Level, Label(d.Workforce), d.NumberLast4, Label(d.Decision)), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("compliance report: %w", err)
	}
	return buf.Bytes(), nil
}

// OrganisationReport renders an organisation's compliance report.
func (s *Service) OrganisationReport(orgName string, d *Dashboard, now time.Time) ([]byte, error) {
	pdf := s.newReport("Compliance report: "+orgName, now)
	pdf.SetFont("body", "", 10)
	pdf.MultiCell(0, 6, fmt.Sprintf("%d advocates; %d cleared for allocation to families. Met %d · due soon %d · missing %d · overdue %d.",
		d.Advocates, d.Cleared, d.Counts[Met], d.Counts[DueSoon], d.Counts[Missing], d.Counts[Overdue]), "", "L", false)
	pdf.Ln(3)
	cols := append([]string{"Advocate", "Cleared"}, RequirementKeys...)
	widths := []float64{48, 16, 19, 19, 19, 19, 20, 20}
	pdf.SetFont("body", "B", 8)
	for i, c := range cols {
		label := c
		if l, ok := RequirementLabels[c]; ok {
			label = l
		}
		pdf.CellFormat(widths[i], 6, label, "1", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("body", "", 8)
	for _, r := range d.Rows {
		pdf.CellFormat(widths[0], 5, r.Name, "1", 0, "L", false, 0, "")
		pdf.CellFormat(widths[1], 5, map[bool]string{true: "Yes", false: "No"}[r.Cleared], "1", 0, "L", false, 0, "")
		for i, k := range RequirementKeys {
			pdf.CellFormat(widths[i+2], 5, stateText(r.States[k]), "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("compliance report: %w", err)
	}
	return buf.Bytes(), nil
}
