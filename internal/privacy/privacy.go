// Package privacy carries out people's rights over their data: a download
// of everything the service holds about them (built in the background),
// erasure on request, and the retention jobs that delete records once
// their time is up. Every collection's relation to a person is declared
// once, in store.Holdings, and store.PersonData follows it with point reads
// only; the records themselves are erased and redacted by the domain each
// belongs to (auth, learning, certificates, notify, compliance, audit).
package privacy

import (
	"crypto/rand"
	"encoding/hex"
	"html"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
)

// Certificate policies on erasure.
const (
	KeepStatus = "keep-status" // the code still verifies (course, date, status) without the name
	Delete     = "delete"      // the code no longer verifies
)

// Service carries out exports, erasure and retention.
type Service struct {
	DB     *store.DB    // finds a person's records (PersonData) and keeps data downloads
	Blobs  *blob.Sealed // data downloads (encrypted), and the files they copy (decrypted)
	Audit  *audit.Log
	Auth   *auth.Service
	Learn  *learning.Service
	Certs  *certificates.Service
	Comply *compliance.Service
	Mail   *notify.Mailer
	Impact *impact.Service // a learner's course evaluations, kept under a pseudonym (nil: none)
	Live   *live.Service   // their bookings of live training (nil: none)
	Now    func() time.Time
	Log    *slog.Logger

	BaseURL string // for the link in the email saying a download is ready
	Owner   string // this instance, for the lease on a download being built

	ErasureCertificates string // KeepStatus or Delete
	RetainEndedAdvocate int    // months after a contract ends
	RetainOutbox        int    // days

	// AfterExportRecord, when set (tests only), is called each time a
	// record or file has been written to a download being built; a test
	// cancels the build from it, as a crash or shutdown would.
	AfterExportRecord func(exportID string, done int)
	// FaultAfterEraseStep, when set (tests only), runs after each step of
	// an erasure (numbered from 1); an error stops the erasure there, as a
	// crash would.
	FaultAfterEraseStep func(step int) error

	wakeOnce sync.Once
	wakeUp   chan struct{}
}

// ErasedName is what an erased person is called from then on.
const ErasedName = auth.ErasedName

// erasedMention replaces the person's name and email wherever other
// records mention them.
const erasedMention = "[erased]"

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactor returns a function that replaces every mention of the phrases
// (a name, an email address; whole words, in any case, and as they appear
// escaped in HTML) with erasedMention.
func redactor(phrases ...string) func(string) string {
	var alts []string
	for _, p := range phrases {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		alts = append(alts, regexp.QuoteMeta(p))
		if e := html.EscapeString(p); e != p {
			alts = append(alts, regexp.QuoteMeta(e))
		}
	}
	if len(alts) == 0 {
		return func(s string) string { return s }
	}
	// Longest first, so that a phrase containing another wins.
	slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
	re := regexp.MustCompile(`(?i)(?:` + strings.Join(alts, "|") + `)`)
	return func(s string) string {
		locs := re.FindAllStringIndex(s, -1)
		if len(locs) == 0 {
			return s
		}
		var b strings.Builder
		last := 0
		for _, l := range locs {
			if !wordEdge(s, l[0], l[1]) {
				continue
			}
			b.WriteString(s[last:l[0]])
			b.WriteString(erasedMention)
			last = l[1]
		}
		b.WriteString(s[last:])
		return b.String()
	}
}

// wordEdge reports whether s[i:j] is a whole word (or words): no letter or
// digit right before or after it. Unlike regexp's \b, it knows letters
// beyond ASCII ("Zoë" ends at a word edge).
func wordEdge(s string, i, j int) bool {
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); word(r) {
			return false
		}
	}
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); word(r) {
			return false
		}
	}
	return true
}
