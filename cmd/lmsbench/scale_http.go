package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
)

// scaleTimeout is how long the scale bench waits for any one response; a
// request that takes longer counts as taking this long.
const scaleTimeout = 120 * time.Second

var scaleHTTP = &http.Client{
	Timeout:       scaleTimeout,
	Transport:     &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// response is one answer, timed from sending the request to the body's
// last byte.
type response struct {
	status   int
	header   http.Header
	body     []byte
	took     time.Duration
	timedOut bool
	err      error
}

func fetch(req *http.Request) response {
	start := time.Now()
	resp, err := scaleHTTP.Do(req)
	if err != nil {
		var ne net.Error
		return response{took: time.Since(start), err: err, timedOut: errors.As(err, &ne) && ne.Timeout()}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header, body: body, took: time.Since(start), err: err}
	if err != nil {
		var ne net.Error
		r.timedOut = errors.As(err, &ne) && ne.Timeout()
	}
	return r
}

// ms is the time the response took, a timeout counting as scaleTimeout.
func (r response) ms() float64 {
	if r.timedOut {
		return ms(scaleTimeout)
	}
	return ms(r.took)
}

// problem describes an answer that is not the one expected, with the
// start of its body.
func (r response) problem(what string, want ...int) error {
	if r.timedOut {
		return fmt.Errorf("%s: no answer within %s", what, scaleTimeout)
	}
	if r.err != nil {
		return fmt.Errorf("%s: %w", what, r.err)
	}
	for _, w := range want {
		if r.status == w {
			return nil
		}
	}
	return fmt.Errorf("%s: status %d, want %v; the body begins:\n%s", what, r.status, want, bodyHead(r.body))
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// bodyHead returns the first lines of a body with text in them: of an
// HTML page, those of its main part, without the markup.
func bodyHead(b []byte) string {
	text := string(b)
	if i := strings.Index(text, "<main"); i >= 0 {
		text = htmlTag.ReplaceAllString(text[i:], "")
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, "    "+l)
		}
		if len(out) == 15 {
			break
		}
	}
	return strings.Join(out, "\n")
}

// visitor returns a different client address each call: the verification
// pages are rate-limited per address, and the bench stands for many
// visitors (the server trusts X-Forwarded-For from loopback here).
var visitors atomic.Uint32

func visitor() string {
	v := visitors.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", v>>16&255, v>>8&255, v&255)
}

// request builds a request to the running server.
func (s *scaleBench) request(method, path, cookie string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, s.app.base+path, body)
	if err != nil {
		panic(err) // paths are the bench's own
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("X-Forwarded-For", visitor())
	return req
}

// session signs a user in by inserting a session, as a sign-in would
// (staff accounts have two-factor set up), and returns the cookie.
func (s *scaleBench) session(ctx context.Context, userID string, lastSeen time.Duration) (string, error) {
	now := s.app.clock().UTC()
	token, id := auth.NewToken()
	sess := &auth.Session{ID: id, UserID: userID, Created: now.Add(-lastSeen), LastSeen: now.Add(-lastSeen), Expires: now.Add(-lastSeen).Add(auth.SessionAbsolute),
		UserAgent: "lmsbench"}
	if err := s.app.db.InsertSession(ctx, sess); err != nil {
		return "", fmt.Errorf("session for %s: %w", userID, err)
	}
	return "lms_session=" + token, nil
}

// scalePeople are the signed-in people of a run and what they hold.
type scalePeople struct {
	learner, manager, admin string // session cookies
	pdf                     []byte // a certificate PDF we issued
}

func (s *scaleBench) signIn(ctx context.Context) (*scalePeople, error) {
	p := &scalePeople{}
	var err error
	if p.learner, err = s.session(ctx, s.meta.ExportUser, 0); err != nil {
		return nil, err
	}
	if p.manager, err = s.session(ctx, s.meta.Manager, 0); err != nil {
		return nil, err
	}
	if p.admin, err = s.session(ctx, s.meta.Admin, 0); err != nil {
		return nil, err
	}
	r := fetch(s.request("GET", "/certificates/"+s.meta.FileCode+"/download", p.learner, nil))
	if err := r.problem("downloading a certificate", 200); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(r.body, []byte("%PDF")) {
		return nil, fmt.Errorf("downloading certificate %s: not a PDF", s.meta.FileCode)
	}
	p.pdf = r.body
	return p, nil
}
