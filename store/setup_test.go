package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// An instance keeps its setup scripts, and its last setup run replaces the
// one before, its log cut to its tail.
func TestSetupScriptsAndRuns(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := newInstance("scripted", ada)
	inst.Setup = instancehub.SetupScripts{
		Creation: &instancehub.SetupScript{Command: "echo made > ~/made", Timeout: 15 * time.Minute},
		Startup:  &instancehub.SetupScript{Path: "scripts/start.sh", Arguments: "-v 2", Timeout: 3 * time.Minute},
	}
	if err := db.CreateInstance(ctx, inst, &instancehub.Operation{Trigger: instancehub.TriggerUser, UserID: ada.ID}); err != nil {
		t.Fatal(err)
	}
	got := findByID(t, db, inst.ID)
	if !reflect.DeepEqual(got.Setup, inst.Setup) {
		t.Errorf("setup = %+v %+v, want %+v %+v", got.Setup.Creation, got.Setup.Startup, inst.Setup.Creation, inst.Setup.Startup)
	}
	if plain := runningInstance(t, db, "plain", ada); findByID(t, db, plain.ID).Setup.Any() {
		t.Error("an instance without scripts reads some")
	}

	if r, err := db.SetupRun(ctx, inst.ID); err != nil || r != nil {
		t.Fatalf("before any run: %+v, %v", r, err)
	}
	first := &instancehub.SetupResult{Phase: instancehub.SetupCreation, ExitCode: 3, Log: "made\nfailed\n", At: clock.Now()}
	if err := db.RecordSetupRun(ctx, inst.ID, first); err != nil {
		t.Fatal(err)
	}
	r, err := db.SetupRun(ctx, inst.ID)
	if err != nil || !reflect.DeepEqual(r, first) {
		t.Fatalf("run = %+v, %v; want %+v", r, err, first)
	}
	clock.Add(time.Minute)
	long := strings.Repeat("x", instancehub.MaxSetupLogLength) + "the end\n"
	second := &instancehub.SetupResult{Phase: instancehub.SetupStartup, ExitCode: -1, TimedOut: true, Log: long, At: clock.Now()}
	if err := db.RecordSetupRun(ctx, inst.ID, second); err != nil {
		t.Fatal(err)
	}
	r, err = db.SetupRun(ctx, inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != instancehub.SetupStartup || r.ExitCode != -1 || !r.TimedOut || !r.At.Equal(clock.Now()) {
		t.Errorf("second run = %+v", r)
	}
	if len(r.Log) > instancehub.MaxSetupLogLength || !strings.HasSuffix(r.Log, "the end\n") || !strings.HasPrefix(r.Log, "[…earlier output cut]") {
		t.Errorf("log kept %d bytes, starting %q", len(r.Log), r.Log[:40])
	}
}
