package engine_test

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure/emulator"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestCreateFailsAtEachStep injects Azure's refusal at each step of a
// create in turn: the instance ends CreateFailed naming the step and Azure's
// message, and Delete then removes whatever the steps before it made.
func TestCreateFailsAtEachStep(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	network, err := armnetwork.NewClientFactory(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	rg := p.Emu.ResourceGroup()
	steps := []struct {
		step, api, resource string
	}{
		{"virtual network", "VirtualNetworksClient.BeginCreateOrUpdate", "instancehub-eastus"},
		{"network security group", "SecurityGroupsClient.BeginCreateOrUpdate", "fail-b-nsg"},
		{"public IP address", "PublicIPAddressesClient.BeginCreateOrUpdate", "fail-c-ip"},
		{"network interface", "InterfacesClient.BeginCreateOrUpdate", "fail-d-nic"},
		{"virtual machine", "VirtualMachinesClient.BeginCreateOrUpdate", "fail-e"},
	}
	for i, s := range steps {
		name := "fail-" + string(rune('a'+i))
		t.Run(s.step, func(t *testing.T) {
			message := "Injected refusal at the " + s.step + "."
			p.Emu.InjectFault(emulator.Fault{API: s.api, Resource: s.resource, StatusCode: 400, Code: "InvalidParameter", Message: message})
			req := testportal.Request(name)
			req.SSHEnabled, req.SSHPublicKey = true, testportal.SSHKey
			if _, err := p.Service.CreateInstance(p.Ctx, req); err != nil {
				t.Fatal(err)
			}
			inst := p.WaitState(t, name, instancehub.StateCreateFailed)
			op := inst.LastOperation
			if op.Step != s.step || op.ErrorCode != "InvalidParameter" || op.ErrorMessage != message {
				t.Fatalf("failed create: step %q, %s %q", op.Step, op.ErrorCode, op.ErrorMessage)
			}
			// What the steps before made is gone already; the row stays
			// with its error until it is deleted.
			for what, err := range leftovers(p, network, vms, name) {
				if !notFound(err) {
					t.Errorf("%s left after the failed create: %v", what, err)
				}
			}
			if _, err := p.Service.Act(p.Ctx, name, instancehub.OpDelete); err != nil {
				t.Fatal(err)
			}
			p.WaitGone(t, name)
		})
	}
	// The shared network, made by the second create, stays for the next ones.
	if _, err := network.NewVirtualNetworksClient().Get(p.Ctx, rg, "instancehub-eastus", nil); err != nil {
		t.Errorf("the shared network: %v", err)
	}
}

// leftovers reads each Azure resource an instance may have, by kind.
func leftovers(p *testportal.Portal, network *armnetwork.ClientFactory, vms *armcompute.VirtualMachinesClient, name string) map[string]error {
	ctx, rg := p.Ctx, p.Emu.ResourceGroup()
	return map[string]error{
		"VM":  second(vms.Get(ctx, rg, name, nil)),
		"NIC": second(network.NewInterfacesClient().Get(ctx, rg, name+"-nic", nil)),
		"IP":  second(network.NewPublicIPAddressesClient().Get(ctx, rg, name+"-ip", nil)),
		"NSG": second(network.NewSecurityGroupsClient().Get(ctx, rg, name+"-nsg", nil)),
	}
}

func notFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

func second[T any](_ T, err error) error { return err }

// TestConcurrentFirstCreates: twenty creates at once on a fresh cloud all
// need the region's shared network, which the first one makes; Azure
// refuses writes into a network being written as busy. All end Running.
func TestConcurrentFirstCreates(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0.1) // the network ≈ 0.2 s, a VM ≈ 0.8 s
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			req := testportal.Request(fmt.Sprintf("first-%c", 'a'+i))
			req.VMSize = "Standard_DS1_v2"
			_, err := p.Service.CreateInstance(p.Ctx, req)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err, instancehub.ErrorFields(err))
		}
	}
	for i := range n {
		name := fmt.Sprintf("first-%c", 'a'+i)
		deadline := time.Now().Add(30 * time.Second)
		for {
			inst, err := p.DB.FindInstanceByName(p.Ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if inst.State == instancehub.StateRunning {
				break
			}
			if !inst.State.Transitional() || time.Now().After(deadline) {
				op := inst.LastOperation
				t.Fatalf("%s: %s at step %q: %s %s", name, inst.State, op.Step, op.ErrorCode, op.ErrorMessage)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestFailedVMStepCleansUp: Azure refuses the VM for quota after the
// network interface, security group and public IP were made: they are
// removed at once, and the instance keeps Azure's refusal until deleted.
func TestFailedVMStepCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := testportal.OpenWith(t, dir, emulator.Options{
		Path: filepath.Join(dir, "emulator.json"), Quota: map[string]map[string]int{"eastus": {"standardNCSv3Family": 0}},
	})
	// Past the portal's own quota check, as when the quota is taken
	// between the form and the VM.
	inst := &instancehub.Instance{
		Name: "no-cores", Region: "eastus", VMSize: "Standard_NC6s_v3", Family: "standardNCSv3Family", VCPUs: 6,
		MemoryGiB: 112, GPUs: 1, SSHEnabled: true, SSHPublicKey: testportal.SSHKey, SSHPort: 22,
		VirtualNetwork: "vnet-eastus", Subnet: "default", OwnerID: p.User.ID, CreatedByID: p.User.ID, OwnerEmail: p.User.Email,
	}
	if _, err := p.Engine.Create(p.Ctx, inst, instancehub.TriggerUser); err != nil {
		t.Fatal(err)
	}
	failed := p.WaitState(t, "no-cores", instancehub.StateCreateFailed)
	if op := failed.LastOperation; op.Step != "virtual machine" || op.ErrorCode != "OperationNotAllowed" || !strings.Contains(op.ErrorMessage, "limit of 0") {
		t.Fatalf("failed create: step %q, %s %q", op.Step, op.ErrorCode, op.ErrorMessage)
	}
	network, err := armnetwork.NewClientFactory(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(p.Emu.SubscriptionID(), p.Emu.Credential(), p.Emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Emu.RequestBody("networkInterfaces", "no-cores-nic"); !ok {
		t.Fatal("the create never made its network interface")
	}
	for what, err := range leftovers(p, network, vms, "no-cores") {
		if !notFound(err) {
			t.Errorf("%s left after the failed create: %v", what, err)
		}
	}
	if _, err := p.Service.Act(p.Ctx, "no-cores", instancehub.OpDelete); err != nil {
		t.Fatal(err)
	}
	p.WaitGone(t, "no-cores")
}
