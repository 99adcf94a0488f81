package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/backup"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/store"
	"github.com/pressly/goose/v3"
)

// TestBackupWhileServingAndRestore: instancehub backup copies the data
// directory of a portal serving in another process; restore refuses that
// directory while the portal holds it, and puts the backup into another,
// recording the restore in the audit log without migrating the database.
func TestBackupWhileServingAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	err := run(ctx, []string{"users", "add", "--data", dir, "--email", "grace@example.com", "--name", "Grace Hopper"},
		strings.NewReader("a long password\n"), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	portal := startProcess(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0", "--sync-interval", "1h")

	out := filepath.Join(t.TempDir(), "portal.tar.gz")
	stdout, _, err := cli(t, "backup", "--data", dir, "--out", out)
	if err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	for _, want := range []string{"Backed up " + dir + " into " + out, "instancehub.db  schema " + fmt.Sprint(store.KnownSchema()), "emulator.db", "integrity check"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("backup's output lacks %q:\n%s", want, stdout)
		}
	}
	if _, _, err := cli(t, "backup", "--data", dir, "--out", out); err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("a second backup to the same file: %v", err)
	}

	_, _, err = cli(t, "restore", "--from", out, "--data", dir)
	if want := fmt.Sprintf("nothing was restored: the data directory %s is in use by another instancehub (PID %d)", dir, portal.cmd.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("restore into a directory a portal serves: %v; want %q", err, want)
	}

	other := t.TempDir()
	stdout, _, err = cli(t, "restore", "--from", out, "--data", other)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, want := range []string{"Restored the backup of", "The emulator's cloud was restored too", "adopts the VMs made since the backup"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("restore's output lacks %q:\n%s", want, stdout)
		}
	}
	db, err := store.Open(ctx, filepath.Join(other, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if u, err := db.FindUserByEmail(ctx, "grace@example.com"); err != nil || !instancehub.CheckPassword(u.PasswordHash, "a long password") {
		t.Errorf("the restored account: %+v, %v", u, err)
	}
	events, _, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{Action: "data.restore"})
	if err != nil || len(events) != 1 || !strings.Contains(events[0].Target, out) {
		t.Errorf("the restore's audit events: %+v, %v", events, err)
	}
}

