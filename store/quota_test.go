package store

import (
	"context"
	"strings"
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

// TestQuotaHeldFollowsEveryChange: the vCPUs held that a create's checks
// read (quota_held, kept by the triggers of migration 00028) are, after
// every kind of change to an instance (created, each state, moved to
// another region or family, resized, its row deleted), what summing the
// instances in the states that hold quota says.
func TestQuotaHeldFollowsEveryChange(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	ada := createUser(t, db, "ada@example.com", "Ada")
	runningInstance(t, db, "steady-1", ada)
	inst, _ := createInstance(t, db, "moving-1", ada)
	check := func(when string) {
		t.Helper()
		for _, region := range []string{"westeurope", "eastus"} {
			var want map[string]int
			full, err := db.WorkspaceQuota(ctx, region)
			if err != nil {
				t.Fatal(err)
			}
			want = full.Used
			got, err := db.WorkspaceUsage(ctx, region)
			if err != nil {
				t.Fatal(err)
			}
			for _, family := range []string{"standardDSv2Family", "standardNCSv3Family", instancehub.TotalRegionalVCPUs} {
				if got.Used[family] != want[family] {
					t.Errorf("%s: %s %s: %d held, the instances hold %d", when, region, family, got.Used[family], want[family])
				}
			}
			err = db.inTx(ctx, func(tx *Tx) error {
				held, err := heldVCPUs(ctx, tx, region, instancehub.TotalRegionalVCPUs)
				if held != want[instancehub.TotalRegionalVCPUs] {
					t.Errorf("%s: %s: the create's check reads %d held, the instances hold %d", when, region, held, want[instancehub.TotalRegionalVCPUs])
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	check("created")
	for _, state := range []instancehub.State{instancehub.StateCreating, instancehub.StateCreateFailed, instancehub.StateRunning,
		instancehub.StateStopping, instancehub.StateStopped, instancehub.StateStarting, instancehub.StateRestarting,
		instancehub.StateUnusable, instancehub.StateUnknown, instancehub.StateMissing, instancehub.StateSetupFailed,
		instancehub.StateUserSetupFailed, instancehub.StateDeleting, instancehub.StateRunning} {
		if _, err := db.rawExec(ctx, `UPDATE instances SET state = ? WHERE id = ?`, string(state), inst.ID); err != nil {
			t.Fatal(err)
		}
		check("state " + string(state))
	}
	for _, change := range []struct{ what, query string }{
		{"moved to eastus", `UPDATE instances SET region = 'eastus' WHERE id = ?`},
		{"resized to a GPU", `UPDATE instances SET family = 'standardNCSv3Family', vcpus = 6 WHERE id = ?`},
		{"moved back", `UPDATE instances SET region = 'westeurope' WHERE id = ?`},
		{"renamed", `UPDATE instances SET name = 'renamed-1' WHERE id = ?`},
		{"its operations deleted", `DELETE FROM operations WHERE instance_id = ?`},
		{"its running intervals deleted", `DELETE FROM running_intervals WHERE instance_id = ?`},
		{"its schedules deleted", `DELETE FROM schedules WHERE instance_id = ?`},
		{"its row deleted", `DELETE FROM instances WHERE id = ?`},
	} {
		if _, err := db.rawExec(ctx, change.query, inst.ID); err != nil {
			t.Fatalf("%s: %v", change.what, err)
		}
		check(change.what)
	}
}

// TestLaterPagesReadOnlyAnIndex: a later page of everyone's list, by
// creation or by name, either way, skips the pages before it in an index
// that holds all the query reads (SQLite's plan says COVERING INDEX), not
// by reading each skipped instance's row.
func TestLaterPagesReadOnlyAnIndex(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	where, args := db.instanceWhere(instancehub.InstanceFilter{}, "")
	for _, sort := range []instancehub.InstanceSort{instancehub.SortCreatedDesc, instancehub.SortCreatedAsc, instancehub.SortNameAsc, instancehub.SortNameDesc} {
		rows, err := db.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+pageIDs(where, instanceOrders[sort]), append(args, 50, 1000)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX") {
			t.Errorf("sort %s: plan %q, want one scan of a covering index", sort, plan)
		}
	}
}
