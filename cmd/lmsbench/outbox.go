package main

import (
	"context"
	"fmt"
	"time"

	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/store"
)

// benchOutbox measures claiming a queued email for delivery when the outbox
// holds a year of mail (10,000 messages): the claim is a conditional update
// of one message, and must not grow with the outbox.
func benchOutbox(ctx context.Context, db *store.DB) error {
	now := time.Now().UTC()
	var sent []any
	for i := 0; i < 10000; i++ {
		sent = append(sent, notify.Message{ID: fmt.Sprintf("bench-sent-%05d", i), To: "someone@bench.example", Subject: "Reminder",
			Text: "Your DBS recheck is due soon.", Status: notify.StatusSent, Attempts: 1, Created: now.Add(-time.Duration(i) * time.Hour)})
	}
	for i := 0; i < len(sent); i += 1000 {
		if _, err := db.DB.Collection("outbox").InsertMany(ctx, sent[i:i+1000]); err != nil {
			return err
		}
	}
	var claims []float64
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("bench-queued-%03d", i)
		if _, err := db.InsertMessage(ctx, &notify.Message{ID: id, To: "someone@bench.example", Subject: "Reminder",
			Text: "Your DBS recheck is due soon.", Status: notify.StatusQueued, NextTry: now, Created: now}); err != nil {
			return err
		}
		start := time.Now()
		m, err := db.ClaimMessage(ctx, id, now, now.Add(time.Minute))
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("outbox: message %s was not claimed", id)
		}
		claims = append(claims, ms(time.Since(start)))
	}
	fmt.Printf("bench outbox_claim_p50 %.2f ms\n", median(claims))
	return nil
}
