package store

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/pressly/goose/v3"
)

// start is when every test's clock starts.
var start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// testClock is a clock that moves only when told to.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTestDB opens a fresh database of the store under test (main_test.go)
// whose clock reads start.
func openTestDB(tb testing.TB) (*DB, *testClock) {
	tb.Helper()
	db := openStore(tb)
	clock := &testClock{now: start}
	db.Now = clock.Now
	return db, clock
}

// openSQLite opens a fresh SQLite database file.
func openSQLite(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "instancehub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// olderDatabase makes a SQLite file as a build whose newest migration was
// version left it, and returns its path and the file opened without the
// store, to fill in as that build would have.
func olderDatabase(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	fsys, _ := fs.Sub(migrations, "migrations")
	provider, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// wantCode fails the test unless err carries the error code want ("" for nil).
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := instancehub.ErrorCode(err); got != want {
		t.Fatalf("error %v: code %q, want %q", err, got, want)
	}
}

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	ctx := context.Background()
	// A directory that does not exist yet, with characters SQLite's URIs
	// treat specially.
	path := filepath.Join(t.TempDir(), "new dir", "a#b?c%d.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &instancehub.User{Email: "ada@example.com", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers after reopen = %d, %v; want 1", n, err)
	}
	var applied, version int
	err = db.db.QueryRowContext(ctx,
		`SELECT count(*), max(version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &version)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	// Branches number their migrations ahead of each other's, so the last
	// file's number, not the count, is the version.
	last, _ := strconv.Atoi(strings.SplitN(filepath.Base(files[len(files)-1]), "_", 2)[0])
	if applied != len(files) || version != last {
		t.Errorf("goose_db_version: %d rows up to version %d; want %d up to %d, once each", applied, version, len(files), last)
	}
}

func TestOpenSetsPragmasOnEveryConnection(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	// Hold three connections at once so the pool must open new ones.
	for i := range 3 {
		conn, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var foreignKeys, busyTimeout, synchronous, cacheSize int
		for _, p := range []struct {
			pragma string
			dest   any
		}{
			{"journal_mode", &mode}, {"foreign_keys", &foreignKeys},
			{"busy_timeout", &busyTimeout}, {"synchronous", &synchronous}, {"cache_size", &cacheSize},
		} {
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dest); err != nil {
				t.Fatal(err)
			}
		}
		if mode != "wal" || foreignKeys != 1 || busyTimeout != 5000 || synchronous != 1 || cacheSize != -512 {
			t.Errorf("connection %d: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d cache_size=%d",
				i, mode, foreignKeys, busyTimeout, synchronous, cacheSize)
		}
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	db, _ := openTestDB(t)
	err := db.CreateSession(context.Background(),
		&instancehub.Session{TokenHash: "h", UserID: 42, ExpiresAt: start.Add(time.Hour)})
	if err == nil {
		t.Fatal("a session of a user that does not exist was created")
	}
}

func TestOpenFails(t *testing.T) {
	// A file where the directory should be.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(context.Background(), filepath.Join(file, "instancehub.db")); err == nil {
		db.Close()
		t.Fatal("Open under a file succeeded")
	}
}

// TestUpgradeFromBeforeRoles opens a database made before roles existed:
// its first account becomes the Owner, the others have no role yet.
func TestUpgradeFromBeforeRoles(t *testing.T) {
	ctx := context.Background()
	path, raw := olderDatabase(t, 1)
	for i, email := range []string{"first@example.com", "second@example.com"} {
		if _, err := raw.ExecContext(ctx, `INSERT INTO users (email, name, created_at) VALUES (?, ?, ?)`, email, email, 1000+i); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, _ := db.FindUserByEmail(ctx, "first@example.com")
	second, _ := db.FindUserByEmail(ctx, "second@example.com")
	if roles, _ := db.UserRoles(ctx, first.ID); len(roles) != 1 || roles[0] != instancehub.RoleOwner {
		t.Errorf("first account's roles = %v, want Owner", roles)
	}
	if roles, _ := db.UserRoles(ctx, second.ID); len(roles) != 0 {
		t.Errorf("second account's roles = %v, want none", roles)
	}
}

// TestReadiness: a database just opened is at the newest embedded
// migration; one a step behind (an older build's) is not, and says so.
func TestReadiness(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	current, expected, err := db.Readiness(ctx)
	if err != nil || current != expected || expected < 16 {
		t.Fatalf("readiness = %d, %d, %v", current, expected, err)
	}
	if _, err := db.rawExec(ctx, `UPDATE goose_db_version SET is_applied = FALSE WHERE version_id = ?`, expected); err != nil {
		t.Fatal(err)
	}
	if current, _, _ := db.Readiness(ctx); current >= expected {
		t.Errorf("a migration behind reads as %d, the expected %d", current, expected)
	}
}
