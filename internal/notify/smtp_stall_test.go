package notify_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/notify"
)

// stallingSMTP is a mail server that answers until DATA and then says
// nothing (a server that has stopped responding mid-message).
func stallingSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				say := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
				say("220 stall.test ESMTP")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 stall.test")
					case strings.HasPrefix(cmd, "DATA"):
						time.Sleep(5 * time.Second) // never answers within the test's deadline
						return
					case strings.HasPrefix(cmd, "QUIT"):
						say("221 bye")
						return
					default:
						say("250 OK")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestASendGivesUpWhenItsContextEnds: the mail server stops answering in
// the middle of a message; the send returns when its context's deadline
// passes (not after the client's 30-second time-out), and closing the
// session then does not wait for the abandoned send.
func TestASendGivesUpWhenItsContextEnds(t *testing.T) {
	s, err := notify.ParseSMTPURL("smtp://"+stallingSMTP(t)+"?tls=none", "LMS <lms@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = sess.Send(ctx, &notify.Message{ID: "m1", To: "lena@example.org", Subject: "Hello", Text: "Hello"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("a send to a stalled server returned %v after %s, want the deadline after 300 ms", err, time.Since(start))
	}
	closed := time.Now()
	if err := sess.Close(); err != nil || time.Since(closed) > time.Second {
		t.Fatalf("closing after an abandoned send: %v after %s", err, time.Since(closed))
	}
}
