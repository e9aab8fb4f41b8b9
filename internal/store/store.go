// Package store implements the domain packages' storage interfaces on
// MongoDB. When no MONGODB_URI is configured it runs FerretDB embedded in the
// process, with SQLite files under the data directory.
//
// FerretDB v1 pushes down only filters of the exact form {_id: value}; every
// other filter is a scan. Hot paths therefore read by _id, and every write is
// one atomic single-document operation.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/family-advocacy/lms/internal/errs"
)

// DB is a connected database.
type DB struct {
	Client *mongo.Client
	DB     *mongo.Database
	URI    string // the URI connected to (embedded: the loopback listener)

	stopEmbedded func()
	sqliteDir    string         // embedded: FerretDB's SQLite directory (see EnsureIDIndexes)
	wmu          *writeLock     // embedded: writes take turns (see collection)
	ldr          *loaderState   // a Loader's copy: list rows gather in memory
	listMu       *[64]writeLock // embedded: each list's writes take turns (see lockList)
	monitor      *event.CommandMonitor
	roomChecked  *atomic.Int64 // embedded: when the readiness room check last passed (UnixNano)
}

// Embedded is a FerretDB instance running inside this process.
type Embedded struct {
	URI  string
	stop context.CancelFunc
	done chan struct{}
}

// StartEmbedded starts FerretDB with the SQLite backend in dir, listening on
// a random loopback port. Its own logs go to logger at WARN and above.
func StartEmbedded(dir string, logger *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded database: create %s: %w", abs, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: fmt.Sprintf("127.0.0.1:%d", port)},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(NORMAL)&_pragma=secure_delete(on)", // erased data is overwritten, not just unlinked
		Logger:    slog.New(minLevel{Handler: logger.Handler(), level: slog.LevelWarn}).With("component", "ferretdb"),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	e.URI = f.MongoDBURI()
	return e, nil
}

// Stop shuts the embedded database down and waits for it, at most until ctx ends.
func (e *Embedded) Stop(ctx context.Context) {
	e.stop()
	select {
	case <-e.done:
	case <-ctx.Done():
	}
}

// Open connects to MongoDB at uri (or, when uri is empty, to an embedded
// FerretDB started under dataDir) and checks that it answers.
func Open(ctx context.Context, uri, database, dataDir string, logger *slog.Logger) (*DB, error) {
	db := &DB{URI: uri}
	if uri == "" {
		db.sqliteDir = filepath.Join(dataDir, "db")
		db.wmu, db.listMu, db.roomChecked = newWriteLock(), newListLocks(), new(atomic.Int64)
		e, err := StartEmbedded(db.sqliteDir, logger)
		if err != nil {
			return nil, err
		}
		db.URI = e.URI
		db.stopEmbedded = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			e.Stop(ctx)
		}
	}
	if err := db.connect(ctx, database); err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return db, nil
}

// Connect connects to an already running server (used by tests sharing one
// embedded FerretDB, whose SQLite directory sqliteDir may be given).
func Connect(ctx context.Context, uri, database string, sqliteDir ...string) (*DB, error) {
	o := ConnectOptions{}
	if len(sqliteDir) > 0 {
		o.SQLiteDir = sqliteDir[0]
	}
	return ConnectWith(ctx, uri, database, o)
}

// ConnectOptions say how to connect to a running server.
type ConnectOptions struct {
	// SQLiteDir, for an embedded FerretDB, is its SQLite directory: the
	// store then behaves as it does embedded in the app (writes take turns,
	// _id indexes, Compact). Empty: a MongoDB server.
	SQLiteDir string
	// Monitor, when set, sees every command sent (tests record the queries
	// to check each is served by _id, an index or a bounded collection).
	Monitor *event.CommandMonitor
}

// ConnectWith connects to an already running server.
func ConnectWith(ctx context.Context, uri, database string, o ConnectOptions) (*DB, error) {
	db := &DB{URI: uri, monitor: o.Monitor}
	if o.SQLiteDir != "" {
		db.sqliteDir = o.SQLiteDir
		db.wmu, db.listMu, db.roomChecked = newWriteLock(), newListLocks(), new(atomic.Int64)
	}
	if err := db.connect(ctx, database); err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return db, nil
}

