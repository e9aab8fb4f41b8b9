package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/family-advocacy/lms/content"
	"github.com/family-advocacy/lms/internal/audit"
	"github.com/family-advocacy/lms/internal/auth"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/certificates"
	"github.com/family-advocacy/lms/internal/compliance"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/dbsupdate"
	"github.com/family-advocacy/lms/internal/handover"
	"github.com/family-advocacy/lms/internal/impact"
	"github.com/family-advocacy/lms/internal/learning"
	"github.com/family-advocacy/lms/internal/lifecycle"
	"github.com/family-advocacy/lms/internal/live"
	"github.com/family-advocacy/lms/internal/notify"
	"github.com/family-advocacy/lms/internal/privacy"
	"github.com/family-advocacy/lms/internal/reminders"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
	"github.com/family-advocacy/lms/web"
)

// Services are the domain services built on the stores.
type Services struct {
	Auth   *auth.Service
	Mail   *notify.Mailer
	Learn  *learning.Service
	Certs  *certificates.Service
	Audit  *audit.Log
	Comply *compliance.Service
	Remind *reminders.Service
	Rights *privacy.Service
	Impact *impact.Service
	Live   *live.Service
	// HandOver turns a completion into its certificate and CPD entry.
	HandOver *handover.Service
}

// NewServices builds the domain services. bs may be nil for commands that
// do not touch files (then there is no certificate service).
func NewServices(cfg config.Config, cat *learning.Catalogue, db *store.DB, bs *blob.Store, box *secrets.Box, clock func() time.Time, log *slog.Logger, bg *lifecycle.Group) (*Services, error) {
	var sender notify.Sender // none: messages are only recorded in the outbox
	if cfg.SMTPURL != "" {
		smtp, err := notify.ParseSMTPURL(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return nil, err
		}
		sender = smtp
	}
	mail := notify.NewMailer(db, sender, clock, log)
	mail.Box = box // seals the bodies of reset and invitation emails
	mail.Workers = cfg.MailWorkers
	if bg != nil {
		mail.Start(bg)
	}
	al := audit.NewLog(db, clock)
	svc := &Services{
		Auth: auth.NewService(db, auth.Deps{Box: box, Mail: mail, Audit: al, Now: clock, BaseURL: cfg.BaseURL, Log: log,
			Registration: auth.RegistrationMode(cfg.Registration)}),
		Mail:  mail,
		Learn: learning.NewService(db, cat, clock, log),
		Audit: al,
	}
	svc.Impact = &impact.Service{Store: db, Box: box, Courses: cat.Get, Now: clock}
	svc.Learn.Observer = svc.Impact
	if bs == nil {
		return svc, nil
	}
	policy, err := LoadPolicy(cfg.CompliancePolicy, cat)
	if err != nil {
		return nil, err
	}
	sealed := blob.NewSealed(bs, box.Files()) // DBS scans, CPD evidence and data downloads are encrypted at rest
	checker, err := statusChecker(cfg)
	if err != nil {
		return nil, err
	}
	svc.Comply = compliance.NewService(db, compliance.Deps{Policy: policy, Blobs: sealed, Box: box, Audit: al, Auth: svc.Auth, Learning: db,
		Catalogue: cat, Now: clock, Log: log, StatusChecker: checker})
	if svc.Comply.Fonts, err = reportFonts(); err != nil {
		return nil, err
	}
	r, err := certificateRenderer()
	if err != nil {
		return nil, err
	}
	svc.Certs = certificates.NewService(db, certificates.Deps{Blobs: bs, Accounts: db, Enrolments: db, Catalogue: cat, Renderer: r,
		Audit: al, Now: clock, Log: log, BaseURL: cfg.BaseURL, OrgName: cfg.OrgName, Box: box, Background: bg})
	owner := instanceID()
	attended := handover.Attendance{Certs: svc.Certs, Comply: svc.Comply}
	svc.Live = &live.Service{Store: db, Box: box, Mail: mail, Now: clock, BaseURL: cfg.BaseURL, From: organiserAddress(cfg), Log: log,
		Certs: attended, CPD: attended}
	svc.Certs.LiveCodes = svc.Live.CertificateCodes
	svc.Rights = &privacy.Service{DB: db, Blobs: sealed, Audit: al, Auth: svc.Auth, Learn: svc.Learn, Certs: svc.Certs, Comply: svc.Comply, Mail: mail,
		Now: clock, Log: log, BaseURL: cfg.BaseURL, Owner: owner, ErasureCertificates: cfg.ErasureCertificates,
		RetainEndedAdvocate: cfg.RetainEndedAdvocateMths, RetainOutbox: cfg.RetainOutboxDays, Impact: svc.Impact, Live: svc.Live}
	svc.HandOver = &handover.Service{Certs: svc.Certs, Comply: svc.Comply, Marks: db, Impact: svc.Impact, Now: clock, Log: log}
	svc.Remind = reminders.NewService(db, reminders.Deps{Comply: svc.Comply, Mail: mail, Now: clock, BaseURL: cfg.BaseURL, Owner: owner, Log: log, Courses: cat.All(), ContentOwner: cfg.ContentOwner,
		Impact: svc.Impact, Learn: svc.Learn, UnsubscribeURL: unsubscribeURL(cfg.BaseURL, box)})
	return svc, nil
}

