package emulator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestDefaultNetworks: one virtual network per region, with two subnets.
func TestDefaultNetworks(t *testing.T) {
	k := newKit(t, emulator.Options{})
	var names []string
	pager := k.vnets.NewListPager(k.rg, nil)
	for pager.More() {
		for _, v := range try(pager.NextPage(ctx)).must(t).Value {
			names = append(names, *v.Name+"="+*v.Properties.AddressSpace.AddressPrefixes[0]+"@"+*v.Location)
		}
	}
	if got := strings.Join(names, " "); got != "vnet-eastus=10.1.0.0/16@eastus vnet-southeastasia=10.3.0.0/16@southeastasia vnet-westeurope=10.2.0.0/16@westeurope" {
		t.Errorf("networks: %s", got)
	}
	s := try(k.subnets.Get(ctx, k.rg, "vnet-westeurope", "workstations", nil)).must(t)
	if *s.Properties.AddressPrefix != "10.2.1.0/24" {
		t.Errorf("workstations subnet %s", *s.Properties.AddressPrefix)
	}
	_, err := k.subnets.Get(ctx, k.rg, "vnet-westeurope", "nope", nil)
	wantFailure(t, err, http.StatusNotFound, "NotFound", "virtualNetworks/vnet-westeurope/subnets/nope not found")
}

// TestNICAddresses: NICs get the subnet's next free address from .4, keep it
// across updates, and hand it back when deleted.
func TestNICAddresses(t *testing.T) {
	k := newKit(t, emulator.Options{})
	nicID := k.network("ws1", "eastus")
	nic := try(k.nics.Get(ctx, k.rg, "ws1-nic", nil)).must(t)
	ipc := nic.Properties.IPConfigurations[0].Properties
	pip := try(k.pips.Get(ctx, k.rg, "ws1-ip", nil)).must(t)
	if *ipc.PrivateIPAddress != "10.1.1.4" || *ipc.PublicIPAddress.ID != *pip.ID || *nic.Properties.NetworkSecurityGroup.ID == "" {
		t.Errorf("NIC address %s, public IP %v", *ipc.PrivateIPAddress, *ipc.PublicIPAddress.ID)
	}
	if !strings.HasPrefix(*pip.Properties.IPAddress, "20.121.") || *pip.Properties.IPConfiguration.ID != *nic.Properties.IPConfigurations[0].ID {
		t.Errorf("public IP %s attached to %v", *pip.Properties.IPAddress, pip.Properties.IPConfiguration)
	}
	second := k.bareNIC("second", "eastus", "workstations")
	if ip := k.privateIP("second"); ip != "10.1.1.5" {
		t.Errorf("second NIC %s", ip)
	}
	try(await(k.nics.BeginCreateOrUpdate(ctx, k.rg, "ws1-nic", nic.Interface, nil))).must(t) // an update keeps the address
	if ip := k.privateIP("ws1-nic"); ip != "10.1.1.4" {
		t.Errorf("updated NIC %s", ip)
	}
	try(await(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vmParams("ws1", "eastus", "Standard_DS1_v2", nicID), nil))).must(t)
	if vm := try(k.nics.Get(ctx, k.rg, "ws1-nic", nil)).must(t).Properties.VirtualMachine; vm == nil || *vm.ID != vmID(k.e, "ws1") {
		t.Errorf("NIC should name its VM: %v", vm)
	}
	try(await(k.nics.BeginDelete(ctx, k.rg, "second", nil))).must(t)
	k.bareNIC("third", "eastus", "workstations")
	if ip := k.privateIP("third"); ip != "10.1.1.5" {
		t.Errorf("third NIC %s, want the freed 10.1.1.5 (second was %s)", ip, second)
	}
	tag := try(k.nsgs.Get(ctx, k.rg, "ws1-nsg", nil)).must(t).Tags["instancehub"]
	if tag == nil || *tag != "true" {
		t.Error("NSG tags were not kept")
	}
}

func (k *kit) privateIP(nic string) string {
	k.t.Helper()
	n := try(k.nics.Get(ctx, k.rg, nic, nil)).must(k.t)
	return *n.Properties.IPConfigurations[0].Properties.PrivateIPAddress
}

