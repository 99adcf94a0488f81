// Package store keeps instancehub's data in SQLite. It implements the store
// interfaces of the root package and knows nothing of HTTP or Azure.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"
)

//go:embed migrations/*.sql migrations_postgres/*.sql
var migrations embed.FS

// Every connection of the pool gets these pragmas: WAL lets readers work
// while one writer writes, busy_timeout makes a second writer wait instead of
// failing, and SQLite leaves foreign keys unchecked unless asked. Write
// transactions begin IMMEDIATE, so one that reads before it writes (a quota
// check) waits for the lock instead of failing with SQLITE_BUSY. Each
// connection's page cache is 512 KiB, not SQLite's 2 MiB: a sync or a
// scheduler tick reads every instance, and four connections' full caches
// held 6 MB more of an idle portal at 10,000 instances, while pages are
// kept above the store and its reads come from the OS's cache anyway
// (list page throughput the same either way).
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-512)&_txlock=immediate"

// DB is instancehub's database: a SQLite file, or PostgreSQL for several
// replicas (postgres.go).
type DB struct {
	db      *sql.DB
	d       *dialect
	stmts   statements
	changes changeCounter
	// Reads kept while nothing was committed (changes.go): pages of
	// instances (the filters people use at once: pages, searches, sorts);
	// sessions, which every request of a signed-in user asks for and whose
	// every change (sign-out, role, rename) is a commit, while the quiet
	// record of their last use forgets the one it changes; and the
	// workspace quota of each region.
	pages byVersion[instancehub.InstanceFilter, cachedPage]
	// totals are how many instances each filter (its sort and page left
	// out) selects: counted once for all its pages.
	totals    byVersion[instancehub.InstanceFilter, int]
	sessions  byVersion[string, *instancehub.Session]
	tokens    byVersion[string, *instancehub.APIToken]
	quotas    byVersion[string, *instancehub.WorkspaceQuota]
	running   byVersion[runningKey, *runningSums]
	byName    byVersion[string, *instancehub.Instance]
	schedules byVersion[string, []*instancehub.Schedule]
	// setupRuns keeps instances' last setup runs by ID, none included:
	// a log is at most 64 KB, so at most 16 MB.
	setupRuns byVersion[int64, *instancehub.SetupResult]
	// users are FindUsers' answers (the list's owner filter asks for all
	// of them at every render), and untold the people found with nothing
	// waiting to be told (notices, quota answers) at a version: what
	// every view of the list asks before it renders.
	users  byVersion[usersKey, []*instancehub.User]
	untold byVersion[untoldKey, bool]
	// operations are an instance's latest operations, which its details
	// page shows at every view.
	operations byVersion[operationsKey, []*instancehub.Operation]
	// intervals are the spans each instance ran, which its cost sums.
	intervals byVersion[int64, intervals]
	// orders are the list's whole orders, which later pages are cut from
	// (order.go).
	orders orders

	// Now returns the current time. The store stamps with it the times a
	// caller leaves zero; tests replace it to control them.
	Now func() time.Time
	// Metrics, if set, is told how long each statement and transaction
	// took. Set it before the store is used.
	Metrics Metrics

	// full is set when a write found no room (ErrDiskFull), and cleared
	// when Readiness finds room again (roomToWrite).
	full atomic.Bool

	// writing is held by each SQLite write of this process, a transaction
	// from its begin to its end: SQLite lets one writer in at a time, and
	// the others poll for its lock with sleeps that grow to 100 ms (its
	// busy handler), so under a stream of writes most of a transaction's
	// time was spent asleep while the lock was free. Writers of this
	// process now queue here; another process's still meet the busy
	// handler.
	writing sync.Mutex
}

// lockWrites holds off this process's other SQLite writers until the
// returned function is called; PostgreSQL's writers queue on its advisory
// lock instead (writeLock).
func (db *DB) lockWrites() (unlock func()) {
	if db.d.postgres() {
		return func() {}
	}
	db.writing.Lock()
	return db.writing.Unlock
}

// Metrics counts the database's work for an operator's dashboards.
type Metrics interface {
	// Query: a statement of kind QueryRead or QueryWrite, or a whole
	// QueryTransaction (its begin, the write lock's wait included, to its
	// commit), took that long and failed with err, if any.
	Query(kind string, took time.Duration, err error)
}

