package emulator_test

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub/azure/emulator"
)

// TestCancelledRequestsDoNotCrash cancels network requests at every moment
// of their life. The armnetwork fakes panic ("send on closed channel") when
// their caller's context ends while they run; the emulator must shield them.
func TestCancelledRequestsDoNotCrash(t *testing.T) {
	e, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	vnets, err := armnetwork.NewVirtualNetworksClient(e.SubscriptionID(), e.Credential(), e.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%40)*time.Microsecond)
		_, _ = vnets.Get(ctx, e.ResourceGroup(), "vnet-eastus", nil)
		cancel()
	}
	// Still serving.
	if _, err := vnets.Get(context.Background(), e.ResourceGroup(), "vnet-eastus", nil); err != nil {
		t.Fatal(err)
	}
}
