package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/backup"
	"github.com/instancehub/instancehub/store"
)

const (
	backupUsage  = "usage: instancehub backup --out FILE [--data D | --database URL]"
	restoreUsage = "usage: instancehub restore --from FILE --data D"
	// keepBeforeUpgrade is how many of the backups taken before an upgrade
	// are kept.
	keepBeforeUpgrade = 3
)

// backupCommand writes a backup of the portal's records while it serves:
// on SQLite a checked, compressed copy of the data directory's databases
// (package backup); on PostgreSQL, whose copies its own pg_dump makes, a
// pg_dump archive when pg_dump is installed.
func backupCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var out string
	err := parse("backup", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&out, "out", "", "the new file to write the backup to (.tar.gz; a pg_dump archive on PostgreSQL); never overwritten (required)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return usageError{errors.New(backupUsage)}
	}
	started := time.Now()
	if c.Database != "" {
		shown, err := postgresURL(c.Database)
		if err != nil {
			return usageError{fmt.Errorf("--database: %w", err)}
		}
		if err := pgDump(ctx, c.Database, out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Dumped %s into %s with pg_dump in %s. Restore it into a new, empty database with pg_restore --dbname URL %s.\n",
			shown, out, time.Since(started).Round(time.Millisecond), out)
		return nil
	}
	m, err := backup.Take(ctx, c.Data, out, time.Now())
	if err != nil {
		return fmt.Errorf("nothing was backed up: %w", err)
	}
	fmt.Fprintf(stdout, "Backed up %s into %s in %s:\n", c.Data, out, time.Since(started).Round(time.Millisecond))
	printFiles(stdout, m)
	fmt.Fprintln(stdout, "Each was read in one transaction, passed SQLite's integrity check, and was read back from the file.")
	return nil
}

func printFiles(w io.Writer, m *backup.Manifest) {
	for _, f := range m.Files {
		fmt.Fprintf(w, "  %-15s schema %2d  %10d bytes  SHA-256 %s\n", f.Name, f.Version, f.Size, f.SHA256)
	}
}

// restoreCommand puts a backup's databases into a data directory that no
// portal serves (it takes the directory's lock, as serve does). It never
// migrates what it restores: the backup taken before an upgrade goes back
// to the older build as it was.
func restoreCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var from string
	err := parse("restore", args, stderr, func(f *flags) {
		c.bindDatabase(f)
		f.fs.StringVar(&from, "from", "", "the backup to restore, written by instancehub backup (required)")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return usageError{errors.New(restoreUsage)}
	}
	if c.Database != "" {
		return usageError{errors.New("restore puts back a SQLite data directory; on PostgreSQL, restore the pg_dump archive " +
			"into a new, empty database with pg_restore --dbname URL FILE, and give the portals that database")}
	}
	lock, err := lockData(c.Data)
	if err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	defer lock.Release()
	now := time.Now()
	r, err := backup.Restore(ctx, from, c.Data, func(name, path string) error {
		if name != backup.Database {
			return nil
		}
		s, err := store.ReadSchema(ctx, path)
		if err != nil {
			return err
		}
		if s.Newer() {
			return fmt.Errorf("the backup's database is at schema %d, newer than this build knows (%d): restore it with the build that made it", s.Current, s.Known)
		}
		return nil
	}, now)
	if err != nil {
		return fmt.Errorf("nothing was restored: %w", err)
	}
	fmt.Fprintf(stdout, "Restored the backup of %s from %s into %s:\n", r.Manifest.Made.Format(time.RFC3339), from, c.Data)
	printFiles(stdout, r.Manifest)
	if r.Replaced != "" {
		fmt.Fprintf(stdout, "The database the directory held was moved to %s.\n", r.Replaced)
	}
	switch r.Emulator {
	case "kept":
		fmt.Fprintln(stdout, "The emulator's cloud in the directory was kept, as Azure would be: a restore does not turn it back.")
	case "restored":
		fmt.Fprintln(stdout, "The emulator's cloud was restored too: the directory had none.")
	}
	fmt.Fprintln(stdout, "Start the portal: at its first sync it adopts the VMs made since the backup, and shows those deleted since as Missing.")
	event := &instancehub.AuditEvent{At: now, Action: "data.restore", Result: instancehub.AuditSucceeded,
		Target: fmt.Sprintf("%s, made %s (command line)", from, r.Manifest.Made.Format(time.RFC3339))}
	if err := store.AppendAudit(ctx, filepath.Join(c.Data, backup.Database), event); err != nil {
		fmt.Fprintln(stderr, "instancehub: the restore is whole, but its audit event was not recorded:", err)
	}
	return nil
}

