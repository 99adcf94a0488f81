package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestAsyncFault: the LRO is accepted, then ends Failed with the injected
// code and message; the failed VM stays, as in Azure, until deleted.
func TestAsyncFault(t *testing.T) {
	k := newKit(t, emulator.Options{})
	nicID := k.network("ws1", "eastus")
	k.e.InjectFault(emulator.Fault{API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "other", Code: "Nope", Async: true})
	k.e.InjectFault(emulator.Fault{API: "VirtualMachinesClient.BeginCreateOrUpdate", Resource: "ws1", Code: "AllocationFailed",
		Message: "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.", Async: true})
	poller, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vmParams("ws1", "eastus", "Standard_NC6s_v3", nicID), nil)
	if err != nil {
		t.Fatalf("an async fault must not refuse the Begin: %v", err)
	}
	_, err = await(poller, nil)
	wantFailure(t, err, http.StatusOK, "AllocationFailed", "We do not have sufficient capacity")
	if got := k.states("ws1"); got != "failed/AllocationFailed/-" {
		t.Errorf("failed VM states %s", got)
	}
	try(await(k.vms.BeginDelete(ctx, k.rg, "ws1", nil))).must(t)
}

// TestSyncFault: the Begin itself is refused with status, code and message;
// only the named resource is affected, and only once.
func TestSyncFault(t *testing.T) {
	k := newKit(t, emulator.Options{})
	k.e.InjectFault(emulator.Fault{API: "InterfacesClient.BeginCreateOrUpdate", Resource: "nic2", StatusCode: http.StatusConflict,
		Code: "AnotherOperationInProgress", Message: "Another operation on this or dependent resource is in progress."})
	k.bareNIC("nic1", "eastus", "default")
	_, err := k.nics.BeginCreateOrUpdate(ctx, k.rg, "nic2", nicParams("eastus", k.subnetID("eastus", "default"), "", ""), nil)
	wantFailure(t, err, http.StatusConflict, "AnotherOperationInProgress", "dependent resource is in progress")
	k.bareNIC("nic2", "eastus", "default") // the fault is used up
}

// TestThrottledRead: a 429 reaches azcore's retry policy like real ARM's.
func TestThrottledRead(t *testing.T) {
	k := newKit(t, emulator.Options{})
	opts := k.e.ClientOptions()
	opts.Retry.RetryDelay = time.Millisecond
	vnets := try(armnetwork.NewVirtualNetworksClient(k.e.SubscriptionID(), k.e.Credential(), opts)).must(t)
	k.e.InjectFault(emulator.Fault{API: "VirtualNetworksClient.Get", StatusCode: http.StatusTooManyRequests, Code: "TooManyRequests"})
	try(vnets.Get(ctx, k.rg, "vnet-eastus", nil)).must(t)
	if n := k.e.CallsTo("VirtualNetworksClient.Get"); n != 2 {
		t.Errorf("%d calls, want a retry after the 429", n)
	}
}

// TestLatencyHonoursContext: a caller that gives up is not kept waiting.
func TestLatencyHonoursContext(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 100}) // 3 s per read
	c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := k.vnets.Get(c, k.rg, "vnet-eastus", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("got %v after %s", err, time.Since(start))
	}
}
