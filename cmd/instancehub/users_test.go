package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/store"
)

// TestUsersUnlock forgets an account's failed sign-ins from the command
// line, and the audit log says so.
func TestUsersUnlock(t *testing.T) {
	dir, ctx := t.TempDir(), context.Background()
	add := []string{"users", "add", "--data", dir, "--email", "grace@example.com"}
	if err := run(ctx, add, strings.NewReader("a long password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for _, addr := range []string{"198.51.100.1", "198.51.100.1", "203.0.113.9"} {
		id, _, err := db.ReserveLoginAttempt(ctx, "grace@example.com", addr, now, now.Add(-time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FailLoginAttempt(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"users", "unlock", "grace@example.com", "--data", dir}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Forgot 3 failed sign-ins of grace@example.com") {
		t.Errorf("output = %q", out.String())
	}
	if _, counts, _ := db.ReserveLoginAttempt(ctx, "grace@example.com", "198.51.100.1", now, now.Add(-time.Hour), nil); counts.Account != 0 {
		t.Errorf("%d failures left after unlocking", counts.Account)
	}
	events, _, _ := db.FindAuditEvents(ctx, instancehub.AuditFilter{Action: "user.unlock"})
	if len(events) != 1 || events[0].Target != "grace@example.com (command line)" || events[0].Result != instancehub.AuditSucceeded {
		t.Errorf("audit = %+v", events)
	}
	err = run(ctx, []string{"users", "unlock", "--data", dir, "--email", "nobody@example.com"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no user with the email nobody@example.com") {
		t.Errorf("unlocking an unknown account: %v", err)
	}
}
