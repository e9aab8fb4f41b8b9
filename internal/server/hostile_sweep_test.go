package server_test

import (
	"bytes"
	"fmt"
	"html"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
)

// The pieces of the hostile-input sweep (hostile_forms_test.go): the
// values no form should choke on, a reader of the forms on a page, and a
// sender that remembers every 5xx.

// hostileNumbers and hostileDates go to every number and date field.
var (
	hostileNumbers = []string{"NaN", "nan", "-NaN", "Inf", "+Inf", "-Inf", "Infinity", "-1e309", "1e400", "1e308", "-0", "0", "-1", "0.001",
		"100.001", "1e2", "0x1p3", "1_000", "1,5", " 1 5 ", "١٢", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
		"2147483648", strings.Repeat("9", 400)}
	hostileDates = []string{"2026-02-30", "99999-01-01", "0000-00-00", "0000-01-01", "0001-01-01", "1899-12-31", "9999-12-31", "2026-13-01",
		"2026-02-28T25:00:00Z", "31/12/2026", "2026-1-1", "today", "+2026-01-01", "-2026-01-01", "2026-02-28\x00"}
	hostileText = []string{"", "   ", "\xff\xfe\xfd", "a\x00b", "\u202egnp.exe", "<script>alert(1)</script>", `{"$gt":""}`, "$where", "a.b.c",
		"../../../etc/passwd", "null", "[]", "%00%ff", "\r\nX-Injected: 1", "🙂🙂🙂", strings.Repeat("A", 5000), strings.Repeat("é", 100_000),
		"NaN", "-1e309", "2026-02-30"}
)

// hostileFieldNames are extra fields no form has.
var hostileFieldNames = []string{"q_$gt", "q_a.b", "q_", "x\xff", "hours[]", "$set", "_csrf2", strings.Repeat("n", 3000)}

// postForm is one form found on a page: where it posts and its fields,
// each with the value the page offers (or a plausible one).
type postForm struct {
	action    string
	multipart bool
	fields    []string
	base      map[string]string
	kinds     map[string]string // field → input type ("date", "text", "select", "checkbox", "file", ...)
	get       bool
}

