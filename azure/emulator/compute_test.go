package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/instancehub/instancehub/azure/emulator"
)

// started adapts a Begin call so a table can hold LROs of any result type.
func started[T any](p *runtime.Poller[T], err error) (func() error, error) {
	return func() error { _, err := await(p, nil); return err }, err
}

// TestWorkstationLifecycle walks a workstation through create, deallocate,
// start, restart and delete, reading power states from the instance view
// while each operation runs and after it ends.
func TestWorkstationLifecycle(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 0.02}) // create 160 ms, actions 80 ms
	nicID := k.network("ws1", "eastus")
	create, err := started(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vmParams("ws1", "eastus", "Standard_NC6s_v3", nicID), nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.states("ws1"); got != "creating/-" {
		t.Fatalf("while creating: %s", got)
	}
	if err := create(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name          string
		begin         func() (func() error, error)
		during, after string
	}{
		{"create", nil, "", "succeeded/running"},
		{"deallocate", func() (func() error, error) { return started(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil)) }, "updating/deallocating", "succeeded/deallocated"},
		{"start", func() (func() error, error) { return started(k.vms.BeginStart(ctx, k.rg, "ws1", nil)) }, "updating/starting", "succeeded/running"},
		{"restart", func() (func() error, error) { return started(k.vms.BeginRestart(ctx, k.rg, "ws1", nil)) }, "updating/starting", "succeeded/running"},
		{"delete", func() (func() error, error) { return started(k.vms.BeginDelete(ctx, k.rg, "ws1", nil)) }, "deleting/running", ""},
	}
	for _, s := range steps {
		if s.begin != nil {
			wait, err := s.begin()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got := k.states("ws1"); got != s.during {
				t.Errorf("during %s: %s, want %s", s.name, got, s.during)
			}
			if err := wait(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if s.after == "" {
			_, err := k.vms.Get(ctx, k.rg, "ws1", nil)
			wantFailure(t, err, http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/ws1' under resource group 'instancehub' was not found.")
		} else if got := k.states("ws1"); got != s.after {
			t.Errorf("after %s: %s, want %s", s.name, got, s.after)
		}
	}
}

// TestVMKeepsWhatWasSent checks GET returns the request as ARM would —
// tags, profiles, delete options, no secrets — and RequestBody keeps the rest.
func TestVMKeepsWhatWasSent(t *testing.T) {
	k := newKit(t, emulator.Options{})
	created := k.workstation("ws1", "westeurope", "Standard_D4s_v3")
	if *created.Properties.ProvisioningState != "Succeeded" {
		t.Errorf("PUT result provisioningState %s", *created.Properties.ProvisioningState)
	}
	vm := try(k.vms.Get(ctx, k.rg, "ws1", &armcompute.VirtualMachinesClientGetOptions{Expand: to.Ptr(armcompute.InstanceViewTypesInstanceView)})).must(t)
	p := vm.Properties
	checks := map[string][2]string{
		"id":           {*vm.ID, vmID(k.e, "ws1")},
		"tag owner":    {*vm.Tags["owner"], "ada"},
		"size":         {string(*p.HardwareProfile.VMSize), "Standard_D4s_v3"},
		"disk delete":  {string(*p.StorageProfile.OSDisk.DeleteOption), "Delete"},
		"exactVersion": {*p.StorageProfile.ImageReference.ExactVersion, "25.04.22"},
		"nic delete":   {string(*p.NetworkProfile.NetworkInterfaces[0].Properties.DeleteOption), "Delete"},
		"ssh key":      {*p.OSProfile.LinuxConfiguration.SSH.PublicKeys[0].KeyData, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample ada"},
		"statuses":     {statesOf(p.InstanceView.Statuses), "succeeded/running"},
		"computerName": {*p.InstanceView.ComputerName, "ws1"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", name, c[0], c[1])
		}
	}
	if p.OSProfile.CustomData != nil || p.VMID == nil {
		t.Errorf("GET should drop customData and set vmId: %+v", p.OSProfile)
	}
	raw, found := k.e.RequestBody("virtualMachines", "ws1")
	var sent armcompute.VirtualMachine
	if !found || json.Unmarshal(raw, &sent) != nil {
		t.Fatalf("RequestBody: %s", raw)
	}
	if data, _ := base64.StdEncoding.DecodeString(*sent.Properties.OSProfile.CustomData); string(data) != cloudInit {
		t.Errorf("sent custom data %q", data)
	}
}

// TestVMRefusals covers what compute refuses synchronously.
func TestVMRefusals(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 0.02}) // create 160 ms
	k.workstation("ready", "eastus", "Standard_DS1_v2")
	other := k.bareNIC("spare", "westeurope", "default")
	noPassword := vmParams("x", "eastus", "Standard_DS1_v2", k.bareNIC("spare2", "eastus", "default"))
	noPassword.Properties.OSProfile.LinuxConfiguration.DisablePasswordAuthentication = to.Ptr(false)
	nicID := k.network("busy", "eastus")
	try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "busy", vmParams("busy", "eastus", "Standard_DS1_v2", nicID), nil)).must(t)
	tests := []struct {
		name     string
		call     func() error
		status   int
		code     string
		fragment string
	}{
		{"start while creating", func() error { _, err := k.vms.BeginStart(ctx, k.rg, "busy", nil); return err },
			http.StatusConflict, "OperationNotAllowed", "Operation 'start' is not allowed on VM 'busy' since another operation is in progress ('create')"},
		{"delete while creating", func() error { _, err := k.vms.BeginDelete(ctx, k.rg, "busy", nil); return err },
			http.StatusConflict, "OperationNotAllowed", "another operation is in progress ('create')"},
		{"restart deallocated", func() error {
			try(await(k.vms.BeginDeallocate(ctx, k.rg, "ready", nil))).must(t)
			_, err := k.vms.BeginRestart(ctx, k.rg, "ready", nil)
			return err
		}, http.StatusConflict, "OperationNotAllowed", "since the VM is deallocated"},
		{"missing VM", func() error { _, err := k.vms.BeginStart(ctx, k.rg, "nope", nil); return err },
			http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/nope' under resource group 'instancehub' was not found."},
		{"other resource group", func() error { _, err := k.vms.Get(ctx, "elsewhere", "ready", nil); return err },
			http.StatusNotFound, "ResourceGroupNotFound", "Resource group 'elsewhere' could not be found."},
		{"size not in region", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "big", vmParams("big", "westeurope", "Standard_NC24s_v3", other), nil)
			return err
		}, http.StatusConflict, "SkuNotAvailable", "Standard_NC24s_v3' is currently not available in location 'westeurope'"},
		{"NIC in other region", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "far", vmParams("far", "eastus", "Standard_DS1_v2", other), nil)
			return err
		}, http.StatusBadRequest, "InvalidParameter", "is in location 'westeurope' but virtual machine 'far' is in 'eastus'"},
		{"NIC missing", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "lost", vmParams("lost", "eastus", "Standard_DS1_v2", strings.Replace(other, "spare", "gone", 1)), nil)
			return err
		}, http.StatusBadRequest, "InvalidParameter", "networkInterfaces/gone' referenced by virtual machine 'lost' was not found"},
		{"NIC of another VM", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "thief", vmParams("thief", "eastus", "Standard_DS1_v2", nicID), nil)
			return err
		}, http.StatusBadRequest, "NicInUse", "is in use by virtual machine"},
		{"unknown region", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "moon", vmParams("moon", "moonbase", "Standard_DS1_v2", other), nil)
			return err
		}, http.StatusBadRequest, "LocationNotAvailableForResourceType", "'moonbase' is not available"},
		{"password auth without password", func() error {
			_, err := k.vms.BeginCreateOrUpdate(ctx, k.rg, "x", noPassword, nil)
			return err
		}, http.StatusBadRequest, "InvalidParameter", "Required parameter 'adminPassword' is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantFailure(t, tt.call(), tt.status, tt.code, tt.fragment) })
	}
}

