package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/family-advocacy/lms/internal/testenv"
)

// passSampleCourse takes the signed-in learner through the sample course to a pass.
func passSampleCourse(t *testing.T, b *testenv.Browser) {
	t.Helper()
	b.Open("/courses/sample-course")
	b.Follow(`form[action="/courses/sample-course/enrol"] button`)
	for i := 0; i < 3; i++ {
		b.Follow("#complete")
	}
	b.Follow("#start-attempt")
	answerPaper(t, b, true)
	b.Follow("#submit-answers")
	b.MustContain("main h1", "You passed")
}

// TestJourneyCertificate: pass a course → the certificate appears →
// download it → its text has the learner's name and the code → the verify
// page says valid → uploading the file says unaltered → an admin revokes it
// → the verify page says revoked.
func TestJourneyCertificate(t *testing.T) {
	testenv.NeedCommand(t, "pdftotext", "poppler-utils")
	s := startSite(t, map[string]string{"LMS_DEMO": "true", "LMS_COURSES_DIR": filepath.Join(testenv.RepoRoot(), "courses", "testdata"),
		"LMS_COMPLIANCE_POLICY": filepath.Join(testenv.RepoRoot(), "internal", "compliance", "testdata", "sample-policy.yaml"),
		"LMS_REGISTRATION":      "open"}) // enrols straight after registering (verify mode: internal/server/registration_test.go)
	b := testenv.NewBrowser(t, s.URL)
	const name = "Zoë Łukasiewicz-Ørsted"

	// A learner with that name registers and passes.
	b.Open("/register")
	b.Fill("#f-name", name)
	b.Fill("#f-email", "zoe@example.org")
	b.Fill("#f-password", "river kettle lantern meadow")
	testenv.Eval[bool](b, `(document.querySelector("#f-org").selectedIndex = 1, true)`)
	b.Click("#jr-advocate")
	b.Follow(`form[action="/register"] button[type=submit]`)
	passSampleCourse(t, b)

	// The certificate appears.
	b.Follow("#download-certificate ~ a[href='/my/certificates']")
	code := strings.TrimSpace(b.Text(".cert-code"))
	if len(code) != 17 {
		t.Fatalf("certificate code %q", code)
	}
	b.MustContain(".certificate", "Valid")

	// Download it; its text has the name and the code.
	pdf := b.Fetch("/certificates/" + code + "/download")
	path := filepath.Join(t.TempDir(), "certificate.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{name, code, "Sample course for tests", "0.5 CPD hours"} {
		if !strings.Contains(string(text), want) {
			t.Fatalf("certificate text lacks %q:\n%s", want, text)
		}
	}

	// Anyone can verify it, by code and by file.
	b.Follow(`.signout button`)
	b.Open("/verify")
	b.Fill("#f-code", strings.ToLower(code))
	b.Follow(`form[action="/verify"] button`)
	b.MustContain("#status", "This certificate is valid")
	b.MustContain("#certificate", name)
	b.Open("/verify")
	b.Upload("#f-file", path)
	b.Follow("#check-file")
	b.MustContain("#verdict", "issued by us and is unaltered")

	// An admin revokes it (setting up two-factor authentication first).
	signInSettingUp2FA(b, s, "admin@demo.example")
	b.MustContain("main", "recovery codes")
	b.Open("/admin/certificates/" + code)
	testenv.Eval[bool](b, `(document.querySelector("#f-reason").value = "not-genuine", true)`)
	b.Fill("#f-note", "Checked with the learner's employer")
	b.AcceptDialogs()
	b.Follow("#revoke")
	b.MustContain(".notice", "has been revoked")
	b.Open("/verify/" + code)
	b.MustContain("#status", "revoked")
	b.MustContain("#status", "The completion was found not to be genuine")
}
