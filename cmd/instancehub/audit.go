package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/instancehub/instancehub"
)

const auditUsage = "usage: instancehub audit archive --before YYYY-MM-DD --out FILE [--data D | --database URL]"

// auditArchiveCommand moves the audit log's events before a date into a
// new file of JSON lines, checked before they leave the log (the service's
// ArchiveAudit says how). On SQLite it takes the data directory's lock, as
// migrate-data does: while a portal serves it, its writers would wait on
// the removal's transaction, so an Owner archives from Settings instead.
// On PostgreSQL the replicas may run: the database orders the writes.
func auditArchiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var before, out string
	err := parse("audit archive", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&before, "before", "", "archive the events before this day, YYYY-MM-DD (UTC); the last 30 days stay (required)")
		f.fs.StringVar(&out, "out", "", "the new file to write them to, as JSON lines; an existing file is never overwritten (required)")
	})
	if err != nil {
		return err
	}
	if before == "" || out == "" {
		return usageError{errors.New(auditUsage)}
	}
	if c.Database == "" {
		if _, err := os.Stat(filepath.Join(c.Data, "instancehub.db")); err != nil {
			return fmt.Errorf("--data %s holds no portal database: %w", c.Data, err)
		}
		lock, err := lockData(c.Data)
		if err != nil {
			return fmt.Errorf("nothing was archived: %w. While that portal runs, an Owner archives from its Settings page", err)
		}
		defer lock.Release()
	}
	db, err := openStore(ctx, c, newLogger(stderr, c.LogLevel, c.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	service := &instancehub.Service{Audit: db}
	a, err := service.ArchiveAuditFromCLI(ctx, before, out)
	if err != nil {
		return fmt.Errorf("nothing was archived: %s", messageWithFields(err))
	}
	fmt.Fprintf(stdout, "Archived %d events, from %s to %s (before %s), into %s\nSHA-256 %s\nThe file was read back and checked; the events are no longer in the log.\n",
		a.Count, a.First.Format(time.DateTime), a.Last.Format(time.DateTime), a.Before.Format(time.DateOnly), a.File, a.Digest)
	return nil
}
