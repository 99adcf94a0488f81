package azure_test

import (
	"context"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// spoke is a network of another resource group of the subscription, as a
// network team keeps it.
const spoke = "/subscriptions/sub-1/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/spoke-eastus"

var spokeAnswers = map[string]string{
	"GET /resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/spoke-eastus": `{"id":"` + spoke + `","name":"spoke-eastus","location":"eastus",` +
		`"properties":{"addressSpace":{"addressPrefixes":["10.40.0.0/16"]},"subnets":[{"name":"workstations","properties":{"addressPrefix":"10.40.1.0/24"}}]}}`,
	// The portal's own group holds a network of the same name.
	"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks": `{"value":[{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/spoke-eastus",` +
		`"name":"spoke-eastus","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.9.0.0/16"]},"subnets":[{"name":"workstations","properties":{"addressPrefix":"10.9.1.0/24"}}]}}]}`,
	"PUT /networkInterfaces/hub-box-nic":                                   `{"name":"hub-box-nic","properties":{"provisioningState":"Succeeded"}}`,
	"GET /networkInterfaces/hub-box-nic":                                   `404 {"error":{"code":"ResourceNotFound","message":"not found"}}`,
	"GET /virtualMachines/hub-box":                                         `404 {"error":{"code":"ResourceNotFound","message":"not found"}}`,
	"GET /networkSecurityGroups/hub-box-nsg":                               `{"name":"hub-box-nsg","tags":{"instancehub-portal":"instancehub","instancehub-instance":"hub-box"}}`,
	"GET /providers/Microsoft.Compute/skus":                                `{"value":[]}`,
	"GET /resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines": `{"value":[]}`,
}

// TestNetworkOfAnotherGroup: an operator may name the instances' network
// by its resource ID in another resource group of the subscription (a
// hub-and-spoke layout's spoke). It is offered by that ID beside the
// group's own networks (one of the same name included), its network
// interfaces join its subnet there, and an adopted VM on it records it by
// ID again. A network of another subscription is refused at start: a
// network interface joins only a network of its own subscription.
func TestNetworkOfAnotherGroup(t *testing.T) {
	a := subscription(t, spokeAnswers)
	c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
		VirtualNetwork: strings.Replace(spoke, "eastus", "{region}", 1), Subnet: "workstations"}, &azfake.TokenCredential{}, loopbackOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	networks, err := c.VirtualNetworks(ctx, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	if len(networks) != 2 || networks[0].Name != spoke || networks[0].ID != spoke || networks[0].AddressSpace != "10.40.0.0/16" ||
		networks[1].Name != "spoke-eastus" || !strings.Contains(networks[1].ID, "/resourceGroups/rg-1/") {
		t.Errorf("networks = %+v, want the spoke by ID first, then the group's own of the same name", networks)
	}
	if got := instancehub.FindNetwork(networks, strings.ToLower(spoke)); got != 0 {
		t.Errorf("the spoke named by its ID in another case: network %d", got)
	}

	inst := &instancehub.Instance{Name: "hub-box", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: spoke, Subnet: "workstations", OwnerEmail: "ada@example.com"}
	if _, err := c.BeginStep(ctx, instancehub.OpCreate, azure.StepNetworkInterface, inst); err != nil {
		t.Fatal(err)
	}
	if body := a.lastBody("PUT", "/networkInterfaces/hub-box-nic"); !strings.Contains(body, `"subnet":{"id":"`+spoke+`/subnets/workstations"}`) {
		t.Errorf("the network interface: %s, want it to join the spoke's subnet", body)
	}

	if _, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
		VirtualNetwork: strings.Replace(spoke, "sub-1", "sub-2", 1)}, &azfake.TokenCredential{}, loopbackOptions(a)); err == nil ||
		!strings.Contains(err.Error(), "its own subscription") {
		t.Errorf("a network of another subscription: %v, want it refused", err)
	}
	own, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
		VirtualNetwork: strings.Replace(spoke, "net-rg", "RG-1", 1)}, &azfake.TokenCredential{}, loopbackOptions(a))
	if err != nil || own.Config().VirtualNetwork != "spoke-eastus" {
		t.Errorf("a network of the portal's own group by ID: %v, %q, want it named by its name", err, own.Config().VirtualNetwork)
	}
}

// TestDoctorChecksNetworkOfAnotherGroup: the doctor checks the portal may
// read the network of another group and join its subnets
// (Microsoft.Network/virtualNetworks/subnets/join/action there), which
// the group's role does not give.
func TestDoctorChecksNetworkOfAnotherGroup(t *testing.T) {
	perms := "GET /resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/spoke-eastus/providers/Microsoft.Authorization/permissions"
	for _, tt := range []struct{ actions, status, mentions string }{
		{`"Microsoft.Network/virtualNetworks/read","Microsoft.Network/virtualNetworks/subnets/read","Microsoft.Network/virtualNetworks/subnets/join/action"`, "ok", "/net-rg/"},
		{`"Microsoft.Network/virtualNetworks/read","Microsoft.Network/virtualNetworks/subnets/read"`, "fail", "Microsoft.Network/virtualNetworks/subnets/join/action"},
	} {
		a := subscription(t, with(with(emptySubscription, spokeAnswers), map[string]string{perms: `{"value":[{"actions":[` + tt.actions + `]}]}`}))
		c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
			VirtualNetwork: spoke, Subnet: "workstations"}, &azfake.TokenCredential{}, loopbackOptions(a))
		if err != nil {
			t.Fatal(err)
		}
		checks := c.Doctor(context.Background(), false)
		if got := checkNamed(checks, "network access eastus"); got.Status != tt.status || !strings.Contains(got.Detail, tt.mentions) {
			t.Errorf("network access: %+v, want %s mentioning %s", got, tt.status, tt.mentions)
		}
		if got := checkNamed(checks, "network in eastus"); got.Status != "ok" || !strings.Contains(got.Detail, spoke+"/workstations") {
			t.Errorf("network check: %+v", got)
		}
	}
}

// TestAdoptionRecordsNetworkOfAnotherGroup: a VM rebuilt from Azure records
// a subnet of another resource group by its network's resource ID, and one
// of the portal's own group by name, whatever case Azure writes its group in;
// it took the names alone before, which named the group's own network.
func TestAdoptionRecordsNetworkOfAnotherGroup(t *testing.T) {
	vm := func(name string) string {
		return `{"name":"` + name + `","location":"eastus","tags":{"instancehub-portal":"instancehub","instancehub-instance":"` + name + `"},` +
			`"properties":{"instanceView":{"statuses":[{"code":"ProvisioningState/succeeded"},{"code":"PowerState/running"}]}}}`
	}
	nic := func(subnet string) string {
		return `{"properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"subnet":{"id":"` + subnet + `"},"privateIPAddress":"10.40.1.4"}}]}}`
	}
	a := subscription(t, map[string]string{
		"GET /resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines": `{"value":[` + vm("hub-box") + `,` + vm("own-box") + `]}`,
		"GET /networkInterfaces/hub-box-nic":                                   nic(spoke + "/subnets/workstations"),
		"GET /networkInterfaces/own-box-nic":                                   nic("/subscriptions/sub-1/resourceGroups/RG-1/providers/Microsoft.Network/virtualNetworks/spoke-eastus/subnets/workstations"),
	})
	vms, err := loopbackCloud(t, a).PortalVMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vms {
		got[v.Name] = v.VirtualNetwork + " " + v.Subnet
	}
	if got["hub-box"] != spoke+" workstations" || got["own-box"] != "spoke-eastus workstations" {
		t.Errorf("adopted networks = %v", got)
	}
}
