package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/family-advocacy/lms/internal/backup"
	"github.com/family-advocacy/lms/internal/blob"
	"github.com/family-advocacy/lms/internal/config"
)

// endpointFile, in the data directory, holds the address of the MinIO
// server a running `lms serve` manages, so that `lms backup` can copy the
// objects through it while it runs. It is removed when the server stops.
const endpointFile = "minio-endpoint"

// backupCommand runs `lms backup DIR`: a consistent copy of the embedded
// stores, taken while the server runs (or not).
func backupCommand(ctx context.Context, env Env, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: lms backup DIR   (DIR: a new or empty directory)"}
	}
	cfg, log, err := embeddedConfig(env, "backup")
	if err != nil {
		return err
	}
	format, err := readFormat(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		format = DataFormat // written before formats were recorded
	} else if err != nil {
		return err
	}
	bs, stop, err := backupStorage(ctx, cfg, log, env)
	if err != nil {
		return err
	}
	defer stop()
	begin := time.Now()
	m, err := backup.Take(ctx, cfg.DataDir, format, bs, args[0], env.Stdout)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Backed up %s to %s in %s: %d database file(s), %d object(s)", cfg.DataDir, args[0], time.Since(begin).Round(100*time.Millisecond), len(m.Database), len(m.Objects))
	if m.SecretKey {
		fmt.Fprintln(env.Stdout, ", and the secret key. Keep the backup as safe as the data directory: the key in it unlocks the encrypted fields.")
	} else {
		fmt.Fprintln(env.Stdout, ". The key is not in it (LMS_SECRET_KEY): keep that key too, or the encrypted fields cannot be read after a restore.")
	}
	return nil
}

// backupStorage reaches the bucket: the configured MinIO or S3, else the
// running server's MinIO, else (the server is stopped) a MinIO of its own
// on the data directory.
func backupStorage(ctx context.Context, cfg config.Config, log *slog.Logger, env Env) (*blob.Store, func(), error) {
	if cfg.MinioEndpoint != "" {
		bs, err := blob.Open(ctx, cfg.MinioEndpoint, cfg.MinioAccessKey, cfg.MinioSecretKey, cfg.MinioUseSSL, cfg.MinioBucket)
		return bs, func() {}, err
	}
	creds, err := blob.LoadOrCreateCredentials(filepath.Join(cfg.DataDir, "minio-credentials.json"))
	if err != nil {
		return nil, nil, err
	}
	if b, err := os.ReadFile(filepath.Join(cfg.DataDir, endpointFile)); err == nil {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		bs, err := blob.Open(octx, strings.TrimSpace(string(b)), creds.AccessKey, creds.SecretKey, false, cfg.MinioBucket)
		cancel()
		if err == nil {
			fmt.Fprintln(env.Stdout, "The server is running: copying through its object storage.")
			return bs, func() {}, nil
		}
		log.Debug("the server's MinIO does not answer; the server is not running", "err", err)
	}
	return ownStorage(ctx, cfg, creds, log)
}

// ownStorage starts a MinIO server on the data directory for a command.
func ownStorage(ctx context.Context, cfg config.Config, creds blob.Credentials, log *slog.Logger) (*blob.Store, func(), error) {
	bin, err := blob.FindBinary(cfg.MinioBinary)
	if err != nil {
		return nil, nil, err
	}
	srv, err := blob.StartServer(ctx, bin, filepath.Join(cfg.DataDir, "minio"), creds, log.With("component", "minio"))
	if err != nil {
		return nil, nil, err
	}
	bs, err := blob.Open(ctx, srv.Endpoint, creds.AccessKey, creds.SecretKey, false, cfg.MinioBucket)
	if err != nil {
		srv.Stop()
		return nil, nil, err
	}
	return bs, srv.Stop, nil
}

// restoreCommand runs `lms restore DIR`: a backup into an empty data
// directory (or one whose restore was interrupted).
func restoreCommand(ctx context.Context, env Env, args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: lms restore DIR   (DIR: a backup made by lms backup; LMS_DATA_DIR: an empty directory)"}
	}
	cfg, log, err := embeddedConfig(env, "restore")
	if err != nil {
		return err
	}
	m, err := backup.ReadManifest(args[0], DataFormat)
	if err != nil {
		return err
	}
	dir := cfg.DataDir
	marker := filepath.Join(dir, restoringFile)
	if _, err := os.Stat(marker); err != nil {
		if held, err := holdsData(dir); err != nil {
			return dataDirError(dir, err)
		} else if held {
			return fmt.Errorf("the data directory %s already holds data: restore into an empty directory (set LMS_DATA_DIR), or move %s aside first", dir, dir)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return dataDirError(dir, err)
	}
	// Until the marker goes, the server refuses this directory, and
	// restore may be run again to finish.
	if err := os.WriteFile(marker, []byte(args[0]+"\n"), 0o600); err != nil {
		return dataDirError(dir, err)
	}
	if err := backup.RestoreFiles(m, args[0], dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, formatFile), []byte(fmt.Sprintf("%d\n", m.DataFormat)), 0o600); err != nil {
		return dataDirError(dir, err)
	}
	creds, err := blob.LoadOrCreateCredentials(filepath.Join(dir, "minio-credentials.json"))
	if err != nil {
		return err
	}
	bs, stop, err := ownStorage(ctx, cfg, creds, log)
	if err != nil {
		return err
	}
	err = backup.RestoreObjects(ctx, m, args[0], bs, env.Stdout)
	stop()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Restored the backup of %s (%d object(s)) into %s. Start the server with LMS_DATA_DIR=%s lms serve.\n",
		m.TakenAt.Format(time.RFC3339), len(m.Objects), dir, dir)
	if !m.SecretKey && cfg.SecretKey == "" {
		fmt.Fprintln(env.Stdout, "The backup holds no secret key: set LMS_SECRET_KEY to the key the server used, or encrypted fields cannot be read.")
	}
	if m.Skipped > 0 {
		fmt.Fprintf(env.Stdout, "%d object(s) stored while the backup was taken are not in it; the server finishes or tidies what they belonged to.\n", m.Skipped)
	}
	return nil
}

// holdsData reports whether dir has a database or stored objects.
func holdsData(dir string) (bool, error) {
	dbs, err := filepath.Glob(filepath.Join(dir, "db", "*.sqlite"))
	if err != nil {
		return false, err
	}
	if len(dbs) > 0 {
		return true, nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, "minio"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return len(entries) > 0, err
}

// embeddedConfig loads the configuration for a command that works on the
// embedded database's files.
func embeddedConfig(env Env, what string) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(nil, env.Getenv, env.Stderr)
	if err != nil {
		return cfg, nil, usageError{err.Error()}
	}
	if !cfg.Embedded() {
		return cfg, nil, fmt.Errorf("lms %s works on the embedded database; with MONGODB_URI set, use mongodump and mongorestore, and your object store's own copies (see README, Backups)", what)
	}
	return cfg, newLogger(cfg, env.Stderr), nil
}
