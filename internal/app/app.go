// Package app wires the program together: it reads the configuration, starts
// or connects to the stores, builds the domain services and the HTTP server,
// and runs the command asked for. main and the end-to-end tests both call Run.
package app

import (
	"github.com/family-advocacy/lms/internal/compliance"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/config"
	"github.com/family-advocacy/lms/internal/lifecycle"
	"github.com/family-advocacy/lms/internal/secrets"
	"github.com/family-advocacy/lms/internal/server"
	"github.com/family-advocacy/lms/internal/store"
)

// Env is what a run of the program receives from the outside world.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Clock replaces time.Now (tests move it on). Nil means time.Now.
	Clock func() time.Time
	// Ready, when set, is called with the listening address once serving.
	Ready func(addr string)
	// Prepare, when set, is called with the server and services before it
	// serves (make bench adds its reference route here).
	Prepare func(*server.Server, *Services, *store.DB)
	// NoJobs, when set, starts none of the periodic jobs (sweeps,
	// reconcilers, reminders, retention, compliance recompute): the scale
	// bench runs them itself, to time them and requests made during them.
	NoJobs bool
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// ExitCode returns the process exit code for an error returned by Run.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `usage:
  lms serve [-addr 127.0.0.1:8080] [-data-dir ./data] [-demo]
  lms courses validate [DIR]
  lms users create --email E --name N --role admin
  lms backup DIR     copy the embedded stores into DIR (the server may be running)
  lms restore DIR    restore a backup into LMS_DATA_DIR (an empty directory)`

// Run runs the command in env.Args until it finishes or ctx is cancelled.
func Run(ctx context.Context, env Env) error {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Clock == nil {
		env.Clock = time.Now
	}
	if len(env.Args) == 0 {
		return usageError{usage}
	}
	switch env.Args[0] {
	case "serve":
		return serve(ctx, env, env.Args[1:])
	case "users":
		return usersCommand(ctx, env, env.Args[1:])
	case "courses":
		return coursesCommand(env, env.Args[1:])
	case "backup":
		return backupCommand(ctx, env, env.Args[1:])
	case "restore":
		return restoreCommand(ctx, env, env.Args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q\n%s", env.Args[0], usage)}
	}
}

// newLogger returns the process logger.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// stores are the started or connected database and object store, with the
// functions that stop them, in reverse order of start.
type stores struct {
	db       *store.DB
	blob     *blob.Store
	minio    *blob.Server
	endpoint string // the file naming the managed MinIO's address, while it runs
}

func (s *stores) close() {
	if s.db != nil {
		s.db.Close(context.Background())
	}
	if s.endpoint != "" {
		_ = os.Remove(s.endpoint)
	}
	if s.minio != nil {
		s.minio.Stop()
	}
}

// openStores opens the database and object storage named by cfg, starting
// embedded ones when none is configured. On failure everything started so
// far is stopped.
func openStores(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *stores, err error) {
	st := &stores{}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if cfg.Embedded() || cfg.MinioEndpoint == "" {
		if err := prepareDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}

	// Object storage first: a missing MinIO binary is the commonest first-run
	// problem and should not wait for the database.
	endpoint, access, secret, useSSL := cfg.MinioEndpoint, cfg.MinioAccessKey, cfg.MinioSecretKey, cfg.MinioUseSSL
	if endpoint == "" {
		bin, err := blob.FindBinary(cfg.MinioBinary)
		if err != nil {
			return nil, err
		}
		creds, err := blob.LoadOrCreateCredentials(filepath.Join(cfg.DataDir, "minio-credentials.json"))
		if err != nil {
			return nil, err
		}
		st.minio, err = blob.StartServer(ctx, bin, filepath.Join(cfg.DataDir, "minio"), creds, log.With("component", "minio"))
		if err != nil {
			return nil, err
		}
		endpoint, access, secret, useSSL = st.minio.Endpoint, creds.AccessKey, creds.SecretKey, false
		// For `lms backup` while we run (a restart keeps the address).
		st.endpoint = filepath.Join(cfg.DataDir, endpointFile)
		if err := os.WriteFile(st.endpoint, []byte(endpoint+"\n"), 0o600); err != nil {
			return nil, dataDirError(cfg.DataDir, err)
		}
		log.Info("object storage started", "endpoint", endpoint, "data", filepath.Join(cfg.DataDir, "minio"))
	}
	st.blob, err = blob.Open(ctx, endpoint, access, secret, useSSL, cfg.MinioBucket)
	if err != nil {
		return nil, fmt.Errorf("cannot reach object storage at %s: %w", endpoint, err)
	}

	if cfg.Embedded() {
		log.Info("starting embedded database", "dir", filepath.Join(cfg.DataDir, "db"))
	}
	st.db, err = store.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, cfg.DataDir, log)
	if err != nil && cfg.Embedded() {
		if d := damagedDatabase(filepath.Join(cfg.DataDir, "db"), err); d != nil {
			return nil, d
		}
	}
	if err != nil {
		where := "the embedded database"
		if !cfg.Embedded() {
			where = "MongoDB at " + config.RedactURI(cfg.MongoURI)
		}
		return nil, fmt.Errorf("cannot reach %s: %w", where, err)
	}
	return st, nil
}

// serve runs `lms serve`.
func serve(ctx context.Context, env Env, args []string) error {
	cfg, err := config.Load(args, env.Getenv, env.Stderr)
	if err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(cfg, env.Stderr)
	cat, err := LoadCatalogue(cfg.CoursesDir)
	if err != nil {
		return err
	}

	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	key, created, err := secrets.LoadKey(cfg.SecretKey, filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return err
	}
	if created && !cfg.Embedded() {
		log.Warn("LMS_SECRET_KEY is not set: generated a key in the data directory; every instance sharing this database must use the same key", "file", filepath.Join(cfg.DataDir, "secret.key"))
	}
	// The first reads and writes find a damaged database that opened.
	damaged := func(err error) error {
		if d := damagedDatabase(filepath.Join(cfg.DataDir, "db"), err); cfg.Embedded() && d != nil {
			return d
		}
		return err
	}
	if err := st.db.EnsureSchema(ctx); err != nil {
		return damaged(err)
	}
	inst, err := st.db.EnsureInstallation(ctx, env.Clock())
	if err != nil {
		return damaged(err)
	}
	log.Info("database ready", "installation", inst.ID, "created", inst.CreatedAt.Format(time.RFC3339))
	if err := st.db.Backfill(ctx, env.Clock(), log); err != nil {
		return damaged(err)
	}

	// Everything that runs in the background — the periodic jobs, the
	// MinIO supervisor, jobs people start, the mail workers — belongs to
	// one group, which shutdown cancels and waits for before the stores
	// close. A supervisor that gives up stops the whole process.
	bg := lifecycle.New(ctx)
	srv, svc, err := Wire(cfg, cat, st.db, st.blob, key, env.Clock, log, bg)
	if err != nil {
		return err
	}
	if st.minio != nil {
		st.blob.Restarting = st.minio.Restarting
		bg.Go(st.minio.Supervise)
	}
	if cfg.Demo {
		if err := seedDemo(ctx, svc, st.db, env.Stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	if err := warnIfNoAdmin(ctx, st.db, log); err != nil {
		return err
	}
	if env.Prepare != nil {
		env.Prepare(srv, svc, st.db)
	}
	if !env.NoJobs {
		bg.Go(func(ctx context.Context) error { sweepLoop(ctx, st.db, env.Clock, log); return nil })
		bg.Go(func(ctx context.Context) error { reconcileLoop(ctx, svc, log); return nil })
		bg.Go(func(ctx context.Context) error { complianceLoop(ctx, svc, log); return nil })
		bg.Go(func(ctx context.Context) error { reminderLoop(ctx, svc, log); return nil })
		bg.Go(func(ctx context.Context) error { exportLoop(ctx, svc, log); return nil })
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		bg.Stop(time.Second)
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	mailTo := "the outbox collection (no SMTP_URL)"
	if sender, ok := svc.Mail.Sender.(fmt.Stringer); ok {
		mailTo = "SMTP " + sender.String()
	}
	log.Info("serving", "addr", ln.Addr().String(), "url", cfg.BaseURL, "email", mailTo)
	if env.Ready != nil {
		env.Ready(ln.Addr().String())
	}
	// Serve until a signal, or until background work fails for good.
	err = srv.Serve(bg.Context(), ln)
	// Then the background work: jobs stop where they are (each resumes
	// after the next start), an email being handed to the SMTP server gets
	// its second, and queued ones stay in the outbox.
	if done, _ := bg.Stop(1500 * time.Millisecond); !done {
		log.Warn("stopping with background work still running; it resumes after the next start")
	}
	if err == nil {
		err = bg.Err()
	}
	log.Info("stopped serving; closing stores")
	return err
}

func envStdin(env Env) io.Reader {
	if env.Stdin == nil {
		return strings.NewReader("")
	}
	return env.Stdin
}

// sweepLoop removes expired sessions, password resets and old throttle
// records at start-up and then hourly. Running it on every instance is
// harmless: each sweep is an idempotent delete.
func sweepLoop(ctx context.Context, db *store.DB, clock func() time.Time, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := db.EnsureIDIndexes(ctx); err != nil && ctx.Err() == nil {
			log.Warn("ensuring _id indexes failed", "err", err)
		}
		if n, err := db.SweepExpired(ctx, clock()); err != nil && ctx.Err() == nil {
			log.Warn("sweep of expired records failed", "err", err)
		} else if n > 0 {
			log.Info("swept expired records", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcileLoop finishes multi-step work left half-done by a crash: at
// start-up and then every minute. Each step is idempotent, so several
// instances running it at once do no harm.
func reconcileLoop(ctx context.Context, svc *Services, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		_ = svc.Reconcile(ctx, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile runs one pass of the reconcilers, each reading only its work
// queues: submissions not yet on their enrolment, completions not yet
// handed over, certificates not yet finished (and bulk jobs whose instance
// stopped), changes to compliance records not yet followed up, and email
// due for delivery. A step that fails is logged and
// the others still run; the first error is returned.
func (svc *Services) Reconcile(ctx context.Context, log *slog.Logger) error {
	steps := []struct {
		what, done string
		run        func(context.Context) (int, error)
	}{
		{"reconciling submissions", "recorded submissions left unrecorded by a crash", svc.Learn.Reconcile},
		{"handing completed courses over", "handed completed courses over to certificates and CPD", svc.HandOver.Reconcile},
		{"reconciling certificates", "finished certificate work left half-done", svc.Certs.Reconcile},
		{"following up changes to compliance records", "finished changes to compliance records left half-done", svc.Comply.Reconcile},
		{"handing live training attendance over", "handed attendance at live training over to certificates and CPD", svc.Live.Reconcile},
		{"delivering queued email", "attempted queued email", svc.Mail.DeliverDue},
	}
	var first error
	for _, st := range steps {
		n, err := st.run(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.Warn(st.what+" failed", "err", err)
			if first == nil {
				first = fmt.Errorf("%s: %w", st.what, err)
			}
		case n > 0:
			log.Info(st.done, "count", n)
		}
	}
	return first
}

// reminderLoop tries the daily reminder job at start-up and then hourly;
// the job's lease lets one instance run it once a day, and a run that died
// is resumed when its lease expires.
func reminderLoop(ctx context.Context, svc *Services, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if res, err := svc.Remind.RunDaily(ctx); err != nil && ctx.Err() == nil {
			log.Warn("reminder job failed; it resumes within the hour", "queued", res.Queued, "err", err)
		} else if res.Ran {
			log.Info("reminder job done", "queued", res.Queued)
		}
		// Offers of a live session's place that lapsed go to the next
		// person waiting (idempotent: any instance, any hour).
		// Live training (each idempotent: any instance, any hour): offers
		// of a place that lapsed go to the next person waiting; reminders
		// due go, once each; needs kept past their time are deleted.
		for _, job := range []struct {
			what string
			run  func(context.Context) (int, error)
		}{{"lapsed offers passed on", svc.Live.Lapse}, {"reminders sent", svc.Live.Remind}, {"sessions' access and dietary needs deleted", svc.Live.EraseNeeds}} {
			if n, err := job.run(ctx); err != nil && ctx.Err() == nil {
				log.Warn("live training: "+job.what+" failed", "err", err)
			} else if n > 0 {
				log.Info("live training: "+job.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// complianceLoop recomputes every advocate's status as dates pass (at
// start-up and every six hours) and deletes DBS scans past their retention
// (hourly); at start-up it first encrypts files stored in plain by earlier
// versions. All are idempotent.
func complianceLoop(ctx context.Context, svc *Services, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	lastDay := ""
	for hour := 0; ; hour++ {
		// Every six hours, and in the first hour of each London day (dates
		// pass at midnight: the dashboards' rows are brought up to date).
		today := svc.Comply.Now().In(compliance.London).Format(time.DateOnly)
		recompute := hour%6 == 0 || today != lastDay
		lastDay = today
		if hour == 0 { // once per start: files earlier versions stored in plain
			if n, err := svc.Comply.SealLegacyFiles(ctx); err != nil && ctx.Err() == nil {
				log.Warn("encrypting files stored in plain failed; it resumes at the next start", "err", err)
			} else if n > 0 {
				log.Info("encrypted files an earlier version stored in plain", "count", n)
			}
		}
		if hour%6 == 0 {
			if due, err := svc.Rights.Retention(ctx, false); err != nil && ctx.Err() == nil {
				log.Warn("retention job failed", "err", err)
			} else if len(due) > 0 {
				log.Info("retention job deleted expired records", "items", len(due))
			}
			// Administrators told of data-rights requests due within a week
			// or overdue (once each: fixed message IDs).
			if n, err := svc.Rights.RemindRights(ctx); err != nil && ctx.Err() == nil {
				log.Warn("reminding of data-rights requests failed; it is tried again in six hours", "err", err)
			} else if n > 0 {
				log.Info("reminded administrators of data-rights requests", "messages", n)
			}
		}
		if recompute {
			if n, err := svc.Comply.RecomputeAll(ctx); err != nil && ctx.Err() == nil {
				log.Warn("recomputing compliance failed", "err", err)
			} else {
				log.Info("recomputed compliance", "advocates", n)
				// Today's point of each organisation's trend, from the
				// dashboards just brought up to date.
				if _, err := svc.Comply.RecordTrends(ctx); err != nil && ctx.Err() == nil {
					log.Warn("recording the compliance trend failed; it is recorded at the next recompute", "err", err)
				}
			}
		}
		if n, err := svc.Comply.PurgeScans(ctx); err != nil && ctx.Err() == nil {
			log.Warn("deleting old DBS scans failed", "err", err)
		} else if n > 0 {
			log.Info("deleted DBS scans past their retention", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