// guardUpgrade runs before the portal's database is opened, which
// migrates it. It refuses a database a newer build upgraded, naming the
// backup that goes back; before migrating an older one, it takes a backup
// (backups/before-<version>), says so, and keeps the last few.
func guardUpgrade(ctx context.Context, c Config, log *slog.Logger) error {
	dir := c.backupDir()
	if c.Database != "" {
		s, err := store.ReadPostgresSchema(ctx, c.Database)
		if err != nil {
			return err
		}
		switch {
		case s.Newer():
			return fmt.Errorf("%s On PostgreSQL the backup is the dump the upgrading replica took where pg_dump was installed: "+
				"before-%05d.dump in its backups directory (%s here), to restore with pg_restore into a new, empty database",
				instancehub.ErrorMessage(store.SchemaNewerError(s)), s.Current, dir)
		case !s.Pending():
			return nil
		}
		out := filepath.Join(dir, fmt.Sprintf("before-%05d.dump", s.Known))
		if _, err := exec.LookPath("pg_dump"); err != nil {
			log.Warn("no backup before upgrading the database's schema: pg_dump is not installed; take one before starting this build",
				"from", s.Current, "to", s.Known)
			return nil
		}
		return beforeUpgrade(dir, out, s, log, func() error { return pgDump(ctx, c.Database, out) })
	}
	path := filepath.Join(c.Data, backup.Database)
	s, err := store.ReadSchema(ctx, path)
	if err != nil {
		return err
	}
	switch {
	case s.Newer():
		return newerSchema(s, dir, c.Data)
	case !s.Pending():
		return nil
	}
	out := filepath.Join(dir, fmt.Sprintf("before-%05d.tar.gz", s.Known))
	return beforeUpgrade(dir, out, s, log, func() error {
		_, err := backup.Take(ctx, c.Data, out, time.Now())
		return err
	})
}

// beforeUpgrade takes the backup before an upgrade into out with take,
// unless one is there from an attempt before (of the same schema), and
// keeps the last few.
func beforeUpgrade(dir, out string, s store.Schema, log *slog.Logger, take func() error) error {
	if _, err := os.Stat(out); err == nil {
		log.Info("a backup from before this upgrade is there already", "file", out, "from", s.Current, "to", s.Known)
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("the backups' directory: %w", err)
	}
	started := time.Now()
	if err := take(); err != nil {
		return fmt.Errorf("the database was not upgraded: the backup before the upgrade failed: %w", err)
	}
	log.Warn("backed up the database before upgrading its schema; restore it to go back to the build before",
		"from", s.Current, "to", s.Known, "file", out, "took", time.Since(started).Round(time.Millisecond))
	removed, err := backup.Prune(dir, "before-", filepath.Ext(out), keepBeforeUpgrade)
	for _, f := range removed {
		log.Info("removed an older backup from before an upgrade", "file", f)
	}
	return err
}

// newerSchema is the refusal of a database a newer build upgraded, with
// the command that goes back: the newest backup in dir whose database this
// build can read.
func newerSchema(s store.Schema, dir, data string) error {
	msg := instancehub.ErrorMessage(store.SchemaNewerError(s))
	names, _ := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	slices.Reverse(names) // the newest first: names sort by time or version
	for _, name := range names {
		m, err := backup.Verify(name)
		if err != nil {
			continue
		}
		if f := m.File(backup.Database); f != nil && f.Version <= s.Known {
			return fmt.Errorf("%s The newest backup this build reads is %s (schema %d, made %s): "+
				"instancehub restore --from %s --data %s", msg, name, f.Version, m.Made.Format(time.RFC3339), name, data)
		}
	}
	return fmt.Errorf("%s No backup in %s holds a schema this build reads (%d or older)", msg, dir, s.Known)
}