// statusChecker returns the DBS Update Service client, or nil when
// LMS_DBS_UPDATE_URL is not set.
func statusChecker(cfg config.Config) (compliance.StatusChecker, error) {
	if cfg.DBSUpdateURL == "" {
		return nil, nil
	}
	fore, sur, _ := cfg.DBSCheckerName()
	org := cfg.DBSOrgName
	if org == "" {
		org = cfg.OrgName
	}
	c, err := dbsupdate.New(dbsupdate.Config{BaseURL: cfg.DBSUpdateURL, OrganisationName: org, CheckerForename: fore, CheckerSurname: sur})
	if err != nil {
		return nil, fmt.Errorf("LMS_DBS_UPDATE_URL: %w", err)
	}
	return c, nil
}

// instanceID names this process for job leases: host, process and a
// random part (so two processes on one host differ).
func instanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), notify.NewID()[:8])
}

var (
	rendererOnce sync.Once
	renderer     *certificates.Renderer
	rendererErr  error
)

// certificateRenderer prepares the certificate fonts once per process.
func certificateRenderer() (*certificates.Renderer, error) {
	rendererOnce.Do(func() {
		reg, err := fs.ReadFile(web.Static, "static/fonts/DejaVuSans.ttf")
		if err != nil {
			rendererErr = err
			return
		}
		bold, err := fs.ReadFile(web.Static, "static/fonts/DejaVuSans-Bold.ttf")
		if err != nil {
			rendererErr = err
			return
		}
		renderer, rendererErr = certificates.NewRenderer(reg, bold)
	})
	return renderer, rendererErr
}

// Wire builds the services and the HTTP server on open stores. It is what
// `lms serve` runs, and what integration tests use to get the same server.
// bg owns the background work; nil (in tests) runs it on its own.
func Wire(cfg config.Config, cat *learning.Catalogue, db *store.DB, bs *blob.Store, key []byte, clock func() time.Time, log *slog.Logger, bg *lifecycle.Group) (*server.Server, *Services, error) {
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, nil, err
	}
	svc, err := NewServices(cfg, cat, db, bs, box, clock, log, bg)
	if err != nil {
		return nil, nil, err
	}
	srv, err := server.New(server.Deps{
		Config: cfg,
		Logger: log,
		Clock:  clock,
		Checks: []server.Check{
			{Name: "database", Ping: db.CheckWritable},
			{Name: "object storage", Ping: bs.Ping},
		},
		Auth:       svc.Auth,
		Learn:      svc.Learn,
		Certs:      svc.Certs,
		Audit:      svc.Audit,
		Comply:     svc.Comply,
		HandOver:   svc.HandOver,
		Outbox:     db,
		Inbox:      db,
		Rights:     svc.Rights,
		Remind:     svc.Remind,
		Impact:     svc.Impact,
		Live:       svc.Live,
		Key:        key,
		Background: bg,
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

// LoadPolicy reads the compliance policy (a file, or the embedded one when
// path is empty) and checks it against the catalogue.
func LoadPolicy(path string, cat *learning.Catalogue) (*compliance.Policy, error) {
	var b []byte
	var err error
	if path != "" {
		b, err = os.ReadFile(path)
	} else {
		b, err = fs.ReadFile(content.Compliance, "compliance/policy.yaml")
	}
	if err != nil {
		return nil, fmt.Errorf("compliance policy: %w", err)
	}
	return compliance.ParsePolicy(b, func(slug string) bool { _, err := cat.Get(slug); return err == nil })
}

func reportFonts() (compliance.ReportFonts, error) {
	reg, err := fs.ReadFile(web.Static, "static/fonts/DejaVuSans.ttf")
	if err != nil {
		return compliance.ReportFonts{}, err
	}
	bold, err := fs.ReadFile(web.Static, "static/fonts/DejaVuSans-Bold.ttf")
	return compliance.ReportFonts{Regular: reg, Bold: bold}, err
}

// unsubscribeURL gives a person's one-click link that turns their
// optional emails off (see server.handleUnsubscribe).
func unsubscribeURL(base string, box *secrets.Box) func(userID string) string {
	return func(userID string) string {
		return base + "/unsubscribe?u=" + url.QueryEscape(userID) + "&t=" + server.UnsubscribeToken(box, userID)
	}
}

// organiserAddress is the address invitations name as their organiser:
// the sender's, or none when emails are only recorded.
func organiserAddress(cfg config.Config) string {
	from := cfg.SMTPFrom
	if i := strings.LastIndex(from, "<"); i >= 0 {
		from = strings.TrimSuffix(from[i+1:], ">")
	}
	return strings.TrimSpace(from)
}
