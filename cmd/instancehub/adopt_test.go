package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
	"github.com/instancehub/instancehub/store"
)

// TestEmptyDatabaseOverAPortalsCloud: with its database emptied (a
// zero-byte file) or deleted, the portal refuses to start over a cloud that
// has its VMs, and makes no account; with --adopt it starts with them listed.
func TestEmptyDatabaseOverAPortalsCloud(t *testing.T) {
	for _, lose := range []struct {
		name string
		do   func(db string) error
	}{
		{"zero-byte", func(db string) error { return os.WriteFile(db, nil, 0o600) }},
		{"deleted", os.Remove},
	} {
		t.Run(lose.name, func(t *testing.T) {
			dir := t.TempDir()
			old := testportal.Open(t, dir, 0)
			if _, err := old.Service.CreateInstance(old.Ctx, testportal.Request("ada-box")); err != nil {
				t.Fatal(err)
			}
			old.WaitState(t, "ada-box", instancehub.StateRunning)
			old.Close()
			db := filepath.Join(dir, "instancehub.db")
			for _, f := range []string{db + "-wal", db + "-shm"} {
				_ = os.Remove(f)
			}
			if err := lose.do(db); err != nil {
				t.Fatal(err)
			}

			args := []string{"--data", dir, "--emulator-latency", "0", "--sync-interval", "1h", "--admin-email", "admin@example.com"}
			var c Config
			if err := parse("serve", args, io.Discard, c.bindServe); err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = serve(context.Background(), c, ln, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, want := range []string{"the cloud has 1 virtual machines this portal made (ada-box)", "--adopt"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("start over a lost database: %v; want it refused, saying %q", err, want)
				}
			}
			if n := countUsers(t, db); n != 0 {
				t.Errorf("the refused start made %d accounts", n)
			}

			c.Adopt = true
			_, logs := startServe(t, c)
			if !strings.Contains(logs.String(), `msg="adopted an instance from its virtual machine" instance=ada-box owner=admin@example.com state=Running`) {
				t.Errorf("adoption not logged:\n%s", logs.String())
			}
			adopted := findInstance(t, db, "ada-box")
			if adopted.State != instancehub.StateRunning || adopted.OwnerEmail != "admin@example.com" || adopted.VCPUs != 4 {
				t.Errorf("adopted %+v", adopted)
			}
		})
	}
}

func countUsers(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func findInstance(t *testing.T, path, name string) *instancehub.Instance {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inst, err := db.FindInstanceByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}
