// Command lmsbench prints the performance figures of `make bench`, one line
// each: "bench <name> <value> <unit>". It runs the real server (app.Run) on
// the embedded stores, as `make run` does, in a temporary data directory,
// and drives it over loopback with concurrent keep-alive clients. Figures
// that are ratios are measured side by side, alternating, in one run;
// every figure is the median of several rounds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/family-advocacy/lms/internal/app"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
)

const (
	concurrency = 32
	roundLength = 3 * time.Second
	rounds      = 5
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lmsbench:", err)
		os.Exit(1)
	}
}

func run() error {
	if p := os.Getenv("LMSBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Scale figures (scale.go): LMSBENCH_ONLY=scale runs only those; a
	// plain run adds them after the others (even if one of those failed),
	// once their server has stopped.
	switch os.Getenv("LMSBENCH_ONLY") {
	case "scale":
		return benchScale()
	case "":
		err := figures()
		return errors.Join(err, benchScale())
	}
	return figures()
}

// figures prints the figures measured on a server with the demo data.
func figures() error {
	dir, err := os.MkdirTemp("", "lmsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	vars := map[string]string{"LMS_ADDR": addr, "LMS_DATA_DIR": dir, "LMS_DEMO": "true", "LMS_LOG_LEVEL": "error"}
	// The reference for lesson_over_static_ratio: the same lesson page's
	// HTML as a fixed byte slice, served by the same Fiber app.
	var staticLesson atomic.Pointer[[]byte]
	var services *app.Services
	var database *store.DB
	prepare := func(srv *server.Server, svc *app.Services, db *store.DB) {
		services, database = svc, db
		srv.Handler().Get("/bench/static-lesson", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			return c.Send(*staticLesson.Load())
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Env{Args: []string{"serve"}, Getenv: func(k string) string { return vars[k] }, Stdout: io.Discard, Stderr: os.Stderr, Prepare: prepare})
	}()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	if err := waitReady(base, done); err != nil {
		return err
	}
	cookie, err := signIn(base, "learner@demo.example", app.DemoPassword)
	if err != nil {
		return err
	}
	lessonURL := base + "/courses/child-protection-process/lessons/02-early-help-and-child-in-need"
	page, err := enrolAndFetch(base, cookie, "child-protection-process", lessonURL)
	if err != nil {
		return err
	}
	staticLesson.Store(&page)

	switch os.Getenv("LMSBENCH_ONLY") {
	case "certificates":
		return benchCertificates(ctx, services, database)
	case "compliance":
		return benchCompliance(ctx, services, database, base)
	case "outbox":
		return benchOutbox(ctx, database)
	}

	// Home page: anonymous against signed in, alternating.
	var anon, logged []float64
	for i := 0; i < rounds; i++ {
		anon = append(anon, load(base+"/", "", roundLength))
		logged = append(logged, load(base+"/", cookie, roundLength))
	}
	a, lg := median(anon), median(logged)
	fmt.Printf("bench home_anonymous_rps %.0f req/s\n", a)
	fmt.Printf("bench home_logged_in_rps %.0f req/s\n", lg)
	fmt.Printf("bench logged_in_over_anonymous_ratio %.2f ratio\n", lg/a)

	// A signed-in learner reading a lesson, against the same HTML served as
	// a fixed page by the same app, alternating.
	var lesson, static []float64
	for i := 0; i < rounds; i++ {
		lesson = append(lesson, load(lessonURL, cookie, roundLength))
		static = append(static, load(base+"/bench/static-lesson", "", roundLength))
	}
	ls, st := median(lesson), median(static)
	fmt.Printf("bench lesson_page_rps %.0f req/s\n", ls)
	fmt.Printf("bench lesson_static_rps %.0f req/s\n", st)
	fmt.Printf("bench lesson_over_static_ratio %.2f ratio\n", ls/st)

	if err := benchCompliance(ctx, services, database, base); err != nil {
		return err
	}
	if err := benchCertificates(ctx, services, database); err != nil {
		return err
	}
	return benchOutbox(ctx, database)
}

// enrolAndFetch enrols the signed-in learner on a course and returns the
// HTML of one of its lessons.
func enrolAndFetch(base, cookie, slug, lessonURL string) ([]byte, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) ([]byte, int, error) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	body, _, err := get(base + "/courses/" + slug)
	if err != nil {
		return nil, err
	}
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, errors.New("no CSRF token on the course page")
	}
	req, _ := http.NewRequest("POST", base+"/courses/"+slug+"/enrol", strings.NewReader(url.Values{"_csrf": {string(m[1])}}.Encode()))
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	page, status, err := get(lessonURL)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("lesson page: status %d", status)
	}
	return page, nil
}

func waitReady(base string, done <-chan error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("server exited: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server not ready within 2 minutes")
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn signs in through the login form and returns the session cookie.
func signIn(base, email, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return "", errors.New("no CSRF token on /login")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "lms_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("sign-in as %s failed (status %d)", email, resp.StatusCode)
}

// load requests target with `concurrency` keep-alive clients for d and
// returns successful responses per second. Any non-200 answer is an error.
func load(target, cookie string, d time.Duration) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var ok, bad atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", target, nil)
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "lmsbench: %d failed requests to %s (cookie %v)\n", n, target, strings.HasPrefix(cookie, "lms_session"))
	}
	return float64(ok.Load()) / d.Seconds()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
