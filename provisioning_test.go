package instancehub_test

import (
	"errors"
	"net/http"
	"testing"

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
			if _, err := p.Service.Act(p.Ctx, name, instancehub.OpDelete); err != nil {
				t.Fatal(err)
			}
			p.WaitGone(t, name)
			ctx := p.Ctx
			for what, err := range map[string]error{
				"VM":  second(vms.Get(ctx, rg, name, nil)),
				"NIC": second(network.NewInterfacesClient().Get(ctx, rg, name+"-nic", nil)),
				"IP":  second(network.NewPublicIPAddressesClient().Get(ctx, rg, name+"-ip", nil)),
				"NSG": second(network.NewSecurityGroupsClient().Get(ctx, rg, name+"-nsg", nil)),
			} {
				var re *azcore.ResponseError
				if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
					t.Errorf("%s left after delete: %v", what, err)
				}
			}
		})
	}
	// The shared network, made by the second create, stays for the next ones.
	if _, err := network.NewVirtualNetworksClient().Get(p.Ctx, rg, "instancehub-eastus", nil); err != nil {
		t.Errorf("the shared network: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