func (db *DB) connect(ctx context.Context, database string) error {
	opts := options.Client().ApplyURI(db.URI).
		SetServerSelectionTimeout(10 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetAppName("lms")
	if db.monitor != nil {
		opts.SetMonitor(db.monitor)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	db.Client = client
	db.DB = client.Database(database)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		return fmt.Errorf("database: no answer from the server: %w", shortErr(err))
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.Client.Ping(ctx, nil)
}

// CheckWritable checks that the database answers and takes a write (one
// point upsert), and, embedded, that its directory has room for more: a
// database that answers reads but cannot write (a full disk, a read-only
// directory, a replica set without a primary) is not ready to serve.
func (db *DB) CheckWritable(ctx context.Context) error {
	if err := db.Client.Ping(ctx, nil); err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, err, "not answering")
	}
	// The room check writes a megabyte; a load balancer asking every
	// second need not cost that: a success holds for a few seconds.
	if db.sqliteDir != "" && time.Since(time.Unix(0, db.roomChecked.Load())) > roomCheckHolds {
		if err := checkRoom(db.sqliteDir); err != nil {
			return err
		}
		db.roomChecked.Store(time.Now().UnixNano())
	}
	_, err := db.coll("meta").UpdateOne(ctx, bson.D{{Key: "_id", Value: "readiness"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: time.Now().UTC()}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, err, "cannot write")
	}
	return nil
}

// readinessRoom is how much free room the embedded database's directory
// must have: enough for a burst of writes and their log.
const readinessRoom = 1 << 20

// roomCheckHolds is how long a successful room check is believed.
const roomCheckHolds = 3 * time.Second

// checkRoom writes and removes readinessRoom bytes in dir.
func checkRoom(dir string) error {
	f, err := os.CreateTemp(dir, ".room-*")
	if err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, err, "cannot write to its directory %s (read-only?)", dir)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, readinessRoom)); err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, err, "no room left in %s (disk full?)", dir)
	}
	if err := f.Sync(); err != nil {
		return errs.Wrap(errs.EUNAVAILABLE, err, "no room left in %s (disk full?)", dir)
	}
	return nil
}

// Close disconnects and stops the embedded database if this DB started it.
func (db *DB) Close(ctx context.Context) {
	if db.Client != nil {
		dctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		_ = db.Client.Disconnect(dctx)
		cancel()
	}
	if db.stopEmbedded != nil {
		db.stopEmbedded()
		db.stopEmbedded = nil
	}
}

// Collections returns the names of the collections in the database.
func (db *DB) Collections(ctx context.Context) ([]string, error) {
	return db.DB.ListCollectionNames(ctx, bson.D{})
}

// notFound maps mongo.ErrNoDocuments to an ENOTFOUND error.
func notFound(err error, what string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errs.Wrap(errs.ENOTFOUND, err, "%s not found", what)
	}
	return err
}

// shortErr trims the driver's long server-selection message to its cause.
func shortErr(err error) error {
	var sel mongo.ServerError
	if errors.As(err, &sel) {
		return err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return errors.New(msg)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// minLevel is a slog.Handler that drops records below a level. Attributes
// and groups are applied lazily, only to records that are kept: FerretDB
// calls Logger.With with every SQL statement's arguments (whole documents)
// before logging at DEBUG, and a text handler formats them eagerly, which
// cost ~15% of the CPU of a write-heavy run.
type minLevel struct {
	slog.Handler
	level slog.Level
	ops   []logOp // applied in order when a record is kept
}

type logOp struct {
	group string
	attrs []slog.Attr
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

// Handle drops FerretDB's wire-protocol dumps, which it logs at WARN for
// every command it answers with an error (e.g. endSessions on disconnect);
// the driver reports real errors to the caller anyway.
func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.level || strings.HasPrefix(r.Message, "Response ") || strings.HasPrefix(r.Message, "Request ") {
		return nil
	}
	inner := h.Handler
	for _, op := range h.ops {
		if op.group != "" {
			inner = inner.WithGroup(op.group)
		} else {
			inner = inner.WithAttrs(op.attrs)
		}
	}
	return inner.Handle(ctx, r)
}

func (h minLevel) with(op logOp) minLevel {
	h.ops = append(slices.Clip(h.ops), op)
	return h
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return h.with(logOp{attrs: slices.Clone(a)})
}

func (h minLevel) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(logOp{group: name})
}
