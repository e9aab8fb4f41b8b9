package notify_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// smtpMailer is a mailer delivering to a test SMTP server, on an
// injected clock.
func smtpMailer(t *testing.T) (*testenv.Env, *testenv.SMTPServer, *testenv.Clock, *notify.Mailer) {
	t.Helper()
	e := testenv.New(t)
	srv := testenv.StartSMTP(t)
	sender, err := notify.ParseSMTPURL(srv.URL, "Family Advocacy Learning <no-reply@lms.example>")
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	m := notify.NewMailer(e.DB, sender, c.Now, testenv.Logger(t))
	return e, srv, c, m
}

func TestSMTPDeliveryIsOncePerMessageAndRetriesAfterRefusal(t *testing.T) {
	e, srv, c, m := smtpMailer(t)
	ctx := context.Background()
	text, html := notify.Compose(notify.Email{Greeting: "Hello Ada,", Paragraphs: []string{"Your DBS check is due <soon>."},
		Action: &notify.Action{Label: "See your requirements", URL: "https://lms.example/my/compliance"}})
	msg := notify.Message{ID: "reminder-1", To: "ada@example.org", Subject: "Your DBS check is due", Text: text, HTML: html, Kind: "reminder"}
	// The same message queued twice (a retried job) is one email.
	for i := 0; i < 2; i++ {
		fresh, err := m.Send(ctx, msg)
		if err != nil || fresh != (i == 0) {
			t.Fatalf("send %d: fresh %v, err %v", i, fresh, err)
		}
	}
	m.Wait()
	if n, err := m.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("nothing should be left to deliver: %d, %v", n, err)
	}
	got := srv.To("ada@example.org")
	if len(got) != 1 {
		t.Fatalf("ada received %d messages, want 1", len(got))
	}
	raw := string(got[0].Raw)
	if got[0].Subject != "Your DBS check is due" || got[0].MessageID != "<reminder-1@lms.example>" || got[0].From != "no-reply@lms.example" {
		t.Fatalf("headers: %+v", got[0])
	}
	for _, want := range []string{"text/plain", "text/html", "Auto-Submitted: auto-generated", "https://lms.example/my/compliance", "&lt;soon&gt;"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	stored, _ := e.DB.Message(ctx, "reminder-1")
	if stored.Status != notify.StatusSent || stored.Attempts != 1 {
		t.Fatalf("outbox record: %+v", stored)
	}

	// A refused recipient is retried with back-off and delivered once accepted.
	srv.Refuse("bob@example.org", true)
	if _, err := m.Send(ctx, notify.Message{ID: "reminder-2", To: "bob@example.org", Subject: "Hello", Text: "Hi"}); err != nil {
		t.Fatal(err)
	}
	m.Wait()
	stored, _ = e.DB.Message(ctx, "reminder-2")
	if stored.Status != notify.StatusQueued || stored.Error == "" || !stored.NextTry.After(c.Now()) {
		t.Fatalf("after a refusal: %+v", stored)
	}
	if n, _ := m.DeliverDue(ctx); n != 0 {
		t.Fatal("retried before the back-off")
	}
	srv.Refuse("bob@example.org", false)
	c.Advance(time.Minute)
	if n, _ := m.DeliverDue(ctx); n != 1 || len(srv.To("bob@example.org")) != 1 {
		t.Fatalf("after the back-off: attempted %d, received %d", n, len(srv.To("bob@example.org")))
	}
	if n, _ := m.DeliverDue(ctx); n != 0 || len(srv.To("bob@example.org")) != 1 {
		t.Fatal("delivered twice")
	}
}

