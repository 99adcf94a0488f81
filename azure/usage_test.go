package azure_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

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

// TestCreatesCountTheirVMsInTheKeptUsage: the service admits creates one at
// a time, each reading the region's usage; a create counts its VM in the
// kept usage when Azure accepts it, instead of sending every next create
// to Azure for the usage again. What Azure says afterwards agrees.
func TestCreatesCountTheirVMsInTheKeptUsage(t *testing.T) {
	c, emu := newCloud(t, emulator.Options{})
	ctx := context.Background()
	used := func() map[string]int {
		usage, err := c.Usage(ctx, "eastus")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, u := range usage {
			m[u.Name] = u.Current
		}
		return m
	}
	before := used()
	reads := emu.CallsTo("UsageClient.NewListPager")
	for i := range 3 {
		inst := instance(fmt.Sprintf("counted-%d", i), "Standard_DS3_v2", false)
		inst.Family, inst.VCPUs = "standardDSv2Family", 4
		if err := run(t, c, instancehub.OpCreate, inst); err != nil {
			t.Fatal(err)
		}
		got := used()
		if got[instancehub.TotalRegionalVCPUs] != before[instancehub.TotalRegionalVCPUs]+4*(i+1) || got["standardDSv2Family"] != before["standardDSv2Family"]+4*(i+1) {
			t.Fatalf("after %d creates of 4 vCPUs the usage is %v, want 4 each more than %v", i+1, got, before)
		}
	}
	if n := emu.CallsTo("UsageClient.NewListPager") - reads; n != 0 {
		t.Errorf("three creates made %d reads of the usage from Azure, want none", n)
	}
	client, err := armcompute.NewUsageClient(emu.SubscriptionID(), emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	page, err := client.NewListPager("eastus", nil).NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept := used()
	for _, u := range page.Value {
		if k, ok := kept[*u.Name.Value]; ok && k != int(*u.CurrentValue) {
			t.Errorf("%s: kept %d in use, Azure says %d", *u.Name.Value, k, *u.CurrentValue)
		}
	}
}