var (
	formRE     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrRE     = regexp.MustCompile(`([a-zA-Z-]+)="([^"]*)"`)
	controlRE  = regexp.MustCompile(`(?s)<(input|select|textarea)\b([^>]*)>`)
	optionRE   = regexp.MustCompile(`<option value="([^"]*)"([^>]*)>`)
	selectedRE = regexp.MustCompile(`\bselected\b`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	if strings.Contains(s, " checked") {
		m["checked"] = "checked"
	}
	return m
}

// formsOn reads the forms of a page.
func formsOn(page, body string) []postForm {
	var out []postForm
	for _, fm := range formRE.FindAllStringSubmatch(body, -1) {
		a := attrs(fm[1])
		f := postForm{action: a["action"], multipart: a["enctype"] == "multipart/form-data", base: map[string]string{}, kinds: map[string]string{},
			get: !strings.EqualFold(a["method"], "post")}
		if f.action == "" {
			f.action = page
		}
		if u, err := url.Parse(f.action); err == nil {
			f.action = u.Path
		}
		inner := fm[2]
		for _, tag := range controlRE.FindAllStringSubmatchIndex(inner, -1) {
			kind, at := inner[tag[2]:tag[3]], attrs(inner[tag[4]:tag[5]])
			name := at["name"]
			if name == "" || name == "_csrf" || at["type"] == "submit" {
				continue
			}
			v := at["value"]
			switch kind {
			case "select":
				end := strings.Index(inner[tag[1]:], "</select>")
				opts := optionRE.FindAllStringSubmatch(inner[tag[1]:tag[1]+max(end, 0)], -1)
				for _, o := range opts {
					if o[1] != "" && (v == "" || selectedRE.MatchString(o[2])) {
						v = html.UnescapeString(o[1])
					}
				}
				at["type"] = "select"
			case "textarea":
				end := strings.Index(inner[tag[1]:], "</textarea>")
				v = html.UnescapeString(inner[tag[1] : tag[1]+max(end, 0)])
				at["type"] = "textarea"
			}
			if _, dup := f.base[name]; !dup {
				f.fields = append(f.fields, name)
			}
			if (at["type"] == "radio" && f.base[name] != "" || at["type"] == "checkbox") && at["checked"] == "" {
				v = f.base[name] // the first radio button unless another is checked; an unchecked box sends nothing
			}
			f.base[name], f.kinds[name] = v, at["type"]
		}
		out = append(out, f)
	}
	return out
}

// plausible fills an empty field with a value its form would take, so that
// one hostile value at a time reaches the code behind the other checks.
func plausible(f *postForm) {
	for _, name := range f.fields {
		if f.base[name] != "" {
			continue
		}
		n := strings.ToLower(name)
		switch {
		case f.kinds[name] == "file" || f.kinds[name] == "checkbox" || f.kinds[name] == "hidden":
		case f.kinds[name] == "date" || strings.Contains(n, "date") || strings.HasSuffix(n, "_at") || strings.HasSuffix(n, "_due") || strings.HasSuffix(n, "_start") ||
			n == "from" || n == "to":
			f.base[name] = "2026-10-01"
		case n == "hours":
			f.base[name] = "2"
		case strings.Contains(n, "email"):
			f.base[name] = "hostile@example.org"
		case strings.Contains(n, "password"):
			f.base[name] = "correct horse battery staple"
		case n == "certificate_number":
			f.base[name] = "001234567890"
		case n == "code":
			f.base[name] = "123456"
		default:
			f.base[name] = "Hostile test value"
		}
	}
}

// numeric reports whether a field takes a number or a date.
func numeric(f *postForm, name string) bool {
	n := strings.ToLower(name)
	return f.kinds[name] == "date" || f.kinds[name] == "number" || strings.Contains(n, "date") || strings.HasSuffix(n, "_at") ||
		strings.HasSuffix(n, "_due") || strings.HasSuffix(n, "_start") || n == "hours" || n == "page" || n == "from" || n == "to"
}

// routeRE turns a route path into a pattern for the paths a form posts to.
func routeRE(path string) *regexp.Regexp {
	p := regexp.QuoteMeta(path)
	p = regexp.MustCompile(`:[a-z]+`).ReplaceAllString(p, `[^/]+`)
	p = strings.ReplaceAll(p, `\*`, `.*`)
	return regexp.MustCompile("^" + p + "$")
}

// sweeper sends hostile forms and remembers any 5xx.
type sweeper struct {
	rnd    *rand.Rand
	failed []string
	sent   int
}

// send posts (or GETs) values as urlencoded or multipart, with the right
// CSRF token, and records a 5xx.
func (s *sweeper) send(c *client, csrf, method, target string, values [][2]string, asMultipart bool, files [][2]string, what string) {
	s.sent++
	var req *http.Request
	switch {
	case method == "GET":
		q := url.Values{}
		for _, kv := range values {
			q.Add(kv[0], kv[1])
		}
		req = httptest.NewRequest("GET", target+"?"+q.Encode(), nil)
	case asMultipart:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("_csrf", csrf)
		for _, kv := range values {
			_ = mw.WriteField(kv[0], kv[1])
		}
		for _, f := range files {
			fw, _ := mw.CreateFormFile(f[0], f[1])
			_, _ = fw.Write([]byte("%PDF-1.4 hostile " + f[1]))
		}
		mw.Close()
		req = httptest.NewRequest("POST", target, &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
	default:
		q := url.Values{"_csrf": {csrf}}
		for _, kv := range values {
			q.Add(kv[0], kv[1])
		}
		req = httptest.NewRequest("POST", target, strings.NewReader(q.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.srv.Handler().Test(req, -1)
	if err != nil {
		s.failed = append(s.failed, fmt.Sprintf("%s: %v", what, err))
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		var sb strings.Builder
		for _, kv := range values {
			v := kv[1]
			if len(v) > 40 {
				v = v[:40] + "…"
			}
			fmt.Fprintf(&sb, " %s=%q", kv[0], v)
		}
		s.failed = append(s.failed, fmt.Sprintf("%s: %d with%s", what, resp.StatusCode, sb.String()))
	}
}

func (s *sweeper) pick(list []string) string { return list[s.rnd.IntN(len(list))] }

// hostileFor returns a hostile value fit to trouble the field.
func (s *sweeper) hostileFor(f *postForm, name string) string {
	if numeric(f, name) && s.rnd.IntN(3) > 0 {
		if s.rnd.IntN(2) == 0 {
			return s.pick(hostileNumbers)
		}
		return s.pick(hostileDates)
	}
	return s.pick(hostileText)
}

// sweep sends one form its hostile values as one of the personas that may
// use it (share of of): one field at a time, the others as the page offers
// them, a hostile text to each text field and, to each number and date
// field, the core hostile numbers and dates and a sample of the rest, shared
// out between the personas; then hostile values in every field at once, the
// other encoding (multipart for urlencoded and back), unknown field names,
// and an empty body.
func (s *sweeper) sweep(c *client, csrf string, f *postForm, what string, share, of int) {
	method := "POST"
	if f.get {
		method = "GET"
	}
	values := func(over map[string]string) [][2]string {
		var out [][2]string
		for _, name := range f.fields {
			if f.kinds[name] == "file" {
				continue
			}
			v, ok := over[name]
			if !ok {
				v = f.base[name]
			}
			if method == "GET" && len(v) > 2000 {
				v = v[:2000] // a URL has room for no more
			}
			out = append(out, [2]string{name, v})
		}
		return out
	}
	var files [][2]string
	for _, name := range f.fields {
		if f.kinds[name] == "file" {
			files = append(files, [2]string{name, s.pick([]string{"../../x.pdf", "\xff\xfe.png", strings.Repeat("n", 300) + ".jpg", "evidence.pdf", ""})})
		}
	}
	for _, name := range f.fields {
		if f.kinds[name] == "file" {
			continue
		}
		if !numeric(f, name) {
			s.send(c, csrf, method, f.action, values(map[string]string{name: s.pick(hostileText)}), f.multipart, nil, what+" "+name)
			continue
		}
		core := []string{"NaN", "Inf", "-1e309", "1e400", "9223372036854775807", "2026-02-30", "99999-01-01", s.pick(hostileNumbers), s.pick(hostileDates), s.pick(hostileText)}
		for i, v := range core {
			if i%of == share {
				s.send(c, csrf, method, f.action, values(map[string]string{name: v}), f.multipart, nil, what+" "+name)
			}
		}
	}
	over := map[string]string{}
	for _, name := range f.fields {
		over[name] = s.hostileFor(f, name)
	}
	s.send(c, csrf, method, f.action, values(over), f.multipart, files, what+" all fields")
	if method == "POST" {
		s.send(c, csrf, method, f.action, values(map[string]string{}), !f.multipart, files, what+" other encoding")
	}
	extra := values(map[string]string{})
	for _, n := range hostileFieldNames {
		extra = append(extra, [2]string{n, s.pick(hostileNumbers)})
	}
	s.send(c, csrf, method, f.action, extra, f.multipart, nil, what+" unknown fields")
	s.send(c, csrf, method, f.action, nil, false, nil, what+" empty")
}
