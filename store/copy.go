package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/instancehub/instancehub"
)

// copyTables are the portal's tables in an order that inserts no row before
// the rows it references; migrate-data copies them in this order. A table a
// migration adds joins this list (a test fails until it does). The leases
// of named jobs and the spent application tickets are not copied: they
// belong to the portals of the source, and last seconds.
var copyTables = []string{
	"users", "sessions", "instances", "operations", "setup_runs", "role_assignments", "audit_events", "audit_archives",
	"login_failures", "workspace_quotas", "schedules", "schedule_firings", "workspace_settings",
	"user_notices", "password_links", "api_tokens", "running_intervals", "portal_keys", "quota_requests",
}

// notCopied are the tables that are not the portal's records: the
// migrations' own, and what each store keeps for itself (quota_held, which
// the target's triggers fill as its instances are copied, and SQLite's text
// index of the instances' names, 00027, filled by its triggers too).
var notCopied = []string{"goose_db_version", "data_version", "leases", "spent_tickets", "quota_held",
	"instances_search", "instances_search_config", "instances_search_data", "instances_search_docsize", "instances_search_idx"}

// TableCount is how many rows one table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyTo copies every record of db into to, which must be empty (a new
// database, migrated by opening it) and at the same schema version, and
// returns how many rows of each table it copied. It reads db in one
// transaction, so the copy is of one moment even if db is written to, and
// writes to in one transaction under the write lock, which it commits only
// once each table holds as many rows as were read: to ends with all of the
// records or none of them. Operations in progress are left without a
// lease, so that the first portal on to takes them over at once.
func (db *DB) CopyTo(ctx context.Context, to *DB) ([]TableCount, error) {
	if from, target := db.schemaVersion(ctx), to.schemaVersion(ctx); from != target {
		return nil, instancehub.Errorf(instancehub.ECONFLICT,
			"the source is at schema version %d and the target at %d: run the same build on both", from, target)
	}
	src, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	defer src.Rollback()
	var counts []TableCount
	err = to.inTx(ctx, func(dst *Tx) error {
		if full, err := nonEmpty(ctx, dst); err != nil {
			return err
		} else if len(full) > 0 {
			return instancehub.Errorf(instancehub.ECONFLICT,
				"the target database is not empty (%s hold rows): migrate-data writes only into a new database", strings.Join(full, ", "))
		}
		for _, table := range copyTables {
			if table == "running_intervals" {
				// Inserting the instances opened intervals by trigger for
				// those running; the source's own replace them.
				if _, err := dst.ExecContext(ctx, `DELETE FROM running_intervals`); err != nil {
					return fmt.Errorf("copy %s: %w", table, err)
				}
			}
			n, err := copyTable(ctx, src, dst, to.d, table)
			if err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
			var got int64
			if err := dst.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&got); err != nil {
				return fmt.Errorf("count %s: %w", table, err)
			}
			if got != n {
				return fmt.Errorf("copy %s: read %d rows, the target holds %d", table, n, got)
			}
			counts = append(counts, TableCount{table, n})
		}
		if to.d.postgres() {
			return resetIdentities(ctx, dst)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// schemaVersion is the migrations' version, or -1 when unreadable.
func (db *DB) schemaVersion(ctx context.Context) int64 {
	v, _, err := db.Readiness(ctx)
	if err != nil {
		return -1
	}
	return v
}

// nonEmpty names the tables of the portal that hold a row.
func nonEmpty(ctx context.Context, tx *Tx) ([]string, error) {
	var full []string
	for _, table := range append(slices.Clone(copyTables), "leases") {
		var any bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&any); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		if any {
			full = append(full, table)
		}
	}
	return full, nil
}

// copyBatch bounds the rows of one INSERT (and so its parameters, which
// PostgreSQL caps at 65,535).
const copyBatch = 500

// copyTable copies table's rows from src to dst, in batches, converting
// each value to the type of its column in dst, and returns how many it
// read.
func copyTable(ctx context.Context, src *sql.Tx, dst *Tx, d *dialect, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	types, err := columnTypes(ctx, dst, d, table)
	if err != nil {
		return 0, err
	}
	if len(types) != len(columns) {
		return 0, fmt.Errorf("the source has columns %v, the target %d", columns, len(types))
	}
	for _, c := range columns {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("the target has no column %s", c)
		}
	}
	insert := `INSERT INTO ` + table + ` (` + strings.Join(columns, ", ") + `) VALUES `
	row := "(" + placeholders(len(columns)) + ")"
	var (
		n     int64
		batch []any
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		k := len(batch) / len(columns)
		_, err := dst.ExecContext(ctx, insert+strings.TrimSuffix(strings.Repeat(row+", ", k), ", "), batch...)
		batch = batch[:0]
		return err
	}
	values := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range columns {
			v, err := convert(values[i], types[c])
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c, err)
			}
			if table == "operations" && (c == "lease_owner" || c == "lease_until") {
				v = leaseless(c)
			}
			batch = append(batch, v)
		}
		n++
		if n%copyBatch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// leaseless is an operation's lease column as no portal holds it.
func leaseless(column string) any {
	if column == "lease_owner" {
		return ""
	}
	return int64(0)
}

// columnTypes maps each column of table in the target to its kind:
// "boolean", "bytes", "text" or "number".
func columnTypes(ctx context.Context, tx *Tx, d *dialect, table string) (map[string]string, error) {
	query := `SELECT name, type FROM pragma_table_info(?)`
	if d.postgres() {
		query = `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`
	}
	rows, err := tx.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		switch typ = strings.ToLower(typ); {
		case typ == "boolean":
			types[name] = "boolean"
		case typ == "bytea" || typ == "blob":
			types[name] = "bytes"
		case typ == "text" || typ == "user-defined" || strings.Contains(typ, "char"):
			types[name] = "text" // citext is user-defined
		default:
			types[name] = "number"
		}
	}
	return types, rows.Err()
}

// convert makes v, as the source's driver read it, a value of kind for the
// target: SQLite keeps booleans as 0 and 1, and may return text as bytes.
func convert(v any, kind string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
	case "bytes":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	default:
		switch x := v.(type) {
		case int64, float64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	}
	return nil, fmt.Errorf("a %T where the target keeps %s", v, kind)
}

// resetIdentities moves each identity column's sequence past the largest
// ID copied, so that the next row made gets a new one.
func resetIdentities(ctx context.Context, tx *Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	var identities [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		identities = append(identities, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range identities {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(
			`SELECT setval(pg_get_serial_sequence('%[1]s', '%[2]s'), max(%[2]s)) FROM %[1]s HAVING max(%[2]s) IS NOT NULL`,
			id[0], id[1])); err != nil {
			return fmt.Errorf("reset the IDs of %s: %w", id[0], err)
		}
	}
	return nil
}

// tables names the tables of the database, but for those of the
// migrations and each store's own bookkeeping: the tables CopyTo copies.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.d.postgres() {
		query = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if !slices.Contains(notCopied, t) {
			tables = append(tables, t)
		}
	}
	slices.Sort(tables)
	return tables, rows.Err()
}
