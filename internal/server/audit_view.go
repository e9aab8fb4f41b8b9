package server

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/compliance"
)

// eventView is one audit event as a person reads it: "Maya Manager, DBS
// decision recorded, Amira Advocate: DBS check issued 3 March 2026;
// Decision: Clear".
type eventView struct {
	At      time.Time
	Actor   string
	What    string // the action in words
	Record  string // what it is about: a person's name, "Certificate K7QX-…"
	Link    string // where that record is, when there is a page for it
	Filter  string // the audit log of that record alone
	Changes []changeView
	Note    string
}

// changeView is one field of an event: its value after, and before when
// the event changed it.
type changeView struct{ Label, Before, After string }

// recordKeys name which record of an advocate an event is about.
var recordKeys = []string{"check", "reference", "entry", "supervision", "records"}

// wordKeys hold stored names ("not-suitable") shown as words.
var wordKeys = []string{"status", "decision", "outcome", "level", "workforce", "result", "kind", "type", "role_eligible", "state", "source", "profession"}

var isoDay = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// eventNames resolves the IDs events hold into names, reading each
// person and advocate once (point reads) for a page of events.
type eventNames struct {
	s         *Server
	ctx       context.Context
	viewer    *auth.User
	people    map[string]string               // user ID → name
	advocates map[string]*compliance.Advocate // nil where the viewer may not read it
}

// eventViews returns a page of events in words. known, when set, is the
// advocate the page is about (no second read).
func (s *Server) eventViews(ctx context.Context, viewer *auth.User, evs []audit.Event, known *compliance.Advocate) ([]eventView, error) {
	n := &eventNames{s: s, ctx: ctx, viewer: viewer, people: map[string]string{}, advocates: map[string]*compliance.Advocate{}}
	if known != nil {
		n.advocates[known.ID] = known
		n.people[known.ID] = known.Name
	}
	if err := n.load(evs); err != nil {
		return nil, err
	}
	out := make([]eventView, 0, len(evs))
	for _, e := range evs {
		out = append(out, n.view(e))
	}
	return out, nil
}