// backupDir is where backups go: --backup-dir, else the data directory's
// backups folder.
func (c *Config) backupDir() string {
	if c.BackupDir != "" {
		return c.BackupDir
	}
	return filepath.Join(c.Data, "backups")
}

// pgDump writes a pg_dump archive of the database at dbURL to out, a new
// file: dumped under a temporary name, checked by pg_restore --list when
// it is installed, then linked to out. The password goes to pg_dump in
// its environment, never on its command line, which anyone may read.
func pgDump(ctx context.Context, dbURL, out string) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("instancehub backup copies SQLite; on PostgreSQL, back up with PostgreSQL's pg_dump, which is not installed here: " +
			`pg_dump --format=custom --file FILE "$INSTANCEHUB_DATABASE" (or the database service's own backups)`)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("nothing was backed up: %s exists: a backup never overwrites a file", out)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("--database: %w", err)
	}
	password, _ := u.User.Password()
	q := u.Query()
	if p := q.Get("password"); p != "" {
		password = p
	}
	q.Del("password")
	u.RawQuery = q.Encode()
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	tmp := out + ".partial"
	defer os.Remove(tmp)
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-password", "--file="+tmp, "--dbname="+u.String())
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nothing was backed up: pg_dump: %w: %s", err, strings.TrimSpace(string(b)))
	}
	if list, err := exec.LookPath("pg_restore"); err == nil {
		if b, err := exec.CommandContext(ctx, list, "--list", tmp).CombinedOutput(); err != nil {
			return fmt.Errorf("nothing was backed up: pg_restore cannot read the dump: %w: %s", err, strings.TrimSpace(string(b)))
		}
	}
	if err := os.Link(tmp, out); err != nil {
		return fmt.Errorf("nothing was backed up: %w", err)
	}
	return nil
}

// scheduledBackups takes a backup of the data directory every c.BackupEvery
// until ctx ends, keeping the newest c.BackupKeep.
func scheduledBackups(ctx context.Context, c Config, log *slog.Logger) {
	t := time.NewTicker(c.BackupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := takeScheduledBackup(ctx, c, now, log); err != nil && ctx.Err() == nil {
				log.Error("scheduled backup", "err", err)
			}
		}
	}
}

// takeScheduledBackup writes one scheduled backup, named for the time now,
// and removes the oldest beyond c.BackupKeep.
func takeScheduledBackup(ctx context.Context, c Config, now time.Time, log *slog.Logger) (string, error) {
	dir := c.backupDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "instancehub-"+now.UTC().Format("20060102T150405Z")+".tar.gz")
	started := time.Now()
	m, err := backup.Take(ctx, c.Data, out, now)
	if err != nil {
		return "", err
	}
	var size int64
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	log.Info("backup written", "file", out, "bytes", size, "schema", m.File(backup.Database).Version, "took", time.Since(started).Round(time.Millisecond))
	removed, err := backup.Prune(dir, "instancehub-", ".tar.gz", c.BackupKeep)
	for _, f := range removed {
		log.Info("removed an older backup", "file", f)
	}
	return out, err
}

// checkBackupFlags bounds the scheduled backups' flags.
func (c *Config) checkBackupFlags() error {
	least := c.backupEveryLeast
	if least == 0 {
		least = time.Minute
	}
	switch {
	case c.BackupEvery < 0 || (c.BackupEvery > 0 && c.BackupEvery < least):
		return fmt.Errorf("--backup-every %s: give 0 (no scheduled backups) or %s or more", c.BackupEvery, least)
	case c.BackupKeep < 1 || c.BackupKeep > 1000:
		return fmt.Errorf("--backup-keep %d: give 1 to 1000", c.BackupKeep)
	case c.BackupEvery > 0 && c.Database != "":
		return errors.New("--backup-every backs up the SQLite data directory; on PostgreSQL, schedule pg_dump " +
			"(instancehub backup --database runs it) or the database service's own backups")
	}
	return nil
}
