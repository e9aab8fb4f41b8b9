package testenv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the test SMTP server accepted.
type Mail struct {
	From      string
	To        []string
	Subject   string
	MessageID string
	Text      string // the decoded text/plain part
	HTML      string // the decoded text/html part
	Raw       []byte
}

// SMTPServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port that requires PLAIN authentication and keeps what it
// accepts in memory.
type SMTPServer struct {
	URL string // SMTP_URL for the app, with credentials and tls=none

	mu     sync.Mutex
	mail   []Mail
	failTo map[string]bool
	srv    *smtp.Server
	delay  time.Duration // each DATA takes this long (to see concurrency)

	conns, open, maxOpen int // connections: in all, open now, most open at once
}

// Connections reports how many connections the server accepted in all and
// the most that were open at once.
func (s *SMTPServer) Connections() (total, maxOpen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.maxOpen
}

// SlowDown makes the server take d over each message it accepts.
func (s *SMTPServer) SlowDown(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

const smtpUser, smtpPass = "lms", "test-smtp-password"

// StartSMTP starts a server that stops when the test ends.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{URL: "smtp://" + smtpUser + ":" + smtpPass + "@" + l.Addr().String() + "?tls=none", failTo: map[string]bool{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.open++
		s.maxOpen = max(s.maxOpen, s.open)
		s.mu.Unlock()
		return &smtpSession{s: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Mail returns what the server accepted so far.
func (s *SMTPServer) Mail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// To returns the messages accepted for one address.
func (s *SMTPServer) To(addr string) []Mail {
	var out []Mail
	for _, m := range s.Mail() {
		for _, to := range m.To {
			if to == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

// Refuse makes the server reject (or, with false, accept again) mail to addr.
func (s *SMTPServer) Refuse(addr string, refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failTo[addr] = refuse
}

type smtpSession struct {
	s      *SMTPServer
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != smtpUser || pass != smtpPass {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.failTo[to] {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox unavailable (test)"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: ss.from, To: ss.to, Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		m.Subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
		m.MessageID = msg.Header.Get("Message-Id")
		m.Text, m.HTML = bodies(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	}
	ss.s.mu.Lock()
	delay := ss.s.delay
	ss.s.mu.Unlock()
	time.Sleep(delay)
	ss.s.mu.Lock()
	ss.s.mail = append(ss.s.mail, m)
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error {
	ss.s.mu.Lock()
	ss.s.open--
	ss.s.mu.Unlock()
	return nil
}

// bodies decodes the text and HTML parts of a message body.
func bodies(contentType, encoding string, body io.Reader) (text, html string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", ""
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return text, html
			}
			t, h := bodies(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			text, html = text+t, html+h
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(body)
	switch mt {
	case "text/plain":
		return string(b), ""
	case "text/html":
		return "", string(b)
	}
	return "", ""
}
