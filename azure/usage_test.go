package azure_test

import (
	"context"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestUsageIsKeptBetweenThePortalsOperations: the quota page asks for a
// region's usage on every view; it is read from Azure once, and again as
// soon as an operation of the portal's may have changed it.
func TestUsageIsKeptBetweenThePortalsOperations(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	ctx := context.Background()
	used := func() int {
		usage, err := c.Usage(ctx, "eastus")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range usage {
			if u.Name == instancehub.TotalRegionalVCPUs {
				return u.Current
			}
		}
		t.Fatal("no regional total")
		return 0
	}
	before := used()
	calls := emu.Calls()
	for range 5 {
		if got := used(); got != before {
			t.Fatalf("usage changed from %d to %d with nothing done", before, got)
		}
	}
	if n := emu.Calls() - calls; n != 0 {
		t.Fatalf("five views of the usage made %d requests to Azure", n)
	}
	if err := run(t, c, instancehub.OpCreate, instance("usage-box", "Standard_DS3_v2", false)); err != nil {
		t.Fatal(err)
	}
	if got := used(); got != before+4 {
		t.Fatalf("after a create of 4 vCPUs the usage is %d, want %d", got, before+4)
	}
}
