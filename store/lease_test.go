package store

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
)

// TestOperationLeases: an operation goes to the replica that claims it
// once its lease lapsed, to one claimer only; renewals keep it; a release
// hands it over at once.
func TestOperationLeases(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "leased", ada)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser,
		LeaseOwner: "a", LeaseUntil: clock.Now().Add(15 * time.Second)}
	if err := db.BeginOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	claim := func(owner string, all bool) []int64 {
		t.Helper()
		ids, err := db.ClaimLapsedOperations(ctx, owner, clock.Now().Add(15*time.Second), all)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if ids := claim("b", false); len(ids) != 0 {
		t.Fatalf("b claimed %v of a's live lease", ids)
	}
	clock.Add(10 * time.Second)
	if held, err := db.RenewOperations(ctx, "a", []int64{op.ID}, clock.Now().Add(15*time.Second)); err != nil || !slices.Equal(held, []int64{op.ID}) {
		t.Fatalf("a's renewal: %v, %v", held, err)
	}
	clock.Add(10 * time.Second)
	if ids := claim("b", false); len(ids) != 0 {
		t.Fatalf("b claimed %v of a's renewed lease", ids)
	}
	clock.Add(6 * time.Second) // a died: its lease lapses
	if ids := claim("b", false); !slices.Equal(ids, []int64{op.ID}) {
		t.Fatalf("b claimed %v, want the lapsed operation", ids)
	}
	if ids := claim("c", false); len(ids) != 0 {
		t.Fatalf("c claimed %v of b's fresh lease", ids)
	}
	if held, _ := db.RenewOperations(ctx, "a", []int64{op.ID}, clock.Now().Add(time.Minute)); len(held) != 0 {
		t.Errorf("a renewed %v after b took over", held)
	}
	if err := db.ReleaseOperations(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if ids := claim("c", false); !slices.Equal(ids, []int64{op.ID}) {
		t.Fatalf("c claimed %v after b let go, want it at once", ids)
	}
	if ids := claim("d", true); !slices.Equal(ids, []int64{op.ID}) {
		t.Fatalf("the only portal claimed %v, want every operation in progress", ids)
	}
	op.LeaseOwner, op.Status = "c", instancehub.StatusSucceeded
	wantCode(t, db.FinishOperation(ctx, op, instancehub.InstanceUpdate{State: instancehub.StateStopped}), instancehub.ECONFLICT)
	op.LeaseOwner = "d"
	wantCode(t, db.FinishOperation(ctx, op, instancehub.InstanceUpdate{State: instancehub.StateStopped}), "")
	if ids := claim("e", true); len(ids) != 0 {
		t.Errorf("claimed %v of a finished operation", ids)
	}
}

// TestNamedLease: one holder at a time, renewals by it, a lapse for others.
func TestNamedLease(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	acquire := func(owner string) bool {
		t.Helper()
		held, err := db.AcquireLease(ctx, "sync", owner, clock.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	if !acquire("a") || acquire("b") || !acquire("a") {
		t.Fatal("a takes the free lease and renews it; b does not get it")
	}
	clock.Add(59 * time.Second)
	if acquire("b") {
		t.Fatal("b took a's renewed lease")
	}
	clock.Add(2 * time.Second)
	if !acquire("b") || acquire("a") {
		t.Fatal("b takes the lapsed lease, and a no longer has it")
	}
}

// TestPortalKey: every portal on the database gets the same key by name.
func TestPortalKey(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	k1, err := db.PortalKey(ctx, "sealed-cookies")
	if err != nil || len(k1) != 32 {
		t.Fatalf("key = %x, %v", k1, err)
	}
	k2, err := db.PortalKey(ctx, "sealed-cookies")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second read = %x, %v; want the first key", k2, err)
	}
	other, err := db.PortalKey(ctx, "applications")
	if err != nil || bytes.Equal(other, k1) {
		t.Errorf("another name's key = %x, %v; want its own", other, err)
	}
}

// TestIdleLeaseWorkChangesNothing: the lease work every replica does every
// few seconds (claiming none, renewing none, releasing none) leaves the
// data version alone, so that the pages and sessions kept in memory stay.
func TestIdleLeaseWorkChangesNothing(t *testing.T) {
	db, clock := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	runningInstance(t, db, "quiet", ada)
	before, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := db.ClaimLapsedOperations(ctx, "a", clock.Now().Add(time.Minute), false); err != nil || len(ids) != 0 {
		t.Fatalf("claimed %v, %v", ids, err)
	}
	if err := db.ReleaseOperations(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if after, err := db.DataVersion(ctx); err != nil || after != before {
		t.Errorf("data version %d, then %d after lease work that changed no row (%v)", before, after, err)
	}
}