// The kinds of Metrics.Query.
const (
	QueryRead        = "read"
	QueryWrite       = "write"
	QueryTransaction = "transaction"
)

// timed tells Metrics how long what began at began took.
func (db *DB) timed(kind string, began time.Time, err error) {
	if db.Metrics != nil {
		db.Metrics.Query(kind, time.Since(began), err)
	}
}

// Stats says how the pool of connections is used.
func (db *DB) Stats() sql.DBStats { return db.db.Stats() }

var (
	_ instancehub.InstanceStore = (*DB)(nil)
	_ instancehub.UserStore     = (*DB)(nil)
	_ instancehub.SessionStore  = (*DB)(nil)
)

// Open opens the database file at path, creating it and its directory if
// needed, and applies the migrations it has not had yet.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// Options change how a SQLite database is opened; the zero value is Open's.
type Options struct {
	// MaxSize, when set, keeps the database file under this many bytes: a
	// write that would grow it further finds no room (ErrDiskFull), as on
	// a full disk (SQLite's max_page_count, on every connection).
	MaxSize int64
}

// OpenWith is Open, as opts says.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	name := dsn(path)
	if opts.MaxSize > 0 {
		name += fmt.Sprintf("&_pragma=max_page_count(%d)", max(opts.MaxSize/pageSize, 1))
	}
	db := sql.OpenDB(connector{name, writable})
	// database/sql keeps two idle connections by default: at 16 requests
	// at once the rest were closed after each statement and opened again
	// for the next, pragmas, hooks and prepared statements included (a
	// sixth of a details view's CPU under make bench-http). Keep as many
	// as a busy moment uses, and let them go once the portal is idle.
	db.SetMaxIdleConns(sqliteIdleConns)
	db.SetConnMaxIdleTime(time.Minute)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	changes, err := openChanges(name)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return newDB(db, sqliteDialect, changes), nil
}

func newDB(db *sql.DB, d *dialect, changes changeCounter) *DB {
	return &DB{db: db, d: d, changes: changes, Now: time.Now,
		pages:    newByVersion[instancehub.InstanceFilter, cachedPage](128),
		totals:   newByVersion[instancehub.InstanceFilter, int](128),
		sessions: newByVersion[string, *instancehub.Session](10_000),
		tokens:   newByVersion[string, *instancehub.APIToken](10_000),
		quotas:   newByVersion[string, *instancehub.WorkspaceQuota](1024),
		running:  newByVersion[runningKey, *runningSums](256),
		byName:   newByVersion[string, *instancehub.Instance](10_000),
		// schedules: by the instances asked for, "[1 2 3]"
		schedules:  newByVersion[string, []*instancehub.Schedule](1024),
		setupRuns:  newByVersion[int64, *instancehub.SetupResult](256),
		users:      newByVersion[usersKey, []*instancehub.User](64),
		untold:     newByVersion[untoldKey, bool](10_000),
		operations: newByVersion[operationsKey, []*instancehub.Operation](1024),
		intervals:  newByVersion[int64, intervals](1024),
		orders:     orders{ids: newByVersion[instancehub.InstanceFilter, []int64](16), from: orderedFrom},
	}
}

// sqliteIdleConns is how many of SQLite's connections the pool keeps
// between requests: each holds at most cache_size (512 KiB) of pages.
const sqliteIdleConns = 16

// dsn escapes path because SQLite reads it as a URI, in which "?", "#" and
// "%" mean something.
// pageSize is the size of the database's pages: SQLite's default.
const pageSize = 4096

func dsn(path string) string {
	return "file:" + escapePath(path) + "?" + pragmas
}

// escapePath writes path as SQLite's URI names read it.
func escapePath(path string) string { return (&url.URL{Path: path}).EscapedPath() }

// migrate applies the embedded migrations, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateDialect(ctx, db, sqliteDialect)
}

