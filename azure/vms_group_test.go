package azure_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// TestSyncListsTheGroupOnly: the sync reads the VMs of the portal's resource
// group, with their instance views, as adoption does, and never the
// subscription's: a role holding no VM read on the subscription, which the
// role no longer grants, is refused that list (403) and the sync still
// reads every power state.
func TestSyncListsTheGroupOnly(t *testing.T) {
	var asked []string
	a := subscription(t, map[string]string{
		"GET /subscriptions/sub-1/providers/Microsoft.Compute/virtualMachines": `403 {"error":{"code":"AuthorizationFailed","message":"The client 'portal' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read' over scope '/subscriptions/sub-1'."}}`,
		"GET /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines": `{"value":[` +
			`{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/ada-box","name":"ada-box","location":"eastus",` +
			`"properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/running"}]}}},` +
			`{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/bob-box","name":"bob-box","location":"eastus",` +
			`"properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/deallocated"}]}}}]}`,
	})
	inner := a.Config.Handler
	a.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		inner.ServeHTTP(w, r)
	})
	var got []string
	err := loopbackCloud(t, a).VMs(context.Background(), func(vm instancehub.VM) {
		got = append(got, vm.Name+" "+vm.ProvisioningState+" "+vm.PowerState)
	})
	if err != nil {
		t.Fatalf("sync: %v (asked %v)", err, asked)
	}
	if want := []string{"ada-box succeeded running", "bob-box succeeded deallocated"}; !slices.Equal(got, want) {
		t.Errorf("read %q, want %q", got, want)
	}
	for _, req := range asked {
		if !strings.Contains(req, "/resourceGroups/rg-1/") || !strings.Contains(req, "%24expand=instanceView") {
			t.Errorf("asked %s, want the group's list with instance views only", req)
		}
	}
	if slices.Contains(azure.SubscriptionActions, "Microsoft.Compute/virtualMachines/read") {
		t.Error("the subscription role still reads every VM of the subscription")
	}
	if !slices.Contains(azure.ResourceGroupActions, "Microsoft.Compute/virtualMachines/read") {
		t.Error("the group role lost the VM read the sync needs")
	}
}

// TestAVMListedWithoutItsInstanceViewIsAskedForIt: Compute documents the
// list's $expand=instanceView for a $filter only, so a subscription may
// answer the group's list without instance views. The sync and adoption then
// read each VM's own instance view, and never take a VM with no view for one
// in no state.
func TestAVMListedWithoutItsInstanceViewIsAskedForIt(t *testing.T) {
	a := subscription(t, map[string]string{
		"GET /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines": `{"value":[` +
			`{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/ada-box","name":"ada-box","location":"eastus",` +
			`"tags":{"instancehub-portal":"portal-1"},"properties":{"provisioningState":"Succeeded"}},` +
			`{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/gone-box","name":"gone-box","location":"eastus",` +
			`"properties":{"provisioningState":"Succeeded"}}]}`,
		"GET /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/ada-box/instanceView": `{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/deallocated"}]}`,
	})
	var got []string
	err := loopbackCloud(t, a).VMs(context.Background(), func(vm instancehub.VM) {
		got = append(got, vm.Name+" "+vm.ProvisioningState+" "+vm.PowerState)
	})
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if want := []string{"ada-box succeeded deallocated"}; !slices.Equal(got, want) {
		t.Errorf("read %q, want %q (a VM gone between the list and its view is left out)", got, want)
	}
}

// TestThePrimaryIPConfigurationGivesTheAddresses: an interface with a
// secondary IP configuration listed first (an operator added it to an
// adopted VM) still gives the instance the primary's addresses, the ones
// Azure routes its traffic by; the portal read the first listed before.
func TestThePrimaryIPConfigurationGivesTheAddresses(t *testing.T) {
	a := subscription(t, map[string]string{
		"GET /virtualMachines/two-box": `{"name":"two-box","properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/running"}]}}}`,
		"GET /networkInterfaces/two-box-nic": `{"name":"two-box-nic","properties":{"ipConfigurations":[` +
			`{"name":"extra","properties":{"primary":false,"privateIPAddress":"10.0.0.9"}},` +
			`{"name":"ipconfig1","properties":{"primary":true,"privateIPAddress":"10.0.0.4",` +
			`"publicIPAddress":{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/publicIPAddresses/two-box-ip"}}}]}}`,
		"GET /publicIPAddresses/two-box-ip": `{"name":"two-box-ip","properties":{"ipAddress":"20.1.2.3"}}`,
	})
	vm, err := loopbackCloud(t, a).VM(context.Background(), &instancehub.Instance{Name: "two-box"})
	if err != nil {
		t.Fatal(err)
	}
	if vm.PrivateIP != "10.0.0.4" || vm.PublicIP != "20.1.2.3" {
		t.Errorf("addresses %s and %s, want the primary configuration's 10.0.0.4 and 20.1.2.3", vm.PrivateIP, vm.PublicIP)
	}
}
