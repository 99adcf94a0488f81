package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
)

// Schema is a database's schema version beside the newest this build
// knows. A version is the number of a migration (00021_….sql is 21).
type Schema struct {
	Current int64 // the newest migration applied; 0 for a new database
	Known   int64 // the newest migration this build embeds
}

// Newer reports whether a newer build upgraded the database past what this
// build knows: this build must not touch it.
func (s Schema) Newer() bool { return s.Current > s.Known }

// Pending reports whether opening the database migrates records kept by an
// older build (a new, empty database has none to lose).
func (s Schema) Pending() bool { return s.Current > 0 && s.Current < s.Known }

// KnownSchema is the newest schema version this build knows, on SQLite.
func KnownSchema() int64 { return latestMigration(sqliteDialect) }

// ReadSchema reads the schema version of the SQLite database at path and
// changes nothing in it: neither migrates it nor creates it. A file that
// does not exist, or is empty, reads as version 0.
func ReadSchema(ctx context.Context, path string) (Schema, error) {
	known := Schema{Known: latestMigration(sqliteDialect)}
	if fi, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return known, nil
	} else if err != nil {
		return known, fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return known, fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	defer db.Close()
	known.Current, err = schemaVersion(ctx, db, sqliteDialect)
	if err != nil {
		return known, fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	return known, nil
}

// ReadPostgresSchema reads the schema version of the PostgreSQL database at
// url, changing nothing.
func ReadPostgresSchema(ctx context.Context, url string) (Schema, error) {
	known := Schema{Known: latestMigration(postgresDialect)}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return known, fmt.Errorf("read the schema version: %w", err)
	}
	defer db.Close()
	known.Current, err = schemaVersion(ctx, db, postgresDialect)
	if err != nil {
		return known, fmt.Errorf("read the schema version: %w", err)
	}
	return known, nil
}

// schemaVersion is the newest migration applied to db, 0 when goose has
// applied none (its table does not exist yet).
func schemaVersion(ctx context.Context, db *sql.DB, d *dialect) (int64, error) {
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`
	if d.postgres() {
		exists = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'goose_db_version'`
	}
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	var v int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// refuseNewer refuses a database a newer build has upgraded: this build
// would read and write tables it does not know as if they were its own,
// and a newer build coming back would find them changed under it.
func refuseNewer(ctx context.Context, db *sql.DB, d *dialect) error {
	current, err := schemaVersion(ctx, db, d)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if s := (Schema{Current: current, Known: latestMigration(d)}); s.Newer() {
		return SchemaNewerError(s)
	}
	return nil
}

// SchemaNewerError is the refusal of a database whose schema is newer than
// this build knows. It names both versions and the way back.
func SchemaNewerError(s Schema) *instancehub.Error {
	return instancehub.Errorf(instancehub.ECONFLICT,
		"The database's schema is version %d, newer than this build of instancehub knows (%d): a newer build upgraded it, "+
			"and this one would misread it. Run the newer build again, or go back by restoring the backup taken before the upgrade "+
			"(instancehub restore --from FILE --data DIR, with the portal stopped).", s.Current, s.Known)
}

// latestMigration is the number of the newest migration embedded for d.
func latestMigration(d *dialect) int64 {
	entries, _ := fs.ReadDir(migrations, d.migrations())
	var latest int64
	for _, e := range entries {
		if n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64); err == nil && n > latest {
			latest = n
		}
	}
	return latest
}

// AppendAudit adds one event to the audit log of the SQLite database at
// path without opening it as the store does, which would migrate it: a
// restored backup stays at its schema, for the build it was taken for.
// The columns it writes have had their meaning since the log began
// (schema 2).
func AppendAudit(ctx context.Context, path string, e *instancehub.AuditEvent) error {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO audit_events (at, user_id, user_name, user_email, action, target, result, reason, source_ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(e.At), nullID(e.UserID), e.UserName, e.UserEmail, e.Action, e.Target, e.Result, e.Reason, e.SourceIP)
	if err != nil {
		return fmt.Errorf("record the audit event: %w", err)
	}
	return db.Close()
}