func migrateDialect(ctx context.Context, db *sql.DB, d *dialect) error {
	fsys, err := fs.Sub(migrations, d.migrations())
	if err != nil {
		return err
	}
	gd, opts := goose.DialectSQLite3, []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d.postgres() {
		// Replicas started together migrate one at a time: each holds a
		// session advisory lock while it migrates, and the next finds
		// nothing left to do. SQLite's file has one portal, whose lock
		// on the data directory it holds.
		gd, opts = goose.DialectPostgres, append(opts, goose.WithSessionLocker(migrationLocker{}))
	}
	provider, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return err
	}
	// A schema newer than this build's is refused before anything is
	// written, and again after: goose leaves versions it does not know
	// alone, and on PostgreSQL a newer replica may migrate meanwhile.
	if err := refuseNewer(ctx, db, d); err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return err
	}
	return refuseNewer(ctx, db, d)
}

// Close closes the database.
func (db *DB) Close() error {
	db.orders.builds.Wait()
	db.stmts.close()
	_ = db.changes.close()
	return db.db.Close()
}

// now is the current time at the precision the database keeps.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Millisecond)
}

// orNow returns t, or the current time when t is zero.
func (db *DB) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return db.now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

// inTx runs fn in a transaction, committed when fn returns nil. The
// transaction takes the write lock at once (SQLite's _txlock=immediate;
// on PostgreSQL, the store's advisory lock, writeLock), so fn may read
// before it writes, and what it read holds until it commits, whichever
// process or replica writes meanwhile.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	began := time.Now()
	defer func() { wrote(ctx); err = db.written(err); db.timed(QueryTransaction, began, err) }()
	defer db.lockWrites()()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if db.d.postgres() {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
			tx.Rollback()
			return fmt.Errorf("take the write lock: %w", err)
		}
	}
	if err := fn(&Tx{tx: tx, d: db.d}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// written notes how a write ended: one that found no room for what it
// wrote (SQLite's SQLITE_FULL, from a disk full or the database at its
// largest; PostgreSQL's disk_full) ends with ErrDiskFull, which the portal
// shows, and which Readiness reports until it finds room again. Smaller
// writes may still fit (in a page's free space, in the log's) and say
// nothing of the room left.
func (db *DB) written(err error) error {
	if isDiskFull(err) {
		db.full.Store(true)
		return instancehub.ErrDiskFull
	}
	return err
}

// millis is how a time is stored.
func millis(t time.Time) int64 { return t.UnixMilli() }

// nullMillis stores the zero time as NULL.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMillis reads a stored time; NULL reads as the zero time.
func fromMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

// zeroMillis reads a time stored as 0 for never (a user's disabled_at, a
// token's last use or revocation, an instance's last activity).
func zeroMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// nullID stores the ID 0 as NULL, for references that may be absent.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// wrap adds context to an unexpected error. The domain's own errors pass
// unchanged: their message is meant for the user as it is.
func wrap(err error, format string, args ...any) error {
	var e *instancehub.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

var (
	_ instancehub.RoleStore     = (*DB)(nil)
	_ instancehub.AuditStore    = (*DB)(nil)
	_ instancehub.LoginThrottle = (*DB)(nil)
)

// Readiness reports the database's schema version and the one this build
// expects (its newest embedded migration), reading the database, so that an
// unreachable one answers an error. After a write found no room, it writes
// first (roomToWrite), and answers ErrDiskFull while that finds none.
func (db *DB) Readiness(ctx context.Context) (current, expected int64, err error) {
	if db.full.Load() {
		if err := db.roomToWrite(ctx); err != nil {
			return 0, 0, err
		}
	}
	if err := db.queryRow(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current); err != nil {
		return 0, 0, fmt.Errorf("read the schema version: %w", err)
	}
	return current, latestMigration(db.d), nil
}

// roomProbe is the name of the lease roomToWrite writes and removes.
const roomProbe = "readiness: room to write"

// roomToWrite writes a page's worth into the database and removes it, in
// one transaction, which needs a new page and disk for the log at its
// commit, and so fails with ErrDiskFull while there is no room. It leaves
// nothing behind, and is tried only once a write found no room.
func (db *DB) roomToWrite(ctx context.Context) error {
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO leases (name, owner, until) VALUES (?, ?, 0)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner`, roomProbe, strings.Repeat("x", 8192)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE name = ?`, roomProbe)
		return err
	})
	if err == nil {
		db.full.Store(false)
	}
	return err
}
