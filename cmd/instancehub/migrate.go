package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/store"
)

// migrateDataCommand copies a portal's records from its SQLite file into a
// new PostgreSQL database, for a team moving to several replicas. The
// portal on that file must be stopped, so that nothing it writes after the
// copy is lost: the command takes the data directory's lock as serve does.
// The target must be empty; the copy is one transaction, committed only
// once every table holds as many rows as were read.
func migrateDataCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, to string
	err := parse("migrate-data", args, stderr, func(f *flags) {
		f.string(&from, "from", "", "the SQLite database to copy: sqlite:PATH, PATH its file or the portal's data directory")
		f.secret(&to, "to", "the new PostgreSQL database: postgres://user:password@host/db (prefer the environment variable)")
	})
	if err != nil {
		return err
	}
	path, ok := strings.CutPrefix(from, "sqlite:")
	if !ok || path == "" || to == "" {
		return usageError{errors.New("usage: instancehub migrate-data --from sqlite:PATH --to postgres://…")}
	}
	shown, err := postgresURL(to)
	if err != nil {
		return usageError{fmt.Errorf("--to: %w", err)}
	}
	if fi, err := os.Stat(path); err != nil {
		return fmt.Errorf("--from: %w", err)
	} else if fi.IsDir() {
		path = filepath.Join(path, "instancehub.db")
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("--from: the directory holds no portal database: %w", err)
		}
	}
	lock, err := lockData(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer lock.Release()
	if filepath.Base(path) == "instancehub.db" { // a data directory's, which an upgrade backs up first
		if err := guardUpgrade(ctx, Config{Data: filepath.Dir(path)}, newLogger(stderr, "info", "text")); err != nil {
			return err
		}
	}
	src, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.OpenPostgres(ctx, to)
	if err != nil {
		return fmt.Errorf("%s: %w", shown, err)
	}
	defer dst.Close()
	started := time.Now()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		return fmt.Errorf("nothing was copied: %s", instancehub.ErrorMessage(err))
	}
	schema, _, _ := dst.Readiness(ctx)
	fmt.Fprintf(stdout, "Copied %s into %s (schema %d) in %s:\n", path, shown, schema, time.Since(started).Round(time.Millisecond))
	var total int64
	for _, c := range counts {
		fmt.Fprintf(stdout, "  %-20s %8d\n", c.Table, c.Rows)
		total += c.Rows
	}
	fmt.Fprintf(stdout, "  %-20s %8d, each table as many as were read\n", "rows", total)
	fmt.Fprintln(stdout, "Serve with --database (INSTANCEHUB_DATABASE) set to the new database. The emulator's cloud stays in the data directory: serve it with instancehub emulator --data for the portals to share.")
	if err := dst.RecordAudit(ctx, &instancehub.AuditEvent{At: time.Now(), Action: "data.migrate",
		Target: path + " (command line)", Result: instancehub.AuditSucceeded}); err != nil {
		fmt.Fprintln(stderr, "instancehub: the copy is whole, but its audit event was not recorded:", err)
	}
	return nil
}