// olderDataDirectory makes a data directory whose database an older build
// left at version, with an account, and returns it.
func olderDataDirectory(t *testing.T, version int64) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "instancehub.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	provider, err := goose.NewProvider(goose.DialectSQLite3, raw, os.DirFS("../../store/migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO users (email, name, created_at) VALUES ('ada@example.com', 'Ada', 1)`); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAnUpgradeIsBackedUpFirst: a build starting on an older build's
// database backs it up before migrating it (backups/before-<version>),
// says so, keeps the last few, and the backup restores the older schema
// as it was.
func TestAnUpgradeIsBackedUpFirst(t *testing.T) {
	ctx := context.Background()
	known := store.KnownSchema()
	dir := olderDataDirectory(t, known-2)
	backups := filepath.Join(dir, "backups")
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{"before-00003.tar.gz", "before-00004.tar.gz", "before-00005.tar.gz"} {
		if err := os.WriteFile(filepath.Join(backups, old), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var c Config
	if err := parse("serve", []string{"--data", dir, "--emulator-latency", "0", "--sync-interval", "1h"}, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	_, logs := startServe(t, c)
	want := filepath.Join(backups, fmt.Sprintf("before-%05d.tar.gz", known))
	line := fmt.Sprintf(`msg="backed up the database before upgrading its schema; restore it to go back to the build before" from=%d to=%d file=%s`, known-2, known, want)
	if !strings.Contains(logs.String(), line) {
		t.Errorf("the log does not say %q:\n%s", line, logs.String())
	}
	m, err := backup.Verify(want)
	if err != nil {
		t.Fatal(err)
	}
	if f := m.File(backup.Database); f == nil || f.Version != known-2 {
		t.Errorf("the backup holds %+v, want the database at schema %d", m.Files, known-2)
	}
	left, _ := filepath.Glob(filepath.Join(backups, "before-*"))
	if len(left) != keepBeforeUpgrade || !strings.HasSuffix(left[0], "before-00004.tar.gz") {
		t.Errorf("backups left: %v; want the last %d", left, keepBeforeUpgrade)
	}

	restored := t.TempDir()
	if _, _, err := cli(t, "restore", "--from", want, "--data", restored); err != nil {
		t.Fatal(err)
	}
	s, err := store.ReadSchema(ctx, filepath.Join(restored, "instancehub.db"))
	if err != nil || s.Current != known-2 {
		t.Errorf("the restored database: %+v, %v; want schema %d, as the older build left it", s, err, known-2)
	}
}

// TestANewerSchemaStopsTheBuild: a database a newer build upgraded stops
// serve and every command that opens it, naming both versions and the
// newest backup this build reads, with the command that restores it.
func TestANewerSchemaStopsTheBuild(t *testing.T) {
	ctx := context.Background()
	known := store.KnownSchema()
	dir := olderDataDirectory(t, known-1)
	backups := filepath.Join(dir, "backups")
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	before := filepath.Join(backups, fmt.Sprintf("before-%05d.tar.gz", known+1))
	if _, err := backup.Take(ctx, dir, before, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A damaged file, newer by its name, is passed over.
	if err := os.WriteFile(filepath.Join(backups, "instancehub-20991231T000000Z.tar.gz"), []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The newer build's upgrade.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{known, known + 1} {
		if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, v); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	for _, args := range [][]string{
		{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0"},
		{"users", "unlock", "ada@example.com", "--data", dir},
	} {
		_, _, err := cli(t, args...)
		for _, want := range []string{
			fmt.Sprintf("schema is version %d, newer than this build of instancehub knows (%d)", known+1, known),
			fmt.Sprintf("The newest backup this build reads is %s (schema %d", before, known-1),
			fmt.Sprintf("instancehub restore --from %s --data %s", before, dir),
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s on a newer schema: %v; want it to say %q", args[0], err, want)
			}
		}
	}
	s, err := store.ReadSchema(ctx, filepath.Join(dir, "instancehub.db"))
	if err != nil || s.Current != known+1 {
		t.Errorf("after the refusals: %+v, %v", s, err)
	}

	// This build backs the newer database up, but does not restore it.
	newer := filepath.Join(t.TempDir(), "newer.tar.gz")
	if _, _, err := cli(t, "backup", "--data", dir, "--out", newer); err != nil {
		t.Fatalf("backup of a newer schema: %v", err)
	}
	other := t.TempDir()
	_, _, err = cli(t, "restore", "--from", newer, "--data", other)
	want := fmt.Sprintf("nothing was restored: the backup's database is at schema %d, newer than this build knows (%d): restore it with the build that made it", known+1, known)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("restore of a newer schema: %v; want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(other, "instancehub.db")); !os.IsNotExist(err) {
		t.Errorf("the refused restore left a database: %v", err)
	}
}

// TestScheduledBackups: serve --backup-every writes a backup into the
// backups folder while it serves; each scheduled backup removes the oldest
// beyond --backup-keep; the flags are bounded.
func TestScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	var c Config
	if err := parse("serve", []string{"--data", dir, "--emulator-latency", "0", "--sync-interval", "1h", "--backup-every", "100ms", "--backup-keep", "2"}, io.Discard, c.bindServe); err != nil {
		t.Fatal(err)
	}
	c.backupEveryLeast = 100 * time.Millisecond
	_, logs := startServe(t, c)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), `msg="backup written"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "backups", "instancehub-*.tar.gz"))
	if len(files) == 0 {
		t.Fatalf("no scheduled backup:\n%s", logs.String())
	}
	if _, err := backup.Verify(files[0]); err != nil {
		t.Errorf("the scheduled backup: %v", err)
	}

	// The step each tick takes, on the test's clock.
	other := t.TempDir()
	c2 := Config{Data: dir, BackupDir: other, BackupKeep: 2}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var written []string
	for i := range 3 {
		out, err := takeScheduledBackup(context.Background(), c2, at.Add(time.Duration(i)*24*time.Hour), log)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, out)
	}
	left, _ := filepath.Glob(filepath.Join(other, "*"))
	if len(left) != 2 || left[0] != written[1] || left[1] != written[2] || filepath.Base(written[0]) != "instancehub-20261201T000000Z.tar.gz" {
		t.Errorf("written %v, left %v; want the newest 2", written, left)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--backup-every", "10s"}, "--backup-every 10s: give 0 (no scheduled backups) or 1m0s or more"},
		{[]string{"--backup-every", "-1h"}, "--backup-every -1h0m0s"},
		{[]string{"--backup-keep", "0"}, "--backup-keep 0: give 1 to 1000"},
		{[]string{"--backup-every", "24h", "--database", "postgres://ih@127.0.0.1:1/ih"}, "on PostgreSQL, schedule pg_dump"},
	} {
		_, _, err := cli(t, append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, bad.args...)...)
		if err == nil || !isUsage(err) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("serve %v: %v; want a usage error saying %q", bad.args, err, bad.want)
		}
	}
}

