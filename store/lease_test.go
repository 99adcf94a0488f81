package store

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/pgtest"
)

// TestOperationLeases: an operation goes to the replica that claims it
// once its lease lapsed, to one claimer only; renewals keep it; a release
// hands it over at once. Leases run on the database's clock, which a test
// cannot move: a lease that lapsed is one renewed to end a second ago.
func TestOperationLeases(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "leased", ada)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser,
		LeaseOwner: "a", LeaseFor: 15 * time.Second}
	if err := db.BeginOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	claim := func(owner string, all bool) []int64 {
		t.Helper()
		ids, err := db.ClaimLapsedOperations(ctx, owner, 15*time.Second, all)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	renew := func(owner string, lease time.Duration) []int64 {
		t.Helper()
		held, err := db.RenewOperations(ctx, owner, []int64{op.ID}, lease)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	if ids := claim("b", false); len(ids) != 0 {
		t.Fatalf("b claimed %v of a's live lease", ids)
	}
	if held := renew("a", 15*time.Second); !slices.Equal(held, []int64{op.ID}) {
		t.Fatalf("a's renewal: %v", held)
	}
	if ids := claim("b", false); len(ids) != 0 {
		t.Fatalf("b claimed %v of a's renewed lease", ids)
	}
	renew("a", -time.Second) // a died: its lease has lapsed
	if ids := claim("b", false); !slices.Equal(ids, []int64{op.ID}) {
		t.Fatalf("b claimed %v, want the lapsed operation", ids)
	}
	if ids := claim("c", false); len(ids) != 0 {
		t.Fatalf("c claimed %v of b's fresh lease", ids)
	}
	if held := renew("a", time.Minute); len(held) != 0 {
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
	// An operation begun without an owner is anyone's at once.
	free := &instancehub.Operation{InstanceID: runningInstance(t, db, "free", ada).ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser}
	if err := db.BeginOperation(ctx, free); err != nil {
		t.Fatal(err)
	}
	if ids := claim("f", false); !slices.Equal(ids, []int64{free.ID}) {
		t.Errorf("claimed %v, want the operation no portal held", ids)
	}
}

// TestLeasesKeepTheDatabasesTime: a replica on PostgreSQL whose own clock
// is an hour off (it jumped) sees the leases as the database does, by the
// server's clock: an hour neither lapses a live lease nor keeps a lapsed
// one. (SQLite's one portal keeps them by its own clock.)
func TestLeasesKeepTheDatabasesTime(t *testing.T) {
	ctx := context.Background()
	db, err := OpenPostgres(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := &testClock{now: time.Now()}
	db.Now = clock.Now
	ada := createUser(t, db, "ada@example.com", "Ada")
	inst := runningInstance(t, db, "leased", ada)
	op := &instancehub.Operation{InstanceID: inst.ID, Kind: instancehub.OpStop, Trigger: instancehub.TriggerUser,
		LeaseOwner: "a", LeaseFor: 15 * time.Second}
	if err := db.BeginOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if ids, err := db.ClaimLapsedOperations(ctx, "b", 15*time.Second, false); err != nil || len(ids) != 0 {
		t.Fatalf("an hour ahead, b claimed %v (%v) of a's live lease", ids, err)
	}
	if held, err := db.AcquireLease(ctx, "sync", "a", time.Minute); err != nil || !held {
		t.Fatalf("a's sync lease: %v, %v", held, err)
	}
	clock.Add(-2 * time.Hour)
	if held, err := db.AcquireLease(ctx, "sync", "b", time.Minute); err != nil || held {
		t.Fatalf("an hour behind, b took a's sync lease: %v, %v", held, err)
	}
	if _, err := db.RenewOperations(ctx, "a", []int64{op.ID}, -time.Second); err != nil {
		t.Fatal(err)
	}
	if ids, err := db.ClaimLapsedOperations(ctx, "b", 15*time.Second, false); err != nil || !slices.Equal(ids, []int64{op.ID}) {
		t.Errorf("an hour behind, b claimed %v (%v); want the lapsed lease", ids, err)
	}
}

// TestNamedLease: one holder at a time, renewals by it, a lapse for others.
func TestNamedLease(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	acquire := func(owner string, lease time.Duration) bool {
		t.Helper()
		held, err := db.AcquireLease(ctx, "sync", owner, lease)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	if !acquire("a", time.Minute) || acquire("b", time.Minute) || !acquire("a", time.Minute) {
		t.Fatal("a takes the free lease and renews it; b does not get it")
	}
	if acquire("b", time.Minute) {
		t.Fatal("b took a's renewed lease")
	}
	acquire("a", -time.Second) // a's last renewal, which has lapsed since
	if !acquire("b", time.Minute) || acquire("a", time.Minute) {
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
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	runningInstance(t, db, "quiet", ada)
	before, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := db.ClaimLapsedOperations(ctx, "a", time.Minute, false); err != nil || len(ids) != 0 {
		t.Fatalf("claimed %v, %v", ids, err)
	}
	if err := db.ReleaseOperations(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if after, err := db.DataVersion(ctx); err != nil || after != before {
		t.Errorf("data version %d, then %d after lease work that changed no row (%v)", before, after, err)
	}
}
