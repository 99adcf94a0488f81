package store

import (
	"context"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestWorkspaceUsageCountsAsTheQuotaDoes: a create's checks read the
// vCPUs held from a sum, not every holder; it says what WorkspaceQuota says,
// with only the holders still being created.
func TestWorkspaceUsageCountsAsTheQuotaDoes(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	runningInstance(t, db, "running-1", ada)
	runningInstance(t, db, "running-2", ada)
	stopped := runningInstance(t, db, "stopped-1", ada)
	setState(t, db, stopped, instancehub.StateStopped)
	creating, _ := createInstance(t, db, "creating-1", ada)
	other := newInstance("elsewhere-1", ada)
	other.Region = "eastus"
	if err := db.CreateInstance(ctx, other, &instancehub.Operation{Trigger: instancehub.TriggerUser}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetWorkspaceLimit(ctx, "westeurope", "standardDSv2Family", 40); err != nil {
		t.Fatal(err)
	}

	full, err := db.WorkspaceQuota(ctx, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := db.WorkspaceUsage(ctx, "westeurope")
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Used) == 0 || len(sum.Used) != len(full.Used) {
		t.Fatalf("used %v, want %v", sum.Used, full.Used)
	}
	for family, n := range full.Used {
		if sum.Used[family] != n {
			t.Errorf("%s: %d used, want %d", family, sum.Used[family], n)
		}
	}
	if sum.Used["standardDSv2Family"] != 12 || sum.Limits["standardDSv2Family"] != 40 {
		t.Errorf("used %v, limits %v: want 12 of 40 (two running, one creating)", sum.Used, sum.Limits)
	}
	if len(sum.Holders) != 1 || sum.Holders[0].ID != creating.ID {
		t.Errorf("holders %v, want the one being created", sum.Holders)
	}
}