// load reads the people and advocates the events name.
func (n *eventNames) load(evs []audit.Event) error {
	var ids []string
	want := func(id string) {
		if _, ok := n.people[id]; id != "" && !ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, e := range evs {
		kind, id := audit.Target(e.Target)
		if kind == "advocate" || kind == "user" {
			want(id)
		}
		for _, m := range []map[string]any{e.Before, e.After} {
			if v, ok := m["manager_id"].(string); ok {
				want(v)
			}
		}
	}
	if len(ids) > 0 {
		us, err := n.s.auth.Users(n.ctx, ids)
		if err != nil {
			return err
		}
		for i, u := range us {
			if u != nil {
				n.people[ids[i]] = u.Name
			}
		}
	}
	if n.s.comply == nil {
		return nil
	}
	for _, e := range evs {
		kind, id := audit.Target(e.Target)
		if _, done := n.advocates[id]; kind != "advocate" || done {
			continue
		}
		// The records an event names are described from the advocate's
		// record; one the viewer may not read keeps its IDs.
		a, err := n.s.comply.Get(n.ctx, n.viewer, id)
		if err != nil {
			a = nil
		}
		n.advocates[id] = a
	}
	return nil
}

func (n *eventNames) view(e audit.Event) eventView {
	v := eventView{At: e.At, Actor: e.Actor, What: audit.ActionLabel(e.Action), Note: e.Note, Filter: "/admin/audit?target=" + e.Target}
	kind, id := audit.Target(e.Target)
	a := n.advocates[id]
	switch kind {
	case "advocate":
		v.Record, v.Link = n.person(id), "/manage/advocates/"+id
	case "user":
		v.Record, v.Link = n.person(id), "/admin/users/"+id
	case "certificate":
		v.Record, v.Link = "Certificate "+id, "/admin/certificates/"+id
	case "":
		v.Record = id
	default:
		v.Record = audit.Words(kind) + " " + id
	}
	if kind != "advocate" {
		a = nil
	}
	changed := e.Before != nil && e.After != nil
	// An event that lists the record's own fields (its date, title,
	// referee) needs no line saying which record it was.
	described := false
	for _, k := range []string{"date", "title", "referee", "issue_date"} {
		_, b := e.Before[k]
		_, a := e.After[k]
		described = described || a || b
	}
	for _, k := range audit.FieldKeys(e.Before, e.After) {
		b, bok := e.Before[k]
		af, aok := e.After[k]
		c := changeView{Label: audit.FieldLabel(k)}
		if aok {
			c.After = n.value(k, af, a)
		}
		if bok {
			c.Before = n.value(k, b, a)
		}
		switch {
		case slices.Contains(recordKeys, k) && described:
			continue
		case slices.Contains(recordKeys, k):
			// Which record: shown once, not as a change.
			if c.After == "" {
				c.After = c.Before
			}
			c.Before = ""
		case changed && bok && aok && c.Before == c.After:
			continue // a field the change left as it was
		case !changed:
			// Only one side was kept: its values are what the event
			// recorded, not a change.
			if c.After == "" {
				c.After, c.Before = c.Before, ""
			}
		}
		v.Changes = append(v.Changes, c)
	}
	return v
}

// person names an account, or says it is no longer here.
func (n *eventNames) person(id string) string {
	if name, ok := n.people[id]; ok && name != "" {
		return name
	}
	return "a person no longer here"
}

// value writes one stored value as words.
func (n *eventNames) value(key string, v any, a *compliance.Advocate) string {
	switch key {
	case "check", "reference", "entry", "supervision":
		if id, ok := v.(string); ok {
			return describeRecord(a, key, id)
		}
	case "records":
		var out []string
		for _, x := range list(v) {
			if id, ok := x.(string); ok {
				out = append(out, describeAny(a, id))
			}
		}
		return strings.Join(out, "; ")
	case "manager_id":
		if id, _ := v.(string); id != "" {
			return n.person(id)
		}
		return "none"
	case "mandatory_courses":
		var out []string
		for _, x := range list(v) {
			if slug, ok := x.(string); ok {
				out = append(out, n.courseTitle(slug))
			}
		}
		if len(out) == 0 {
			return "none beyond the policy's"
		}
		return strings.Join(out, ", ")
	}
	return plainValue(v, slices.Contains(wordKeys, key))
}

func (n *eventNames) courseTitle(slug string) string {
	if n.s.learn != nil {
		if co, err := n.s.learn.Catalogue.Get(slug); err == nil {
			return co.Title
		}
	}
	return slug
}

// plainValue writes a value that needs no lookup: dates as people read
// them, yes or no, lists joined.
func plainValue(v any, words bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		switch {
		case x == "":
			return "none"
		case isoDay.MatchString(x):
			if t, err := time.ParseInLocation(time.DateOnly, x, compliance.London); err == nil {
				return longDay(t)
			}
		case words:
			return audit.Words(x)
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case time.Time:
		return longDay(x)
	case bson.DateTime:
		return longDay(x.Time())
	case bson.A, []any, []string:
		var out []string
		for _, y := range list(x) {
			out = append(out, plainValue(y, words))
		}
		if len(out) == 0 {
			return "none"
		}
		return strings.Join(out, ", ")
	case bson.D:
		var out []string
		for _, el := range x {
			out = append(out, audit.FieldLabel(el.Key)+": "+plainValue(el.Value, false))
		}
		return strings.Join(out, "; ")
	case map[string]any:
		var out []string
		for _, k := range audit.FieldKeys(x, nil) {
			out = append(out, audit.FieldLabel(k)+": "+plainValue(x[k], false))
		}
		return strings.Join(out, "; ")
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
	}
	return fmt.Sprint(v)
}

// list returns the elements of a stored list.
func list(v any) []any {
	switch x := v.(type) {
	case bson.A:
		return x
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return nil
}

// describeRecord names one of an advocate's records: "issued 3 March
// 2026", "from Jo Brown", "Safeguarding update (2 hours)".
func describeRecord(a *compliance.Advocate, key, id string) string {
	if a != nil {
		switch key {
		case "check":
			for _, d := range a.DBS {
				if d.ID == id {
					return fmt.Sprintf("%s check issued %s", audit.Words(d.Level), longDay(d.IssueDate))
				}
			}
		case "reference":
			for _, r := range a.References {
				if r.ID == id {
					return "from " + r.Referee
				}
			}
		case "entry":
			for _, e := range a.CPD {
				if e.ID == id {
					return fmt.Sprintf("%s, %s", e.Title, longDay(e.Date))
				}
			}
		case "supervision":
			for _, sp := range a.Supervisions {
				if sp.ID == id {
					return fmt.Sprintf("%s on %s", audit.Words(sp.Kind), longDay(sp.Date))
				}
			}
		}
	}
	return "one no longer on the record"
}

// describeAny names a record whose kind is not stored with its ID.
func describeAny(a *compliance.Advocate, id string) string {
	for _, k := range []string{"check", "reference", "supervision", "entry"} {
		if d := describeRecord(a, k, id); d != "one no longer on the record" {
			return audit.FieldLabel(k) + " " + d
		}
	}
	return "a record no longer kept"
}
