package emulator_test

import (
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// TestResumeAfterRestart: a process that restarts mid-operation resumes its
// pollers from resume tokens against a new emulator on the same file.
func TestResumeAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.json")
	opts := emulator.Options{Path: path, Latency: 0.05} // create 400 ms, start 200 ms
	k := newKit(t, opts)
	nicID := k.network("ws1", "eastus")
	create := try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vmParams("ws1", "eastus", "Standard_DS2_v2", nicID), nil)).must(t)
	token := try(create.ResumeToken()).must(t)
	k = restart(t, k, opts)

	create = try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", armcompute.VirtualMachine{},
		&armcompute.VirtualMachinesClientBeginCreateOrUpdateOptions{ResumeToken: token})).must(t)
	if create.Done() {
		t.Fatal("the create should still be running after the restart")
	}
	vm := try(await(create, nil)).must(t)
	if *vm.Properties.ProvisioningState != "Succeeded" || *vm.Name != "ws1" {
		t.Errorf("resumed create ended with %s %s", *vm.Name, *vm.Properties.ProvisioningState)
	}

	try(await(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil))).must(t)
	start := try(k.vms.BeginStart(ctx, k.rg, "ws1", nil)).must(t)
	token = try(start.ResumeToken()).must(t)
	k = restart(t, k, opts)
	if got := k.states("ws1"); got != "updating/starting" {
		t.Errorf("after restart: %s", got)
	}
	try(await(k.vms.BeginStart(ctx, k.rg, "ws1", &armcompute.VirtualMachinesClientBeginStartOptions{ResumeToken: token}))).must(t)
	if got := k.states("ws1"); got != "succeeded/running" {
		t.Errorf("after resumed start: %s", got)
	}
}

// restart closes the kit's emulator and opens a new one on the same file.
func restart(t *testing.T, k *kit, opts emulator.Options) *kit {
	t.Helper()
	if err := k.e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.vms.Get(ctx, k.rg, "ws1", nil); err == nil {
		t.Fatal("a closed emulator should refuse requests")
	}
	return newKit(t, opts)
}

// TestPersistence: VMs, their network and finished deletions outlive the
// emulator; a deleted VM's name can be used again.
func TestPersistence(t *testing.T) {
	opts := emulator.Options{Path: filepath.Join(t.TempDir(), "cloud.json")}
	k := newKit(t, opts)
	k.workstation("keep", "westeurope", "Standard_E4s_v3")
	k.workstation("gone", "westeurope", "Standard_E4s_v3")
	del := try(k.vms.BeginDelete(ctx, k.rg, "gone", nil)).must(t)
	token := try(del.ResumeToken()).must(t)
	k = restart(t, k, opts)

	try(await(k.vms.BeginDelete(ctx, k.rg, "gone", &armcompute.VirtualMachinesClientBeginDeleteOptions{ResumeToken: token}))).must(t)
	if got := k.states("keep"); got != "succeeded/running" {
		t.Errorf("kept VM: %s", got)
	}
	nic := try(k.nics.Get(ctx, k.rg, "keep-nic", nil)).must(t)
	if ip := *nic.Properties.IPConfigurations[0].Properties.PrivateIPAddress; ip != "10.2.1.4" {
		t.Errorf("kept NIC address %s", ip)
	}
	if got := k.usageOf("westeurope", "standardESv3Family"); got != 4 {
		t.Errorf("usage after restart %d, want 4", got)
	}
	if _, err := k.nics.Get(ctx, k.rg, "gone-nic", nil); err == nil {
		t.Error("the deleted VM's NIC (deleteOption Delete) should be gone")
	}
	k.workstation("gone", "westeurope", "Standard_E4s_v3")
}

// TestOpenRefusesOtherResourceGroup: a file belongs to one resource group.
func TestOpenRefusesOtherResourceGroup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.json")
	e := try(emulator.Open(emulator.Options{Path: path})).must(t)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := emulator.Open(emulator.Options{Path: path, ResourceGroup: "other"}); err == nil {
		t.Error("want an error opening another resource group's file")
	}
	if _, err := emulator.Open(emulator.Options{Quota: map[string]map[string]int{"mars": {"cores": 1}}}); err == nil {
		t.Error("want an error for quota of an unknown region")
	}
}
