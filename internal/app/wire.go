package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
)

// Services are the domain services built on the stores.
type Services struct {
	Auth  *auth.Service
	Mail  *notify.Mailer
	Learn *learning.Service
}

// NewServices builds the domain services.
func NewServices(cfg config.Config, cat *learning.Catalogue, db *store.DB, box *secrets.Box, clock func() time.Time, log *slog.Logger) *Services {
	mail := &notify.Mailer{Outbox: db, Now: clock}
	return &Services{
		Auth:  &auth.Service{Store: db, Box: box, Mail: mail, Now: clock, BaseURL: cfg.BaseURL, Log: log},
		Mail:  mail,
		Learn: &learning.Service{Store: db, Catalogue: cat, Now: clock, Log: log},
	}
}

// Wire builds the services and the HTTP server on open stores. It is what
// `lms serve` runs, and what integration tests use to get the same server.
func Wire(cfg config.Config, cat *learning.Catalogue, db *store.DB, bs *blob.Store, key []byte, clock func() time.Time, log *slog.Logger) (*server.Server, *Services, error) {
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, nil, err
	}
	svc := NewServices(cfg, cat, db, box, clock, log)
	srv, err := server.New(server.Deps{
		Config: cfg,
		Logger: log,
		Clock:  clock,
		Checks: []server.Check{
			{Name: "database", Ping: db.Ping},
			{Name: "object storage", Ping: bs.Ping},
		},
		Auth:   svc.Auth,
		Learn:  svc.Learn,
		Outbox: db,
		Key:    key,
	})
	if err != nil {
		return nil, nil, err
	}
	return srv, svc, nil
}

// warnIfNoAdmin logs how to create the first administrator.
func warnIfNoAdmin(ctx context.Context, db *store.DB, log *slog.Logger) error {
	n, err := db.CountAdmins(ctx)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		log.Warn("no administrator account exists; create one with: lms users create --email you@example.org --name \"Your Name\" --role admin")
	}
	return nil
}
