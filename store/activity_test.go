package store

import (
	"context"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

func TestRecordActivity(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "ada-box", ada)
	if got := findByID(t, db, inst.ID); !got.LastActivity.IsZero() {
		t.Fatalf("a new instance has activity %v", got.LastActivity)
	}
	version := findByID(t, db, inst.ID).Version

	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if err := db.RecordActivity(ctx, "ADA-BOX", at); err != nil { // names compare case-insensitively
		t.Fatal(err)
	}
	got := findByID(t, db, inst.ID)
	if !got.LastActivity.Equal(at) {
		t.Fatalf("last activity %v, want %v", got.LastActivity, at)
	}
	if got.Version != version {
		t.Fatalf("version %d, want %d: activity is no change the sync could conflict with", got.Version, version)
	}

	// A late write of an earlier time never moves it back.
	if err := db.RecordActivity(ctx, "ada-box", at.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := findByID(t, db, inst.ID); !got.LastActivity.Equal(at) {
		t.Fatalf("moved back to %v", got.LastActivity)
	}
	// Unknown names and deleted instances are left alone.
	if err := db.RecordActivity(ctx, "nobody", at); err != nil {
		t.Fatal(err)
	}
	deleteInstance(t, db, inst, ada)
	if err := db.RecordActivity(ctx, "ada-box", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := findByID(t, db, inst.ID); !got.LastActivity.Equal(at) || got.State != instancehub.StateDeleted {
		t.Fatalf("deleted instance: %s, activity %v", got.State, got.LastActivity)
	}
}
