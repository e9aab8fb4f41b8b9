package app

import (
	"context"
	"log/slog"
	"time"
)

// exportLoop builds the data downloads people ask for: at once when one is
// asked for on this instance, and every few seconds for those asked for on
// another instance or left half-built by a crash (each build takes a lease,
// so several instances share the work). Hourly, and at start-up, it
// deletes the downloads past their expiry.
func exportLoop(ctx context.Context, svc *Services, log *slog.Logger) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	expire := func() {
		if n, err := svc.Rights.ExpireExports(ctx); err != nil && ctx.Err() == nil {
			log.Warn("deleting expired data downloads failed", "err", err)
		} else if n > 0 {
			log.Info("deleted expired data downloads", "count", n)
		}
	}
	expire()
	for {
		if n, err := svc.Rights.RunExports(ctx); err != nil && ctx.Err() == nil {
			log.Warn("building data downloads failed; they are tried again", "err", err)
		} else if n > 0 {
			log.Info("built data downloads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-svc.Rights.Wake():
		case <-tick.C:
		case <-hourly.C:
			expire()
		}
	}
}
