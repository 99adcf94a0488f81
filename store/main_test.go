package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/instancehub/instancehub/internal/pgtest"
)

// The store's tests are its contract: they run against SQLite and then,
// the same tests in a second run of this test binary, against PostgreSQL
// (INSTANCEHUB_TEST_STORE=postgres), each test on a database of its own.
// Tests of what only one of them has (SQLite's files and pragmas) open that
// one by name and so run in both runs.
const storeEnv = "INSTANCEHUB_TEST_STORE"

func onPostgres() bool { return os.Getenv(storeEnv) == "postgres" }

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if !onPostgres() && code == 0 {
		fmt.Println("--- the same tests against PostgreSQL ---")
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), storeEnv+"=postgres")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "against PostgreSQL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// openStore opens a fresh database of the store under test.
func openStore(tb testing.TB) *DB {
	tb.Helper()
	if !onPostgres() {
		return openSQLite(tb)
	}
	db, err := OpenPostgres(context.Background(), pgtest.NewDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// rawExec and rawQueryRow run SQL written for SQLite with "?" placeholders
// on the store's own database, around its methods: to break a rule on
// purpose, or read what the methods do not show.
func (db *DB) rawExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.db.ExecContext(ctx, db.d.rebind(query), args...)
}

func (db *DB) rawQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.db.QueryRowContext(ctx, db.d.rebind(query), args...)
}
