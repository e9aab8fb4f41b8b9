package notify

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strings"
	"text/template"
)

// Email is the content of a message, rendered to text and HTML by the
// templates in templates/.
type Email struct {
	Greeting   string   // "Hello Ada,"
	Paragraphs []string // plain text, one paragraph each
	Items      []Item   // an optional list
	Action     *Action  // an optional button / link
	Footer     string   // why they got it, how to stop optional ones
}

// Item is one line of a list in an email, and of the notification that
// goes with it: "Sam Patel: DBS check overdue since 3 March 2026".
type Item struct {
	Text   string `bson:"text"`
	Detail string `bson:"detail,omitempty"` // why, in a sentence
	// Link is where the item is dealt with: a path in the app in a
	// notification ("/manage/advocates/<id>#dbs"), a full URL in an email.
	Link string `bson:"link,omitempty"`
}

// Action is the link an email asks the reader to follow.
type Action struct {
	Label, URL string
}

//go:embed templates
var templateFS embed.FS

var (
	textTmpl = template.Must(template.ParseFS(templateFS, "templates/email.txt"))
	htmlTmpl = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/email.html"))
)

// Compose renders e as a plain-text body and an HTML body.
func Compose(e Email) (text, html string) {
	var t, h bytes.Buffer
	if err := textTmpl.Execute(&t, e); err != nil {
		panic(err) // the templates are fixed and tested
	}
	if err := htmlTmpl.Execute(&h, e); err != nil {
		panic(err)
	}
	return strings.TrimSpace(t.String()) + "\n", h.String()
}
