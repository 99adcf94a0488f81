package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the two databases the store keeps its
// data in. The store's SQL is written once where both accept it: "?"
// placeholders (numbered "$1" on PostgreSQL), RETURNING, ON CONFLICT,
// partial indexes, case-insensitive names (SQLite's NOCASE columns,
// PostgreSQL's citext). Where they differ, a query takes its words from
// here, and each store has its own migrations.
type dialect struct {
	// like matches case-insensitively, as SQLite's LIKE does for ASCII.
	like string
	// least and greatest are the scalar minimum and maximum.
	least, greatest string
	// lastChars is the expression of the last n characters of s.
	lastChars func(s, n string) string
	// instanceName is the instances' name as the list's search compares
	// it: on PostgreSQL as text, which the trigram index of 00027 holds.
	instanceName string
}

var (
	sqliteDialect = &dialect{like: "LIKE", least: "MIN", greatest: "MAX",
		lastChars:    func(s, n string) string { return "substr(" + s + ", -(" + n + "))" },
		instanceName: "i.name"}
	postgresDialect = &dialect{like: "ILIKE", least: "LEAST", greatest: "GREATEST",
		lastChars:    func(s, n string) string { return "right(" + s + ", " + n + ")" },
		instanceName: "i.name::text"}
)

func (d *dialect) postgres() bool { return d == postgresDialect }

// rebind writes the "?" and "?N" placeholders of query as PostgreSQL's
// "$N", leaving string literals alone. SQLite takes the query as it is.
func (d *dialect) rebind(query string) string {
	if !d.postgres() || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isUnique reports whether err is the violation of a UNIQUE index (on
// PostgreSQL, of a primary key too).
func isUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return isPostgresUnique(err)
}

// isDuplicateKey reports whether err is the violation of a primary key.
func isDuplicateKey(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return isPostgresUnique(err)
}

// isDiskFull reports whether err says there was no room to write: SQLite's
// SQLITE_FULL (a disk full, or the database at its max_page_count),
// PostgreSQL's disk_full.
func isDiskFull(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()&0xff == sqlite3.SQLITE_FULL
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53100"
}

func isPostgresUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Tx is a write transaction: the store's SQL, placed for its database.
type Tx struct {
	tx *sql.Tx
	d  *dialect
}

func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(query), args...)
}

func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(query), args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(query), args...)
}

// noLimit is a LIMIT that keeps every row, on both databases (SQLite's -1
// is an error on PostgreSQL).
const noLimit = math.MaxInt32
