package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTP sends messages through an SMTP server.
type SMTP struct {
	host string
	opts []mail.Option
	from string
	// MessageIDDomain ends each Message-ID, so a receiver that sees a
	// retried message twice can tell it is the same one.
	domain string
}

// ParseSMTPURL configures an SMTP sender from a URL:
//
//	smtp://user:pass@host:587            STARTTLS required (the default)
//	smtps://user:pass@host:465           TLS from the first byte
//	smtp://host:25?tls=opportunistic     STARTTLS when offered
//	smtp://host:25?tls=none              plain text (a local relay only)
//
// With a user name, authentication is PLAIN unless ?auth= names another
// mechanism (login, cram-md5, scram-sha-256, autodiscover). from is the
// sender address, e.g. "Family Advocacy Learning <no-reply@example.org>".
func ParseSMTPURL(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("SMTP_URL: not a URL like smtp://user:password@host:587")
	}
	q := u.Query()
	s := &SMTP{host: u.Hostname(), from: from, opts: []mail.Option{mail.WithTimeout(30 * time.Second)}}
	port := 587
	switch u.Scheme {
	case "smtp":
	case "smtps":
		port = 465
		s.opts = append(s.opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme %q: use smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: port %q", p)
		}
	}
	s.opts = append(s.opts, mail.WithPort(port))
	if u.Scheme == "smtp" {
		switch q.Get("tls") {
		case "", "required":
			s.opts = append(s.opts, mail.WithTLSPortPolicy(mail.TLSMandatory))
		case "opportunistic":
			s.opts = append(s.opts, mail.WithTLSPortPolicy(mail.TLSOpportunistic))
		case "none":
			s.opts = append(s.opts, mail.WithTLSPortPolicy(mail.NoTLS))
		default:
			return nil, fmt.Errorf("SMTP_URL: tls=%q: use required, opportunistic or none", q.Get("tls"))
		}
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		auth := mail.SMTPAuthPlain
		if a := q.Get("auth"); a != "" {
			if err := auth.UnmarshalString(a); err != nil {
				return nil, fmt.Errorf("SMTP_URL: auth=%q: %w", a, err)
			}
		}
		s.opts = append(s.opts, mail.WithSMTPAuth(auth), mail.WithUsername(user), mail.WithPassword(pass))
	}
	if s.from == "" {
		s.from = "Family Advocacy Learning <no-reply@" + s.host + ">"
	}
	s.domain = s.host
	if i := strings.LastIndex(s.from, "@"); i >= 0 {
		s.domain = strings.Trim(s.from[i+1:], "> ")
	}
	if _, err := mail.NewClient(s.host, s.opts...); err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	return s, nil
}

// String describes the server without its credentials (for logs).
func (s *SMTP) String() string { return s.host }

// Open connects and authenticates to the server; the session sends any
// number of messages on that connection.
func (s *SMTP) Open(ctx context.Context) (Session, error) {
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return nil, err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, err
	}
	return &smtpSession{s: s, c: c}, nil
}

// smtpSession is one SMTP connection.
type smtpSession struct {
	s *SMTP
	c *mail.Client
	// abandoned is the result of a send whose context ended first: it
	// still holds the connection until the server answers or the client's
	// time-out (30 s) ends it.
	abandoned chan error
}

// Send delivers one message on the session's connection, giving up when
// ctx ends (go-mail's Send takes no context: it runs beside the wait, and
// the connection is closed once it returns).
func (ss *smtpSession) Send(ctx context.Context, m *Message) error {
	if ss.abandoned != nil {
		return errors.New("notify: the connection is still busy with a message given up on")
	}
	msg, err := ss.s.compose(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- ss.c.Send(msg) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		ss.abandoned = done
		return fmt.Errorf("notify: sending gave up: %w", ctx.Err())
	}
}

// Close says QUIT and closes the connection; after a send given up on, it
// does so in the background once that send has returned (closing under it
// would wait for it).
func (ss *smtpSession) Close() error {
	if ss.abandoned != nil {
		go func(done <-chan error) { <-done; _ = ss.c.Close() }(ss.abandoned)
		return nil
	}
	return ss.c.Close()
}

// compose builds the MIME message.
func (s *SMTP) compose(m *Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	msg.SetDateWithValue(m.Created)
	if m.Kind != "password_reset" {
		msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	if m.Calendar != "" {
		method := "REQUEST"
		if strings.Contains(m.Calendar, "METHOD:CANCEL") {
			method = "CANCEL"
		}
		if err := msg.AttachReader("invite.ics", strings.NewReader(m.Calendar),
			mail.WithFileContentType(mail.ContentType("text/calendar; charset=UTF-8; method="+method))); err != nil {
			return nil, fmt.Errorf("invitation: %w", err)
		}
	}
	return msg, nil
}
