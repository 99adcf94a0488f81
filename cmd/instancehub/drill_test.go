package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/store"
)

// TestRestoreDrill is the drill an operator runs: serve, create, back up
// while serving, create more, delete one of each, stop, restore, start.
// The instance made after the backup is adopted at the first sync and
// works (it stops and starts again); the one made before it and deleted
// since shows as Missing (Unusable in the API), as its VM is gone; the one made and deleted
// after it stays gone; nothing is doubled, and the restore and the
// adoption are in the audit log.
func TestRestoreDrill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	serveArgs := []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--emulator-latency", "0.01",
		"--sync-interval", "1h", "--admin-email", "owner@example.com"}
	portal := startProcess(t, serveArgs...)
	token, _, err := cli(t, "tokens", "create", "--data", dir, "--email", "owner@example.com", "--name", "drill")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("INSTANCEHUB_URL", portal.url)
	t.Setenv("INSTANCEHUB_TOKEN", strings.TrimSpace(token))
	compute := func(args ...string) {
		t.Helper()
		if out, _, err := cli(t, append([]string{"compute"}, args...)...); err != nil {
			t.Fatalf("compute %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	compute("create", "before-kept", "--size", "Standard_DS1_v2", "--wait")
	compute("create", "before-gone", "--size", "Standard_DS1_v2", "--wait")
	backupFile := filepath.Join(t.TempDir(), "drill.tar.gz")
	if _, _, err := cli(t, "backup", "--data", dir, "--out", backupFile); err != nil {
		t.Fatal(err)
	}
	compute("create", "after-kept", "--size", "Standard_DS1_v2", "--wait")
	compute("create", "after-gone", "--size", "Standard_DS1_v2", "--wait")
	compute("delete", "before-gone", "--wait")
	compute("delete", "after-gone", "--wait")
	if err := portal.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-portal.done

	if _, _, err := cli(t, "restore", "--from", backupFile, "--data", dir); err != nil {
		t.Fatal(err)
	}
	portal = startProcess(t, serveArgs...)
	t.Setenv("INSTANCEHUB_URL", portal.url)
	// The API names Missing as Azure ML does: Unusable.
	want := map[string]string{"before-kept": "Running", "before-gone": "Unusable", "after-kept": "Running"}
	var got map[string]string
	for deadline := time.Now().Add(30 * time.Second); ; {
		got = listStates(t)
		if len(got) == len(want) && got["after-kept"] == "Running" && got["before-gone"] == "Unusable" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, state := range want {
		if got[name] != state {
			t.Errorf("%s: %q after the restore, want %s", name, got[name], state)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the list after the restore: %v; want %v, nothing doubled or come back", got, want)
	}
	compute("stop", "after-kept", "--wait")
	compute("start", "after-kept", "--wait")
	if s := listStates(t)["after-kept"]; s != "Running" {
		t.Errorf("the adopted instance after a stop and a start: %s", s)
	}

	db, err := store.Open(ctx, filepath.Join(dir, "instancehub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if inst, err := db.FindInstanceByName(ctx, "before-gone"); err != nil || inst.State != instancehub.StateMissing {
		t.Errorf("before-gone: %+v, %v; want Missing", inst, err)
	}
	for action, target := range map[string]string{"data.restore": backupFile, "instance.adopt": "after-kept"} {
		events, _, err := db.FindAuditEvents(ctx, instancehub.AuditFilter{Action: action})
		if err != nil || len(events) != 1 || !strings.Contains(events[0].Target, target) {
			t.Errorf("%s events: %+v, %v; want one naming %s", action, events, err, target)
		}
	}
	if !strings.Contains(portal.logs.String(), `msg="adopted an instance from its virtual machine, which no record named" instance=after-kept owner=owner@example.com state=Running`) {
		t.Errorf("the adoption is not logged:\n%s", portal.logs.String())
	}
}

// listStates lists the portal's instances through the API, as a map of
// name to state; a name listed twice fails the test.
func listStates(t *testing.T) map[string]string {
	t.Helper()
	out, _, err := cli(t, "compute", "list", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Name       string
		Properties struct {
			Properties struct{ State string }
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("compute list: %v\n%s", err, out)
	}
	states := map[string]string{}
	for _, c := range list {
		if _, dup := states[c.Name]; dup {
			t.Errorf("%s is listed twice", c.Name)
		}
		states[c.Name] = c.Properties.Properties.State
	}
	return states
}