// TestBackupOnPostgres: backup --database dumps with pg_dump, passing the
// password in its environment, into an archive pg_restore reads; a build
// starting on an older PostgreSQL schema dumps it before migrating; without
// pg_dump, backup says what to run.
func TestBackupOnPostgres(t *testing.T) {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Fatalf("pg_dump is not installed (make test installs PostgreSQL): %v", err)
	}
	ctx := context.Background()
	database := pgtest.NewDatabase(t)
	db, err := store.OpenPostgres(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &instancehub.User{Email: "ada@example.com", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := filepath.Join(t.TempDir(), "portal.dump")
	stdout, _, err := cli(t, "backup", "--data", t.TempDir(), "--database", database, "--out", out)
	if err != nil || !strings.Contains(stdout, "with pg_dump") {
		t.Fatalf("backup on PostgreSQL: %q, %v", stdout, err)
	}
	list, err := exec.Command("pg_restore", "--list", out).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "TABLE DATA public users") {
		t.Errorf("pg_restore --list: %v\n%s", err, list)
	}

	// An older schema: the newest migration undone.
	raw, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	known := store.KnownSchema()
	if _, err := raw.Exec(`DELETE FROM goose_db_version WHERE version_id = $1`, known); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logs bytes.Buffer
	c := Config{Data: dir, Database: database}
	if err := guardUpgrade(ctx, c, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "backups", fmt.Sprintf("before-%05d.dump", known))
	if !strings.Contains(logs.String(), "backed up the database before upgrading its schema") || !strings.Contains(logs.String(), dump) {
		t.Errorf("the log:\n%s", logs.String())
	}
	if list, err := exec.Command("pg_restore", "--list", dump).CombinedOutput(); err != nil {
		t.Errorf("the dump before the upgrade: %v\n%s", err, list)
	}

	// A newer build's schema: refused, naming the dump that goes back.
	for _, v := range []int64{known, known + 1} {
		if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, TRUE)`, v); err != nil {
			t.Fatal(err)
		}
	}
	_, err = openStore(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, want := range []string{fmt.Sprintf("schema is version %d, newer than this build of instancehub knows (%d)", known+1, known),
		fmt.Sprintf("before-%05d.dump", known+1), "pg_restore"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a newer schema on PostgreSQL: %v; want it to say %q", err, want)
		}
	}

	t.Setenv("PATH", t.TempDir())
	_, _, err = cli(t, "backup", "--database", database, "--out", filepath.Join(t.TempDir(), "x.dump"))
	if err == nil || !strings.Contains(err.Error(), `pg_dump --format=custom --file FILE "$INSTANCEHUB_DATABASE"`) {
		t.Errorf("backup without pg_dump: %v", err)
	}
}
