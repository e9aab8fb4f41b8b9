package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	if _, body := c.do("GET", "/notifications", nil); !strings.Contains(body, "Your certificate expires soon") || !strings.Contains(body, "You have 1 unread notification.") {
		t.Fatal("the notification is not listed as unread")
	}
	if resp, _ := c.post("/notifications/read", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark read: %d", resp.StatusCode)
	}
	if _, body := c.do("GET", "/notifications", nil); !strings.Contains(body, "You have no unread notifications.") || !strings.Contains(body, "Your certificate expires soon") {
		t.Fatal("after marking read")
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