// TestNetworkRefusals: what the network resource provider refuses.
func TestNetworkRefusals(t *testing.T) {
	k := newKit(t, emulator.Options{})
	k.workstation("ws1", "eastus", "Standard_DS1_v2")
	farNSG := try(await(k.nsgs.BeginCreateOrUpdate(ctx, k.rg, "far-nsg", nsgParams("westeurope"), nil))).must(t)
	takenIP := try(k.pips.Get(ctx, k.rg, "ws1-ip", nil)).must(t)
	static := nicParams("eastus", k.subnetID("eastus", "workstations"), "", "")
	static.Properties.IPConfigurations[0].Properties.PrivateIPAllocationMethod = to.Ptr(armnetwork.IPAllocationMethodStatic)
	static.Properties.IPConfigurations[0].Properties.PrivateIPAddress = to.Ptr("10.1.1.4")
	badRule := nsgParams("eastus")
	badRule.Properties.SecurityRules[0].Properties.Priority = to.Ptr[int32](50)
	putNIC := func(name string, nic armnetwork.Interface) func() error {
		return func() error { _, err := k.nics.BeginCreateOrUpdate(ctx, k.rg, name, nic, nil); return err }
	}
	tests := []struct {
		name     string
		call     func() error
		status   int
		code     string
		fragment string
	}{
		{"delete NIC of a VM", func() error { _, err := k.nics.BeginDelete(ctx, k.rg, "ws1-nic", nil); return err },
			http.StatusBadRequest, "NicInUse", "networkInterfaces/ws1-nic is used by existing resource " + vmID(k.e, "ws1")},
		{"delete attached public IP", func() error { _, err := k.pips.BeginDelete(ctx, k.rg, "ws1-ip", nil); return err },
			http.StatusBadRequest, "PublicIPAddressCannotBeDeleted", "can not be deleted since it is still allocated to resource"},
		{"delete NSG in use", func() error { _, err := k.nsgs.BeginDelete(ctx, k.rg, "ws1-nsg", nil); return err },
			http.StatusBadRequest, "InUseNetworkSecurityGroupCannotBeDeleted", "cannot be deleted because it is in use by the following resources"},
		{"delete missing", func() error { _, err := k.pips.BeginDelete(ctx, k.rg, "nope", nil); return err },
			http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.Network/publicIPAddresses/nope' under resource group 'instancehub' was not found."},
		{"NSG in other region", putNIC("n1", nicParams("eastus", k.subnetID("eastus", "default"), *farNSG.ID, "")),
			http.StatusBadRequest, "InvalidResourceReference", "both resources are in the same region"},
		{"public IP of another NIC", putNIC("n2", nicParams("eastus", k.subnetID("eastus", "default"), "", *takenIP.ID)),
			http.StatusBadRequest, "PublicIPAddressInUse", "is already in use by"},
		{"taken static address", putNIC("n3", static),
			http.StatusBadRequest, "PrivateIPAddressInUse", "10.1.1.4"},
		{"subnet of other region", putNIC("n4", nicParams("eastus", k.subnetID("westeurope", "default"), "", "")),
			http.StatusBadRequest, "InvalidResourceReference", "virtualNetworks/vnet-westeurope/subnets/default referenced by resource"},
		{"rule priority", func() error { _, err := k.nsgs.BeginCreateOrUpdate(ctx, k.rg, "bad", badRule, nil); return err },
			http.StatusBadRequest, "SecurityRuleInvalidPriority", "Value provided: 50 Allowed range 100-4096"},
		{"delete subnet in use", func() error {
			vnet := try(k.vnets.Get(ctx, k.rg, "vnet-eastus", nil)).must(t)
			vnet.Properties.Subnets = vnet.Properties.Subnets[:1] // drop "workstations"
			_, err := k.vnets.BeginCreateOrUpdate(ctx, k.rg, "vnet-eastus", vnet.VirtualNetwork, nil)
			return err
		}, http.StatusBadRequest, "InUseSubnetCannotBeDeleted", "Subnet workstations is in use by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantFailure(t, tt.call(), tt.status, tt.code, tt.fragment) })
	}

	// Deleting the VM takes its NIC (deleteOption Delete); then all goes.
	try(await(k.vms.BeginDelete(ctx, k.rg, "ws1", nil))).must(t)
	try(await(k.pips.BeginDelete(ctx, k.rg, "ws1-ip", nil))).must(t)
	try(await(k.nsgs.BeginDelete(ctx, k.rg, "ws1-nsg", nil))).must(t)
}

// TestNICWaitsForItsNetwork: while a virtual network is being written, a NIC
// PUT into one of its subnets is refused as busy, as the network resource
// provider does; once the network is written, the same PUT is accepted.
func TestNICWaitsForItsNetwork(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 0.5}) // a network PUT ≈ 1 s
	vnet := try(k.vnets.Get(ctx, k.rg, "vnet-eastus", nil)).must(t)
	update := try(k.vnets.BeginCreateOrUpdate(ctx, k.rg, "vnet-eastus", vnet.VirtualNetwork, nil)).must(t)
	nic := nicParams("eastus", k.subnetID("eastus", "default"), "", "")
	_, err := k.nics.BeginCreateOrUpdate(ctx, k.rg, "early-nic", nic, nil)
	wantFailure(t, err, http.StatusConflict, "AnotherOperationInProgress", "virtualNetworks/vnet-eastus")
	try(await(update, nil)).must(t)
	try(await(k.nics.BeginCreateOrUpdate(ctx, k.rg, "early-nic", nic, nil))).must(t)
}