// TestDeleteInProgress: a VM being deleted refuses everything but another
// delete, which joins the first.
func TestDeleteInProgress(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 0.02})
	k.workstation("ws1", "eastus", "Standard_DS2_v2")
	first := try(k.vms.BeginDelete(ctx, k.rg, "ws1", nil)).must(t)
	_, err := k.vms.BeginStart(ctx, k.rg, "ws1", nil)
	wantFailure(t, err, http.StatusConflict, "OperationNotAllowed", "Operation 'start' is not allowed on VM 'ws1' since the VM is marked for deletion")
	second, err := k.vms.BeginDelete(ctx, k.rg, "ws1", nil)
	if err != nil {
		t.Fatal(err)
	}
	try(await(second, nil)).must(t)
	try(await(first, nil)).must(t)
	// the name is free again
	k.workstation("ws1", "eastus", "Standard_DS2_v2")
}

// TestIdempotentCalls: starting a running VM, deallocating a deallocated one
// and re-PUTting an unchanged VM finish at once, as in Azure.
func TestIdempotentCalls(t *testing.T) {
	k := newKit(t, emulator.Options{})
	vm := k.workstation("ws1", "eastus", "Standard_DS2_v2")
	start := try(k.vms.BeginStart(ctx, k.rg, "ws1", nil)).must(t)
	if !start.Done() {
		t.Error("start of a running VM should finish at once")
	}
	vm.Properties.OSProfile.CustomData = nil // a PUT of what GET returned
	put := try(k.vms.BeginCreateOrUpdate(ctx, k.rg, "ws1", vm, nil)).must(t)
	if !put.Done() {
		t.Error("an unchanged PUT should finish at once")
	}
	try(await(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil))).must(t)
	if p := try(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil)).must(t); !p.Done() {
		t.Error("deallocate of a deallocated VM should finish at once")
	}
}

// TestDeletePreemptsStart: a delete is accepted while a VM starts, as
// compute lets it preempt a power action; the start's poller then hears
// ResourceNotFound, and the delete ends with the VM gone.
func TestDeletePreemptsStart(t *testing.T) {
	k := newKit(t, emulator.Options{Latency: 0.25}) // a start ≈ 1 s
	k.workstation("ws1", "eastus", "Standard_DS1_v2")
	try(await(k.vms.BeginDeallocate(ctx, k.rg, "ws1", nil))).must(t)
	start := try(k.vms.BeginStart(ctx, k.rg, "ws1", nil)).must(t)
	del := try(k.vms.BeginDelete(ctx, k.rg, "ws1", nil)).must(t)
	_, err := start.Poll(ctx)
	wantFailure(t, err, http.StatusNotFound, "ResourceNotFound", "virtualMachines/ws1")
	try(await(del, nil)).must(t)
	_, err = k.vms.Get(ctx, k.rg, "ws1", nil)
	wantFailure(t, err, http.StatusNotFound, "ResourceNotFound", "ws1")
}