func TestWithoutSMTPMessagesAreRecordedInTheOutbox(t *testing.T) {
	e := testenv.New(t)
	m := notify.NewMailer(e.DB, nil, time.Now, nil)
	if _, err := m.Send(context.Background(), notify.Message{ID: "m-1", To: "ada@example.org", Subject: "Hi", Text: "Hello"}); err != nil {
		t.Fatal(err)
	}
	stored, err := e.DB.Message(context.Background(), "m-1")
	if err != nil || stored.Status != notify.StatusRecorded {
		t.Fatalf("%+v %v", stored, err)
	}
	if n, _ := m.DeliverDue(context.Background()); n != 0 {
		t.Fatal("nothing to deliver without SMTP")
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, bad := range []string{"", "mail.example.org", "http://mail.example.org", "smtp://mail.example.org:x", "smtp://mail.example.org?tls=maybe", "smtp://u:p@mail.example.org?auth=telepathy"} {
		if _, err := notify.ParseSMTPURL(bad, ""); err == nil {
			t.Errorf("%q: accepted", bad)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("%q: the error shows the password: %v", bad, err)
		}
	}
	for _, good := range []string{"smtp://mail.example.org", "smtps://u:p@mail.example.org", "smtp://u:p@mail.example.org:2525?tls=opportunistic&auth=login"} {
		if _, err := notify.ParseSMTPURL(good, ""); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

func TestSecretMessageIsSealedInTheOutboxAndDeliveredOpen(t *testing.T) {
	e := testenv.New(t)
	srv := testenv.StartSMTP(t)
	sender, err := notify.ParseSMTPURL(srv.URL, "Family Advocacy Learning <no-reply@lms.example>")
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox([]byte(testenv.RandomHex(16)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const link = "https://lms.example/password/reset?token=needle-token-5521"
	text, html := notify.Compose(notify.Email{Greeting: "Hello Ada,", Action: &notify.Action{Label: "Choose a new password", URL: link}})
	msg := notify.Message{ID: "reset-1", To: "ada@example.org", Subject: "Reset your password", Text: text, HTML: html, Kind: "password_reset", Secret: true}

	t.Run("RefusedWithoutTheKey", func(t *testing.T) {
		m := notify.NewMailer(e.DB, sender, time.Now, nil)
		if _, err := m.Send(ctx, msg); err == nil {
			t.Fatal("a secret message was queued without the key to seal it")
		}
	})
	m := notify.NewMailer(e.DB, sender, time.Now, testenv.Logger(t))
	m.Box = box
	if _, err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	m.Wait()
	stored, err := e.DB.Message(ctx, "reset-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Text, "needle-token-5521") || strings.Contains(stored.HTML, "needle-token-5521") || !stored.Secret {
		t.Fatalf("outbox record holds the link in plain text: %+v", stored)
	}
	if got := stored.Redacted(); got.Text != notify.SecretNotShown || got.HTML != "" || got.Subject != "Reset your password" {
		t.Fatalf("redacted: %+v", got)
	}
	got := srv.To("ada@example.org")
	if len(got) != 1 || !strings.Contains(got[0].Text, link) || !strings.Contains(got[0].HTML, "needle-token-5521") {
		t.Fatalf("delivered %d messages; want one whose bodies hold the link", len(got))
	}
	if stored.Status != notify.StatusSent {
		t.Fatalf("status: got %s, want %s", stored.Status, notify.StatusSent)
	}
}

func TestDeliveryRunsInAFixedPoolReusingConnections(t *testing.T) {
	e := testenv.New(t)
	srv := testenv.StartSMTP(t)
	srv.SlowDown(20 * time.Millisecond) // long enough for deliveries to overlap
	sender, err := notify.ParseSMTPURL(srv.URL, "Family Advocacy Learning <no-reply@lms.example>")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMailer(e.DB, sender, time.Now, testenv.Logger(t))
	m.Workers = 3
	t.Cleanup(m.Close)
	ctx := context.Background()
	const n = 60
	for i := range n {
		if _, err := m.Send(ctx, notify.Message{ID: fmt.Sprintf("burst-%d", i), To: fmt.Sprintf("p%d@example.org", i), Subject: "Reminder", Text: "Hi"}); err != nil {
			t.Fatal(err)
		}
	}
	m.Wait()
	if left, err := m.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	} else if got := len(srv.Mail()); got != n {
		t.Fatalf("delivered %d of %d (%d left for DeliverDue)", got, n, left)
	}
	total, maxOpen := srv.Connections()
	if maxOpen > 3 {
		t.Errorf("the mail server saw %d connections open at once, want at most the pool's 3", maxOpen)
	}
	if total > 3 {
		t.Errorf("the mail server saw %d connections for %d messages, want each worker to keep its own (at most 3)", total, n)
	}
	for i := range n {
		if stored, _ := e.DB.Message(ctx, fmt.Sprintf("burst-%d", i)); stored.Status != notify.StatusSent || stored.Attempts != 1 {
			t.Fatalf("message %d: %+v", i, stored)
		}
	}
}

func TestNotificationSummaryReadsAsASentence(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    notify.Notification
		want string
	}{
		{"WithItems", notify.Notification{Text: "This week 2 items need attention:", Items: []notify.Item{{Text: "a"}, {Text: "b"}}}, "This week 2 items need attention:"},
		{"StoredBeforeItemsWereKept", notify.Notification{Text: "This week 5 items on your advocates' records need attention:"}, "This week 5 items on your advocates' records need attention."},
		{"Plain", notify.Notification{Text: "Renew it."}, "Renew it."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.n.Summary(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNotificationSetItemsKeepsTheFirstAndCountsTheRest(t *testing.T) {
	items := make([]notify.Item, notify.MaxItems+7)
	for i := range items {
		items[i] = notify.Item{Text: fmt.Sprintf("item %d", i), Link: "/x"}
	}
	var n notify.Notification
	n.SetItems(items)
	if len(n.Items) != notify.MaxItems || n.More != 7 || n.Items[0].Text != "item 0" {
		t.Fatalf("got %d items and %d more, want %d and 7", len(n.Items), n.More, notify.MaxItems)
	}
	items[0].Text = "changed"
	if n.Items[0].Text != "item 0" {
		t.Fatal("SetItems keeps the caller's slice")
	}
	n.SetItems(nil)
	if n.Items != nil || n.More != 0 {
		t.Fatalf("got %+v, want no items", n)
	}
}

// TestACalendarInvitationTravelsAsAnAttachment: a message with an
// iCalendar invitation arrives with it as invite.ics, typed text/calendar
// with its method.
func TestACalendarInvitationTravelsAsAnAttachment(t *testing.T) {
	_, srv, _, m := smtpMailer(t)
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:s1@live.lms\r\nSEQUENCE:3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if _, err := m.Send(context.Background(), notify.Message{ID: "live-1", To: "ann@example.org", Subject: "Cancelled", Text: "Your place is cancelled.", Kind: "live-cancelled", Calendar: ics}); err != nil {
		t.Fatal(err)
	}
	m.Wait()
	got := srv.To("ann@example.org")
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	raw := string(got[0].Raw)
	for _, want := range []string{"text/calendar", "method=CANCEL", `filename="invite.ics"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("the message lacks %q:\n%s", want, raw)
		}
	}
}
