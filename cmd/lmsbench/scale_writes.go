package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/family-advocacy/lms/courses"
)

// Requests that write, measured while the background jobs run. Four
// clients, each in turn:
//
//	touch     a page with a session last seen minutes ago (its last-seen time is written)
//	verify    a certificate checked by code (the per-address rate-limit counter is written)
//	view      a lesson other than the one last viewed (the place to resume is written)
//	complete  a lesson marked complete (the enrolment is written)
const (
	writeClients = 4
	touchPool    = 600              // sessions waiting to be touched
	touchAgain   = 65 * time.Second // a session is touched at most once a minute
)

var writeKinds = []string{"touch", "verify", "view", "complete"}

// writer is a learner of the generated organisation who enrolled on every
// course lately and has done nothing yet: their lessons are the work of
// the view and complete requests.
type writer struct {
	cookie, csrf string
	views        int
	next         map[string]int // course → next lesson to complete
}

// writeLoad is the shared state of the clients.
type writeLoad struct {
	mu      sync.Mutex
	touch   []string    // session cookies
	used    []time.Time // when each was last used
	cursor  int
	writers []*writer
	lat     map[string][]float64
	bad     error
}

// touchSession returns a session not used in the last minute, if any.
func (w *writeLoad) touchSession(now time.Time) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range w.touch {
		i := w.cursor
		w.cursor = (w.cursor + 1) % len(w.touch)
		if now.Sub(w.used[i]) > touchAgain {
			w.used[i] = now
			return w.touch[i], true
		}
	}
	return "", false
}

func (w *writeLoad) record(kind string, r response, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lat[kind] = append(w.lat[kind], r.ms())
	if err != nil && w.bad == nil && !r.timedOut {
		w.bad = err
	}
}

// writeSetup signs the writers and a pool of sessions in (touch sessions
// last seen ten minutes ago) and reads each writer's CSRF token.
func (s *scaleBench) writeSetup(ctx context.Context) (*writeLoad, error) {
	w := &writeLoad{lat: map[string][]float64{}}
	if len(s.meta.Writers) == 0 {
		return nil, fmt.Errorf("the cached organisation has no writers")
	}
	for i := 0; i < touchPool; i++ {
		c, err := s.session(ctx, s.meta.Writers[i%len(s.meta.Writers)], 10*time.Minute)
		if err != nil {
			return nil, err
		}
		w.touch = append(w.touch, c)
	}
	w.used = make([]time.Time, len(w.touch))
	for _, id := range s.meta.Writers {
		c, err := s.session(ctx, id, 0)
		if err != nil {
			return nil, err
		}
		r := fetch(s.request("GET", "/courses/"+s.app.svc.Learn.Catalogue.All()[0].Slug, c, nil))
		if err := r.problem("a writer's course page", 200); err != nil {
			return nil, err
		}
		m := csrfField.FindSubmatch(r.body)
		if m == nil {
			return nil, fmt.Errorf("no CSRF token on a signed-in course page")
		}
		w.writers = append(w.writers, &writer{cookie: c, csrf: string(m[1]), next: map[string]int{}})
	}
	return w, nil
}

// writesDuringJobs prints scale_write_p99_during_jobs: the p99 of the
// write requests made while retention, the reminders and a reconciler
// pass run side by side.
func (s *scaleBench) writesDuringJobs(ctx context.Context) {
	w, err := s.writeSetup(ctx)
	if err != nil {
		s.fail(fmt.Errorf("writes during jobs: %w", err))
		return
	}
	cat := s.app.svc.Learn.Catalogue.All()
	done := make(chan struct{})
	start := time.Now()
	go s.runJobs(ctx, done)
	var wg sync.WaitGroup
	for c := 0; c < writeClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				kind, r, err := s.writeRequest(w, w.writers[(i/len(writeKinds)*writeClients+c)%len(w.writers)], writeKinds[i%len(writeKinds)], cat, i)
				w.record(kind, r, err)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	var all []float64
	for _, k := range writeKinds {
		if xs := w.lat[k]; len(xs) > 0 {
			all = append(all, xs...)
			s.info("scale_write_p99_during_jobs", k, percentile(xs, 0.99), "ms")
		}
	}
	fmt.Fprintf(os.Stderr, "lmsbench: %d write requests in %s while the jobs ran\n", len(all), took.Round(100*time.Millisecond))
	if w.bad != nil {
		s.fail(fmt.Errorf("writes during jobs: %w", w.bad))
		return
	}
	if len(all) == 0 {
		s.fail(fmt.Errorf("writes during jobs: no request finished"))
		return
	}
	s.figure("scale_write_p99_during_jobs", percentile(all, 0.99), "ms")
}

// writeRequest makes one request of a kind (or of another, when the kind
// has no work left) and says which kind it made.
func (s *scaleBench) writeRequest(w *writeLoad, wr *writer, kind string, cat []*courses.Course, i int) (string, response, error) {
	if kind == "touch" {
		c, ok := w.touchSession(time.Now())
		if !ok {
			kind = "verify"
		} else {
			r := fetch(s.request("GET", "/", c, nil))
			return kind, r, r.problem("a signed-in home page", 200)
		}
	}
	if kind == "complete" {
		w.mu.Lock()
		var c *courses.Course
		var n int
		for _, x := range cat {
			if n = wr.next[x.Slug]; n < len(x.Lessons) {
				c = x
				wr.next[x.Slug]++
				break
			}
		}
		w.mu.Unlock()
		if c == nil {
			kind = "view" // every lesson done
		} else {
			path := "/courses/" + c.Slug + "/lessons/" + c.Lessons[n].Name + "/complete"
			req := s.request("POST", path, wr.cookie, strings.NewReader(url.Values{"_csrf": {wr.csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r := fetch(req)
			return kind, r, r.problem("completing a lesson", 303, 302)
		}
	}
	switch kind {
	case "verify":
		r := fetch(s.request("GET", "/verify/"+s.meta.Codes[i%len(s.meta.Codes)], "", nil))
		return kind, r, r.problem("verifying a code", 200)
	default: // view: the writer's lessons of the last course, in turn
		w.mu.Lock()
		wr.views++
		v := wr.views
		w.mu.Unlock()
		c := cat[len(cat)-1]
		r := fetch(s.request("GET", "/courses/"+c.Slug+"/lessons/"+c.Lessons[v%len(c.Lessons)].Name, wr.cookie, nil))
		return "view", r, r.problem("viewing a lesson", 200)
	}
}
