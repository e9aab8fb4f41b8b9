package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/family-advocacy/lms/internal/testenv"
)

// setValue sets a field's value as a script would (time inputs take keys
// segment by segment in the browser's locale, 12-hour in en-US).
func setValue(b *testenv.Browser, sel, value string) {
	sj, _ := json.Marshal(sel)
	vj, _ := json.Marshal(value)
	testenv.Eval[bool](b, `(document.querySelector(`+string(sj)+`).value = `+string(vj)+`, true)`)
}

// fieldValue returns a field's value.
func fieldValue(b *testenv.Browser, sel string) string {
	sj, _ := json.Marshal(sel)
	return testenv.Eval[string](b, `document.querySelector(`+string(sj)+`).value`)
}

// waitMail waits for the messages to addr whose subject starts with
// subject and returns them (at least one, or the test fails).
func waitMail(t *testing.T, smtp *testenv.SMTPServer, addr, subject string) []testenv.Mail {
	t.Helper()
	var out []testenv.Mail
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out = out[:0]
		for _, m := range smtp.To(addr) {
			if strings.HasPrefix(m.Subject, subject) {
				out = append(out, m)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	var got []string
	for _, m := range smtp.To(addr) {
		got = append(got, m.Subject)
	}
	t.Fatalf("no email %q reached %s; it had %q", subject, addr, got)
	return nil
}

// mimePart is one leaf part of a message.
type mimePart struct {
	ContentType, Disposition string
	Body                     []byte
}

// mimeParts returns the leaf parts of a raw message, decoded.
func mimeParts(t *testing.T, raw []byte) []mimePart {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read the message: %v", err)
	}
	var out []mimePart
	var walk func(ctype, disp, enc string, body io.Reader)
	walk = func(ctype, disp, enc string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("a part's content type %q: %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("a multipart part: %v", err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		switch strings.ToLower(enc) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("decode a %s part: %v", mt, err)
		}
		out = append(out, mimePart{ContentType: ctype, Disposition: disp, Body: b})
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Disposition"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out
}

// invite is an emailed invitation as a calendar reads it.
type invite struct {
	ContentType string // of the attachment
	Method      string
	UID         string
	Start, End  time.Time
	DTStart     string // as written
	Sequence    string
	Status      string
	Raw         string
}

// parseCalendar parses an iCalendar text with its single event.
func parseCalendar(t *testing.T, what string, text []byte) (*ics.Calendar, invite) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("%s: parse the calendar: %v\n%s", what, err, text)
	}
	inv := invite{Raw: string(text)}
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			inv.Method = p.Value
		}
	}
	evs := cal.Events()
	if len(evs) != 1 {
		return cal, inv
	}
	ev := evs[0]
	inv.UID = ev.Id()
	if inv.Start, err = ev.GetStartAt(); err != nil {
		t.Fatalf("%s: DTSTART: %v\n%s", what, err, text)
	}
	if inv.End, err = ev.GetEndAt(); err != nil {
		t.Fatalf("%s: DTEND: %v\n%s", what, err, text)
	}
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); p != nil {
		inv.DTStart = p.Value
	}
	if p := ev.GetProperty(ics.ComponentPropertySequence); p != nil {
		inv.Sequence = p.Value
	}
	if p := ev.GetProperty(ics.ComponentPropertyStatus); p != nil {
		inv.Status = p.Value
	}
	return cal, inv
}

// invitationOf returns the invite.ics attached to a message, parsed.
func invitationOf(t *testing.T, m testenv.Mail) invite {
	t.Helper()
	var found []mimePart
	for _, p := range mimeParts(t, m.Raw) {
		if mt, _, _ := mime.ParseMediaType(p.ContentType); mt == "text/calendar" {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the email %q to %v has %d calendar attachments, want 1", m.Subject, m.To, len(found))
	}
	if !strings.Contains(found[0].Disposition, "invite.ics") && !strings.Contains(found[0].ContentType, "invite.ics") {
		t.Errorf("the email %q's calendar is not attached as invite.ics (Content-Disposition %q)", m.Subject, found[0].Disposition)
	}
	cal, inv := parseCalendar(t, "the invitation in “"+m.Subject+"”", found[0].Body)
	if n := len(cal.Events()); n != 1 {
		t.Fatalf("the invitation in %q has %d events, want 1:\n%s", m.Subject, n, found[0].Body)
	}
	inv.ContentType = found[0].ContentType
	return inv
}

func atoiOr(s string, or int) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return or
	}
	return n
}

var sessionLinkRE = regexp.MustCompile(`https?://[^/\s]+(/live/[0-9a-f]+)\b`)
