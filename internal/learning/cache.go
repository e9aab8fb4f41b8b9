package learning

import (
	"sync"
	"time"
)

// enrolmentCacheTTL bounds how stale the lesson page's view of progress may
// be when another instance changed it (this instance's own writes update
// the cache at once). Only the lesson page reads through the cache;
// assessment and completion always read the database.
const enrolmentCacheTTL = 10 * time.Second

// enrolmentCache keeps recently read enrolments. Cached values are never
// modified: updates replace them with new copies.
type enrolmentCache struct {
	mu sync.Mutex
	m  map[string]cachedEnrolment
}

type cachedEnrolment struct {
	e       *Enrolment
	fetched time.Time
}

func (c *enrolmentCache) get(id string, now time.Time) (*Enrolment, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x, ok := c.m[id]
	if !ok || now.Sub(x.fetched) > enrolmentCacheTTL || now.Before(x.fetched) {
		return nil, false
	}
	return x.e, true
}

func (c *enrolmentCache) put(e *Enrolment, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 100000 {
		c.m = map[string]cachedEnrolment{}
	}
	c.m[e.ID] = cachedEnrolment{e: e, fetched: now}
}

func (c *enrolmentCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// clone returns a copy of e whose maps can be changed.
func (e *Enrolment) clone() *Enrolment {
	c := *e
	c.Lessons = make(map[string]time.Time, len(e.Lessons)+1)
	for k, v := range e.Lessons {
		c.Lessons[k] = v
	}
	return &c
}
