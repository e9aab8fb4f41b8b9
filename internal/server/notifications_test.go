package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/family-advocacy/lms/internal/notify"
)

func TestNotificationsListAndOptionalReminderChoice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	u := w.users["learner"]
	if _, err := w.env.DB.AddNotification(ctx, u.ID, notify.Notification{ID: "n1", At: w.clock(), Subject: "Your certificate expires soon", Text: "Renew it.", Link: "/courses/x"}); err != nil {
		t.Fatal(err)
	}
	c := w.client(w.srv, w.session("learner"))
	if _, body := c.do("GET", "/courses", nil); !strings.Contains(body, navCount(1)) {
		t.Fatalf("the navigation does not show 1 unread:\n%s", navOf(body))
	}
	if _, body := c.do("GET", "/notifications", nil); !strings.Contains(body, "Your certificate expires soon") || !strings.Contains(body, "You have 1 unread notification.") {
		t.Fatal("the notification is not listed as unread")
	}
	if resp, _ := c.post("/notifications/read", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark read: %d", resp.StatusCode)
	}
	if _, body := c.do("GET", "/notifications", nil); !strings.Contains(body, "You have no unread notifications.") || !strings.Contains(body, "Your certificate expires soon") {
		t.Fatal("after marking read")
	} else if strings.Contains(navOf(body), `class="count"`) {
		t.Fatalf("the navigation still counts unread notifications:\n%s", navOf(body))
	}
	// Another learner sees none of it.
	if _, body := w.client(w.srv, w.session("learner2")).do("GET", "/notifications", nil); strings.Contains(body, "Your certificate expires soon") {
		t.Fatal("another user's notification is shown")
	}
	// Optional reminders: on by default, turned off and on again.
	if _, body := c.do("GET", "/account", nil); !strings.Contains(body, `name="optional" value="yes" checked`) {
		t.Fatal("optional reminders should be on by default")
	}
	c.post("/account/reminders", url.Values{})
	if got, _ := w.env.DB.User(ctx, u.ID); got.NotifyOptional {
		t.Fatal("optional reminders still on")
	}
	if _, body := c.do("GET", "/account", nil); strings.Contains(body, `name="optional" value="yes" checked`) || !strings.Contains(body, "Optional reminders are off") {
		t.Fatal("the account page does not show the choice")
	}
	c.post("/account/reminders", url.Values{"optional": {"yes"}})
	if got, _ := w.env.DB.User(ctx, u.ID); !got.NotifyOptional {
		t.Fatal("optional reminders not back on")
	}
}

func TestWeeklySummaryNotificationListsItsItemsAndTheNavigationCountsUnread(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sam := w.createAdvocate("Sam Patel", "sam@example.org") // nothing recorded yet: DBS, references and more missing
	if _, err := w.svc.Remind.Run(ctx); err != nil {
		t.Fatal(err)
	}
	manager := w.users["manager"]
	in, err := w.env.DB.Inbox(ctx, manager.ID)
	if err != nil {
		t.Fatal(err)
	}
	unread := in.Unread()
	if unread == 0 {
		t.Fatal("the reminder job left the manager no notifications")
	}
	// A summary stored before summaries kept their items.
	if _, err := w.env.DB.AddNotification(ctx, manager.ID, notify.Notification{ID: "old-digest", At: w.clock().Add(-7 * 24 * time.Hour),
		Subject: "Weekly compliance summary: 5 items needing attention", Text: "This week 5 items on your advocates' records need attention:", Link: "/manage?filter=attention"}); err != nil {
		t.Fatal(err)
	}
	unread++

	m := w.client(w.srv, w.session("manager"))
	_, page := m.do("GET", "/notifications", nil)
	for _, want := range []string{
		"Weekly compliance summary",
		`<a href="/manage/advocates/` + sam + `#dbs">Sam Patel: DBS check missing</a>`,
		`<a href="/manage/advocates/` + sam + `#references">Sam Patel: references missing</a>`,
		`<a href="/manage/advocates/` + sam + `#supervision">Sam Patel: supervision missing, was due on 12 April 2026</a>`,
		"This week 5 items on your advocates&#39; records need attention.", // the old one reads as a sentence
		navCount(unread),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the notifications page lacks %s", want)
		}
	}
	if strings.Contains(page, "need attention:</p>") && !strings.Contains(page, `class="notification-items"`) {
		t.Error("a summary ends in a colon over no items")
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", page)
	}
	// Every page's navigation carries the count; the link reads
	// "Notifications (n)" and is announced as "n unread".
	if _, body := m.do("GET", "/manage", nil); !strings.Contains(navOf(body), `<a href="/notifications">Notifications`+navCount(unread)+`</a>`) {
		t.Fatalf("the navigation lacks the unread count:\n%s", navOf(body))
	}

	// Marking all as read clears the count at once.
	if resp, _ := m.post("/notifications/read", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark read: %d", resp.StatusCode)
	}
	for _, path := range []string{"/notifications", "/manage"} {
		if _, body := m.do("GET", path, nil); !strings.Contains(navOf(body), `Notifications</a>`) || strings.Contains(navOf(body), `class="count"`) {
			t.Fatalf("%s: the navigation still counts unread notifications:\n%s", path, navOf(body))
		}
	}

	// A new notification is counted once the session is next read.
	if _, err := w.env.DB.AddNotification(ctx, manager.ID, notify.Notification{ID: "n-new", At: w.clock(), Subject: "Something new", Text: "Look."}); err != nil {
		t.Fatal(err)
	}
	w.advance(time.Minute)
	if _, body := m.do("GET", "/manage", nil); !strings.Contains(navOf(body), navCount(1)) {
		t.Fatalf("the new notification is not counted:\n%s", navOf(body))
	}
}

// navCount is the unread count as the navigation shows it.
func navCount(n int) string {
	return fmt.Sprintf(` <span class="count">(%d<span class="visually-hidden"> unread</span>)</span>`, n)
}

// navOf returns a page's main navigation.
func navOf(page string) string {
	start := strings.Index(page, `<nav aria-label="Main">`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</nav>")
	if end < 0 {
		return page[start:]
	}
	return page[start : start+end]
}
