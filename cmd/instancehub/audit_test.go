package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/pgtest"
	"github.com/instancehub/instancehub/store"
)

// TestAuditArchive moves the old events of a portal's log into a file from
// the command line: the file holds them and is checked, they leave the
// log, the recent ones stay, and the log says who archived what. The
// dates are days before the test's own now, whatever day it runs.
func TestAuditArchive(t *testing.T) {
	dir, ctx, now := t.TempDir(), context.Background(), time.Now().UTC()
	db, err := store.Open(ctx, filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{90, 60, 10} {
		if err := db.RecordAudit(ctx, &instancehub.AuditEvent{At: now.AddDate(0, 0, -days), UserName: "Ada", UserEmail: "ada@example.com",
			Action: "instance.start", Target: "box", Result: instancehub.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	day := func(daysAgo int) string { return now.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	out := filepath.Join(t.TempDir(), "audit-2025.jsonl")
	archive := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := run(ctx, append([]string{"audit", "archive", "--data", dir}, args...), nil, &stdout, io.Discard)
		return stdout.String(), err
	}

	// Refused, and nothing written: a bad date, a day within the last 30,
	// no file named, a file that exists.
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"--before", "2025-13-45", "--out", out}, false, "Give the date as YYYY-MM-DD"},
		{[]string{"--before", day(10), "--out", out}, false, "The last 30 days stay in the log"},
		{[]string{"--before", day(45)}, true, "usage: instancehub audit archive"},
		{[]string{"--before", day(100), "--out", out}, false, "no event before " + day(100)},
	} {
		_, err := archive(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, new(usageError)) != c.usage {
			t.Errorf("%v: %v, want %q (usage error: %v)", c.args, err, c.want, c.usage)
		}
		if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%v left a file: %v", c.args, serr)
		}
	}
	taken := filepath.Join(t.TempDir(), "taken.jsonl")
	if err := os.WriteFile(taken, []byte("someone's notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := archive("--before", day(45), "--out", taken); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("archiving into an existing file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "someone's notes\n" {
		t.Errorf("the existing file was changed: %q", b)
	}

	stdout, err := archive("--before", day(45), "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	archives, err := db.AuditArchives(ctx)
	if err != nil || len(archives) != 1 {
		t.Fatalf("archives = %v, %v; want one", archives, err)
	}
	a := archives[0]
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	count, digest, err := instancehub.ReadAuditArchive(f)
	f.Close()
	if err != nil || count != 2 || a.Count != 2 || digest != a.Digest || a.File != out || a.UserID != 0 {
		t.Errorf("the file holds %d events, SHA-256 %s (%v); the archive recorded %+v", count, digest, err, *a)
	}
	if !strings.Contains(stdout, "Archived 2 events") || !strings.Contains(stdout, digest) {
		t.Errorf("output = %q", stdout)
	}
	if span, err := db.AuditArchivable(ctx, now.AddDate(0, 0, -30)); err != nil || span.Count != 0 {
		t.Errorf("%d events older than 30 days left (%v), want none", span.Count, err)
	}
	events, _, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Action+" "+e.Result)
	}
	// The refusals were audited too, as the command line's failures, in a
	// tally.
	if want := "audit.archive succeeded,audit.archive failed,instance.start succeeded"; strings.Join(kinds, ",") != want {
		t.Fatalf("the log holds %v, want %s", kinds, want)
	}
	if e := events[0]; e.Target != out+" (command line)" || !strings.Contains(e.Reason, "2 events from") ||
		!strings.Contains(e.Reason, "(before "+day(45)+")") || !strings.Contains(e.Reason, digest) {
		t.Errorf("the archive's audit event = %+v", *e)
	}
	if e := events[1]; e.Count != 4 {
		t.Errorf("the refusals' event = %+v, want it to count the 4 that reached the log (not the usage error)", *e)
	}
	if e := events[2]; !e.At.After(now.AddDate(0, 0, -11)) {
		t.Errorf("the recent event = %+v", *e)
	}
}

// TestAuditArchiveRefusesAServedDirectory: while a portal serves the data
// directory, the command refuses, naming it, and archives nothing.
func TestAuditArchiveRefusesAServedDirectory(t *testing.T) {
	dir := t.TempDir()
	portal := startProcess(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0", "--sync-interval", "1h")
	out := filepath.Join(t.TempDir(), "archive.jsonl")
	err := run(context.Background(), []string{"audit", "archive", "--data", dir, "--before", time.Now().AddDate(-1, 0, 0).Format(time.DateOnly), "--out", out},
		nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("in use by another instancehub (PID %d)", portal.cmd.Process.Pid)) ||
		!strings.Contains(err.Error(), "Settings page") {
		t.Errorf("archiving a served directory: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written: %v", err)
	}
}

// TestAuditArchiveOnPostgres archives from the command line with
// --database, where replicas may be serving: no data directory is locked.
func TestAuditArchiveOnPostgres(t *testing.T) {
	ctx, now, database := context.Background(), time.Now().UTC(), pgtest.NewDatabase(t)
	db, err := store.OpenPostgres(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, days := range []int{400, 35} {
		if err := db.RecordAudit(ctx, &instancehub.AuditEvent{At: now.AddDate(0, 0, -days), Action: "instance.start", Result: instancehub.AuditSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "old.jsonl")
	before := now.AddDate(0, 0, -100).Format(time.DateOnly)
	if err := run(ctx, []string{"audit", "archive", "--database", database, "--before", before, "--out", out}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	archives, err := db.AuditArchives(ctx)
	if err != nil || len(archives) != 1 || archives[0].Count != 1 || archives[0].File != out {
		t.Fatalf("archives = %v, %v; want one of one event into %s", archives, err, out)
	}
	if span, err := db.AuditArchivable(ctx, now.AddDate(0, 0, -30)); err != nil || span.Count != 1 {
		t.Errorf("%d events older than 30 days left (%v), want the one of 35 days ago", span.Count, err)
	}
}
