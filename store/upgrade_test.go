package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/pressly/goose/v3"
)

// unopened is a database of the store under test (SQLite, or PostgreSQL in
// the second run) that the store has not opened: raw is the database
// itself, for SQL written as an older build would have, and open opens it
// with the store, as a new build starting on it does.
type unopened struct {
	raw  *sql.DB
	d    *dialect
	path string // SQLite's file
	open func() (*DB, error)
}

func newUnopened(t *testing.T) *unopened {
	t.Helper()
	ctx := context.Background()
	u := &unopened{d: sqliteDialect, path: filepath.Join(t.TempDir(), "instancehub.db")}
	driver, url, path := "sqlite", "", u.path
	if onPostgres() {
		u.d, driver, url = postgresDialect, "pgx", pgtest.NewDatabase(t)
	}
	var err error
	if u.d.postgres() {
		u.raw, err = sql.Open(driver, url)
		u.open = func() (*DB, error) { return OpenPostgres(ctx, url) }
	} else {
		u.raw, err = sql.Open(driver, dsn(path))
		u.open = func() (*DB, error) { return Open(ctx, path) }
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.raw.Close() })
	return u
}

// migrateTo applies the store's migrations up to version, as the build
// whose newest migration it was left the database.
func (u *unopened) migrateTo(t *testing.T, version int64) {
	t.Helper()
	fsys, _ := fs.Sub(migrations, u.d.migrations())
	gd := goose.DialectSQLite3
	if u.d.postgres() {
		gd = goose.DialectPostgres
	}
	provider, err := goose.NewProvider(gd, u.raw, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
}

// versions are the numbers of the store's migrations under test, in order.
func versions(d *dialect) []int64 {
	entries, _ := fs.ReadDir(migrations, d.migrations())
	var out []int64
	for _, e := range entries {
		if n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// TestANewerSchemaIsRefused: a database a newer build upgraded (here, one
// migration further than this build knows) is refused, naming both
// versions and the way back, and nothing is written to it; one at this
// build's version opens as ever.
func TestANewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	u := newUnopened(t)
	db, err := u.open()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &instancehub.User{Email: "ada@example.com", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	known := latestMigration(u.d)
	newer := known + 1
	if _, err := u.raw.ExecContext(ctx, u.d.rebind(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, TRUE)`), newer); err != nil {
		t.Fatal(err)
	}
	before := rowCount(t, u.raw, "goose_db_version")

	db, err = u.open()
	if err == nil {
		db.Close()
		t.Fatal("a database of a newer schema was opened")
	}
	for _, want := range []string{
		fmt.Sprintf("schema is version %d", newer), fmt.Sprintf("this build of instancehub knows (%d)", known),
		"restoring the backup taken before the upgrade", "instancehub restore",
	} {
		if !strings.Contains(instancehub.ErrorMessage(err), want) {
			t.Errorf("refusal %q does not say %q", instancehub.ErrorMessage(err), want)
		}
	}
	if after := rowCount(t, u.raw, "goose_db_version"); after != before {
		t.Errorf("the refused open wrote %d migration rows", after-before)
	}
	if !onPostgres() {
		s, err := ReadSchema(ctx, u.path)
		if err != nil || s.Current != newer || s.Known != known || !s.Newer() || s.Pending() {
			t.Errorf("ReadSchema = %+v, %v; want %d of %d, newer", s, err, newer, known)
		}
	}

	if _, err := u.raw.ExecContext(ctx, u.d.rebind(`DELETE FROM goose_db_version WHERE version_id = ?`), newer); err != nil {
		t.Fatal(err)
	}
	db, err = u.open()
	if err != nil {
		t.Fatalf("this build's own schema: %v", err)
	}
	defer db.Close()
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("users after reopening = %d, %v", n, err)
	}
}

func rowCount(t *testing.T, raw *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUpgradeFromEveryVersion opens, with this build's store, a database
// left at each schema version an older build had (every migration of the
// store under test: 1 to the newest on SQLite, 16 on PostgreSQL, whose
// first migration is SQLite's first 16), with a row in every table that
// version has. Every row is still there after the upgrade, with the values
// of every column it had, and the store reads each kind of record and
// writes new ones.
func TestUpgradeFromEveryVersion(t *testing.T) {
	all := versions(sqliteDialect)
	if onPostgres() {
		all = versions(postgresDialect)
	}
	for _, v := range all[:len(all)-1] {
		t.Run(strconv.FormatInt(v, 10), func(t *testing.T) {
			ctx := context.Background()
			u := newUnopened(t)
			u.migrateTo(t, v)
			filled := fillEveryTable(t, u)
			before := snapshot(t, u, filled)

			db, err := u.open()
			if err != nil {
				t.Fatalf("open a database at version %d: %v", v, err)
			}
			defer db.Close()
			if current, expected, err := db.Readiness(ctx); err != nil || current != expected {
				t.Fatalf("after the upgrade: schema %d, want %d (%v)", current, expected, err)
			}
			after := snapshot(t, u, filled)
			for table, rows := range before {
				for key, row := range rows {
					got, ok := after[table][key]
					if !ok {
						t.Errorf("%s: the row %s was lost", table, key)
						continue
					}
					for col, want := range row {
						if !reflect.DeepEqual(got[col], want) {
							t.Errorf("%s %s: %s = %v, was %v", table, key, col, got[col], want)
						}
					}
				}
			}
			readEverything(t, db, filled)
		})
	}
}

// column is what filling a table needs to know of one of its columns.
type column struct {
	name, typ  string
	hasDefault bool
	autoID     bool   // the database numbers it (SQLite's rowid, PostgreSQL's identity)
	references string // "table.column" of a foreign key
	primaryKey bool
}

// tables lists the database's tables with their columns, leaving out
// goose's own.
func (u *unopened) tables(t *testing.T) map[string][]column {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`
	if u.d.postgres() {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`
	}
	names := queryStrings(t, u.raw, q)
	out := map[string][]column{}
	for _, table := range names {
		if u.d.postgres() {
			out[table] = postgresColumns(t, u.raw, table)
		} else {
			out[table] = sqliteColumns(t, u.raw, table)
		}
	}
	return out
}

func queryStrings(t *testing.T, raw *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := raw.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sqliteColumns(t *testing.T, raw *sql.DB, table string) []column {
	t.Helper()
	refs := map[string]string{}
	rows, err := raw.Query(`SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var from, parent, to string
		if err := rows.Scan(&from, &parent, &to); err != nil {
			t.Fatal(err)
		}
		refs[from] = parent + "." + to
	}
	rows.Close()
	rows, err = raw.Query(`SELECT name, type, dflt_value IS NOT NULL, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []column
	pks := 0
	for rows.Next() {
		var c column
		var pk int
		if err := rows.Scan(&c.name, &c.typ, &c.hasDefault, &pk); err != nil {
			t.Fatal(err)
		}
		c.typ, c.references, c.primaryKey = strings.ToUpper(c.typ), refs[c.name], pk > 0
		if pk > 0 {
			pks++
		}
		cols = append(cols, c)
	}
	for i := range cols {
		// An INTEGER PRIMARY KEY alone is the rowid, which SQLite numbers.
		cols[i].autoID = pks == 1 && cols[i].primaryKey && cols[i].typ == "INTEGER"
	}
	return cols
}

func postgresColumns(t *testing.T, raw *sql.DB, table string) []column {
	t.Helper()
	refs := map[string]string{}
	rows, err := raw.Query(`
		SELECT a.attname, cf.relname, af.attname
		FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid
		JOIN pg_class cf ON cf.oid = c.confrelid
		JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum) ON TRUE
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
		JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = k.fattnum
		WHERE c.contype = 'f' AND cl.relname = $1 AND cl.relnamespace = current_schema()::regnamespace`, table)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var from, parent, to string
		if err := rows.Scan(&from, &parent, &to); err != nil {
			t.Fatal(err)
		}
		refs[from] = parent + "." + to
	}
	rows.Close()
	pks := queryStrings(t, raw, `
		SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = (current_schema() || '.' || $1)::regclass AND i.indisprimary`, table)
	rows, err = raw.Query(`
		SELECT column_name, udt_name, column_default IS NOT NULL, is_identity = 'YES'
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
		ORDER BY ordinal_position`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.hasDefault, &c.autoID); err != nil {
			t.Fatal(err)
		}
		c.typ, c.references, c.primaryKey = strings.ToUpper(c.typ), refs[c.name], slices.Contains(pks, c.name)
		cols = append(cols, c)
	}
	return cols
}

// realistic are values a build would have written where any value of the
// column's type would not do: those the schema checks, and those the
// store reads as more than text.
var realistic = map[string]any{
	"instances.state":                     "Stopped",
	"operations.kind":                     "Start",
	"operations.status":                   "Succeeded",
	"operations.triggered_by":             "user",
	"schedules.action":                    "Start",
	"schedules.kind":                      "Cron",
	"schedules.cron":                      "0 8 * * 1-5",
	"schedules.time_zone":                 "UTC",
	"schedule_firings.result":             "started",
	"role_assignments.role":               "Owner",
	"audit_events.result":                 "succeeded",
	"workspace_settings.id":               int64(1),
	"workspace_settings.idle_shutdown_on": true,
	"users.email":                         "ada@example.com",
	"login_failures.email":                "ada@example.com",
	"setup_runs.exit_code":                int64(1), // PostgreSQL's INTEGER holds no time
	"quota_requests.vcpus":                int64(8), // likewise
}

// filledRow is the row fillEveryTable put in a table: its key columns'
// values, to find it again.
type filledRow map[string]any

// fillEveryTable puts one row in every table that has none, parents before
// the rows that reference them, and returns each table's row as its key
// values. A column with a default takes it, as a build that did not know
// the column yet would have left it; a column the database numbers is
// numbered by it.
func fillEveryTable(t *testing.T, u *unopened) map[string]filledRow {
	t.Helper()
	ctx := context.Background()
	tables := u.tables(t)
	filled := map[string]filledRow{}
	for len(filled) < len(tables) {
		progress := false
		for table, cols := range tables {
			if filled[table] != nil || !parentsFilled(table, cols, filled) {
				continue
			}
			progress = true
			if rowCount(t, u.raw, table) > 0 { // seeded by a migration
				filled[table] = filledRow{}
				continue
			}
			var names, marks []string
			var args []any
			var auto string
			row := filledRow{}
			for i, c := range cols {
				if c.autoID {
					auto = c.name
					continue
				}
				v, ok := valueFor(table, c, i, filled)
				if !ok {
					continue
				}
				names, marks, args = append(names, c.name), append(marks, "?"), append(args, v)
				if c.primaryKey {
					row[c.name] = v
				}
			}
			q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(names, ", "), strings.Join(marks, ", "))
			if auto != "" {
				var id int64
				if err := u.raw.QueryRowContext(ctx, u.d.rebind(q+" RETURNING "+auto), args...).Scan(&id); err != nil {
					t.Fatalf("fill %s: %v", table, err)
				}
				row[auto] = id
			} else if _, err := u.raw.ExecContext(ctx, u.d.rebind(q), args...); err != nil {
				t.Fatalf("fill %s: %v", table, err)
			}
			filled[table] = row
		}
		if !progress {
			t.Fatalf("tables reference one another in a cycle: filled %d of %d", len(filled), len(tables))
		}
	}
	return filled
}

func parentsFilled(table string, cols []column, filled map[string]filledRow) bool {
	for _, c := range cols {
		if parent, _, ok := strings.Cut(c.references, "."); ok && parent != table && filled[parent] == nil {
			return false
		}
	}
	return true
}

// valueFor is the value a column gets, or false to leave it to its default.
func valueFor(table string, c column, i int, filled map[string]filledRow) (any, bool) {
	if v, ok := realistic[table+"."+c.name]; ok {
		return v, true
	}
	if parent, col, ok := strings.Cut(c.references, "."); ok {
		return filled[parent][col], true
	}
	if c.hasDefault && !c.primaryKey {
		return nil, false
	}
	switch {
	case strings.Contains(c.typ, "INT"):
		return int64(1_700_000_000_000 + i), true
	case c.typ == "REAL" || strings.Contains(c.typ, "FLOAT"):
		return 2.5, true
	case c.typ == "BOOL":
		return true, true
	case c.typ == "BLOB" || c.typ == "BYTEA":
		return []byte(table + "." + c.name), true
	default:
		return table + "." + c.name, true
	}
}

// snapshot reads every row of the filled tables, by key: each row as its
// columns' values. PostgreSQL's data_version is left out, its count moving
// with every write by design.
func snapshot(t *testing.T, u *unopened, filled map[string]filledRow) map[string]map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]map[string]any{}
	for table := range filled {
		if table == "data_version" {
			continue
		}
		cols := u.tables(t)[table]
		// Its columns by name: PostgreSQL's driver keeps each query's plan,
		// which a SELECT * of a table a migration changed would outlive.
		var list []string
		for _, c := range cols {
			list = append(list, c.name)
		}
		rows, err := u.raw.Query("SELECT " + strings.Join(list, ", ") + " FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		names, _ := rows.Columns()
		out[table] = map[string]map[string]any{}
		for rows.Next() {
			vals := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := map[string]any{}
			var key []string
			for i, n := range names {
				if b, ok := vals[i].([]byte); ok {
					vals[i] = string(b)
				}
				row[n] = vals[i]
				if slices.ContainsFunc(cols, func(c column) bool { return c.name == n && c.primaryKey }) {
					key = append(key, fmt.Sprintf("%s=%v", n, vals[i]))
				}
			}
			if len(key) == 0 {
				key = append(key, fmt.Sprint(vals...))
			}
			out[table][strings.Join(key, ",")] = row
		}
		rows.Close()
	}
	return out
}

// readEverything reads each kind of record through the store, and writes
// new ones beside them: what a portal does at its first page after an
// upgrade.
func readEverything(t *testing.T, db *DB, filled map[string]filledRow) {
	t.Helper()
	ctx := context.Background()
	id := func(table string) int64 { v, _ := filled[table]["id"].(int64); return v }
	user, err := db.FindUserByID(ctx, id("users"))
	if err != nil {
		t.Fatalf("read the user: %v", err)
	}
	inst, err := db.FindInstanceByID(ctx, id("instances"))
	if err != nil {
		t.Fatalf("read the instance: %v", err)
	}
	if inst.OwnerID != user.ID || inst.State != instancehub.StateStopped {
		t.Errorf("the instance read back as %+v", inst)
	}
	if _, _, err := db.FindInstances(ctx, instancehub.InstanceFilter{Limit: 50}); err != nil {
		t.Errorf("list instances: %v", err)
	}
	// The search's text index (00027) holds the instances there were.
	if found, n, err := db.FindInstances(ctx, instancehub.InstanceFilter{Search: "CES.NA", Limit: 50}); err != nil || n != 1 || len(found) != 1 || found[0].ID != inst.ID {
		t.Errorf("search for the instance %q: %d found, total %d, %v", inst.Name, len(found), n, err)
	}
	if ops, err := db.FindOperations(ctx, inst.ID, 20); err != nil || len(ops) != 1 {
		t.Errorf("operations: %d, %v", len(ops), err)
	}
	if _, ok := filled["schedules"]; ok {
		if s, err := db.FindSchedules(ctx, inst.ID); err != nil || len(s) != 1 {
			t.Errorf("schedules: %d, %v", len(s), err)
		}
	}
	if _, ok := filled["audit_events"]; ok {
		if events, _, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{Limit: 10}); err != nil || len(events) == 0 {
			t.Errorf("audit events: %d, %v", len(events), err)
		}
	}
	if _, err := db.FindRoleAssignments(ctx, instancehub.RoleOwner); err != nil {
		t.Errorf("role assignments: %v", err)
	}
	if _, err := db.FindTokens(ctx, user.ID, time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Errorf("tokens: %v", err)
	}
	if _, err := db.AuditArchives(ctx); err != nil {
		t.Errorf("audit archives: %v", err)
	}
	if _, err := db.WorkspaceSettings(ctx); err != nil {
		t.Errorf("workspace settings: %v", err)
	}
	grace := &instancehub.User{Email: "grace@example.com", Name: "Grace"}
	if err := db.CreateUser(ctx, grace); err != nil {
		t.Fatalf("a new user after the upgrade: %v", err)
	}
	if err := db.RecordAudit(ctx, &instancehub.AuditEvent{At: time.UnixMilli(1_700_000_000_000), Action: "test.upgrade", Result: instancehub.AuditSucceeded}); err != nil {
		t.Errorf("an audit event after the upgrade: %v", err)
	}
}
