package azure_test

import (
	"context"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// doctorOn runs the doctor, as on Azure, over a subscription answering
// emptySubscription and more, with the configuration cfg (its
// subscription, group and region filled in).
func doctorOn(t *testing.T, cfg azure.Config, more map[string]string) []azure.Check {
	t.Helper()
	c := cloudOn(t, cfg, subscription(t, with(emptySubscription, more)))
	return c.Doctor(context.Background(), false)
}

func cloudOn(t *testing.T, cfg azure.Config, a *armServer) *azure.Cloud {
	t.Helper()
	cfg.SubscriptionID, cfg.ResourceGroup, cfg.Regions = "sub-1", "rg-1", []string{"eastus"}
	c, err := azure.New(cfg, &azfake.TokenCredential{}, loopbackOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	identityID    = "/subscriptions/sub-1/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	mayAssign     = `{"value":[{"actions":["Microsoft.ManagedIdentity/userAssignedIdentities/*/read","Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"]}]}`
	mayReadOnly   = `{"value":[{"actions":["Microsoft.ManagedIdentity/userAssignedIdentities/*/read"]}]}`
	anIdentity    = `{"name":"x","location":"eastus","properties":{"clientId":"c"}}`
	identityPerms = "/providers/Microsoft.Authorization/permissions"
)

// TestDoctorChecksIdentities: each user-assigned identity instances may be
// given must exist, and the portal must hold assign/action on it, or every
// create naming it fails (LinkedAuthorizationFailed). The doctor did not
// look at them before.
func TestDoctorChecksIdentities(t *testing.T) {
	answers := map[string]string{
		"GET /userAssignedIdentities/data-reader":                 anIdentity,
		"GET /userAssignedIdentities/data-reader" + identityPerms: mayAssign,
		"GET /userAssignedIdentities/registry" + identityPerms:    mayReadOnly,
		"GET /userAssignedIdentities/registry":                    anIdentity,
	}
	got := checkNamed(doctorOn(t, azure.Config{Identities: []string{identityID + "data-reader"}}, answers), "identities")
	if got.Status != "ok" {
		t.Errorf("an identity the portal may assign: %+v", got)
	}
	got = checkNamed(doctorOn(t, azure.Config{Identities: []string{identityID + "data-reader", identityID + "gone", identityID + "registry"}}, answers), "identities")
	if got.Status != "fail" || !strings.Contains(got.Detail, "gone does not exist") || !strings.Contains(got.Detail, "may not assign registry") ||
		strings.Contains(got.Detail, "data-reader") || !strings.Contains(got.Fix, "Managed Identity Operator") {
		t.Errorf("a missing identity and one the portal may not assign: %+v", got)
	}
	if got := checkNamed(doctorOn(t, azure.Config{}, answers), "identities"); got.Status != "missing" {
		t.Errorf("no identity listed: %+v, want no check", got)
	}
}

// TestDoctorChecksProviders: Compute and Network must be registered in the
// subscription, or every call is refused (MissingSubscriptionRegistration).
func TestDoctorChecksProviders(t *testing.T) {
	provider := func(state string) string { return `{"namespace":"x","registrationState":"` + state + `"}` }
	for _, tt := range []struct{ network, status, mentions string }{
		{provider("Registered"), "ok", "Microsoft.Compute and Microsoft.Network registered"},
		{provider("NotRegistered"), "fail", "az provider register --namespace Microsoft.Network"},
		{`403 {"error":{"code":"AuthorizationFailed","message":"no"}}`, "warn", "Microsoft.Resources/subscriptions/providers/read"},
	} {
		got := checkNamed(doctorOn(t, azure.Config{}, map[string]string{
			"GET /subscriptions/sub-1/providers/Microsoft.Compute": provider("Registered"),
			"GET /subscriptions/sub-1/providers/Microsoft.Network": tt.network,
		}), "resource providers")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("Network %s: %+v, want %s mentioning %q", tt.network, got, tt.status, tt.mentions)
		}
	}
}

// imageVersion is the image version's answer with the given properties.
func imageVersion(properties string) map[string]string {
	return map[string]string{"GET /publishers/microsoft-dsvm/artifacttypes/vmimage/offers/ubuntu-2204/skus/2204-gen2/versions/25.04.22": `{"name":"25.04.22","location":"eastus","properties":{` + properties + `}}`}
}

const (
	dsvmPlan = `"plan":{"name":"2204-gen2","product":"ubuntu-2204","publisher":"microsoft-dsvm"}`
	terms    = "GET /providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/microsoft-dsvm/offers/ubuntu-2204/plans/2204-gen2/agreements/current"
)

// TestDoctorChecksImage: the image must be Generation 2 and x64 as the
// sizes offered are, not deprecated (a warning while scheduled, with the
// date and the publisher's alternative), and a marketplace plan's terms
// must be accepted. Before, the doctor only read that the version existed.
func TestDoctorChecksImage(t *testing.T) {
	for _, tt := range []struct {
		name, properties string
		more             map[string]string
		status, mentions string
	}{
		{"gen2 x64", `"hyperVGeneration":"V2","architecture":"x64"`, nil, "ok", "microsoft-dsvm:ubuntu-2204:2204-gen2:25.04.22"},
		{"gen1", `"hyperVGeneration":"V1","architecture":"x64"`, nil, "fail", "Generation 1 image"},
		{"arm", `"hyperVGeneration":"V2","architecture":"Arm64"`, nil, "fail", "built for Arm64"},
		{"deprecated", `"imageDeprecationStatus":{"imageState":"Deprecated","alternativeOption":{"type":"Offer","value":"ubuntu-2404"}}`, nil, "fail", "deprecated: Azure makes no new VM from it (its publisher proposes the offer ubuntu-2404)"},
		{"scheduled", `"imageDeprecationStatus":{"imageState":"ScheduledForDeprecation","scheduledDeprecationTime":"2027-03-01T00:00:00Z"}`, nil, "warn", "scheduled for deprecation on 2027-03-01"},
		{"active", `"imageDeprecationStatus":{"imageState":"Active"}`, nil, "ok", "25.04.22"},
		{"plan, terms accepted", dsvmPlan, map[string]string{terms: `{"properties":{"accepted":true}}`}, "ok", "marketplace plan microsoft-dsvm/ubuntu-2204/2204-gen2, terms accepted"},
		{"plan, terms not accepted", dsvmPlan, map[string]string{terms: `{"properties":{"accepted":false}}`}, "fail", "az vm image terms accept --urn microsoft-dsvm:ubuntu-2204:2204-gen2:25.04.22"},
	} {
		got := checkNamed(doctorOn(t, azure.Config{}, with(imageVersion(tt.properties), tt.more)), "image in eastus")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("%s: %+v, want %s mentioning %q", tt.name, got, tt.status, tt.mentions)
		}
	}
}

// TestVirtualMachineCarriesImagePlan: a VM of an image sold with a
// marketplace plan carries the plan, without which Azure refuses it.
func TestVirtualMachineCarriesImagePlan(t *testing.T) {
	a := subscription(t, with(with(emptySubscription, imageVersion(dsvmPlan)), map[string]string{
		"PUT /virtualMachines/plan-box":       `{"name":"plan-box","properties":{"provisioningState":"Succeeded"}}`,
		"GET /networkInterfaces/plan-box-nic": `{"name":"plan-box-nic","properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"privateIPAddress":"10.0.0.4"}}]}}`,
	}))
	c := cloudOn(t, azure.Config{VirtualNetwork: "vnet-1", Subnet: "default", RStudioImage: pinnedRStudio}, a)
	inst := &instancehub.Instance{Name: "plan-box", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com"}
	if _, err := c.BeginStep(context.Background(), instancehub.OpCreate, azure.StepVirtualMachine, inst); err != nil {
		t.Fatal(err)
	}
	if body := a.lastBody("PUT", "/virtualMachines/plan-box"); !strings.Contains(body, `"plan":{"name":"2204-gen2","product":"ubuntu-2204","publisher":"microsoft-dsvm"}`) {
		t.Errorf("the VM request: %s, want the image's plan", body)
	}
}

// network is a virtual network of rg-1 with a subnet, and peerings.
func network(name, space, subnet string, peerings ...string) string {
	return `{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/` + name + `","name":"` + name + `","location":"eastus",` +
		`"properties":{"addressSpace":{"addressPrefixes":["` + space + `"]},"subnets":[{"name":"default","properties":{"addressPrefix":"` + subnet + `"}}],` +
		`"virtualNetworkPeerings":[` + strings.Join(peerings, ",") + `]}}`
}

func peering(name, state, remote string, extra string) string {
	return `{"name":"` + name + `","properties":{"peeringState":"` + state + `","remoteAddressSpace":{"addressPrefixes":["` + remote + `"]}` + extra + `}}`
}

// networks answers the group's networks, each readable by name.
func networks(list ...string) map[string]string {
	answers := map[string]string{"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks": `{"value":[` + strings.Join(list, ",") + `]}`}
	for _, n := range list {
		name := n[strings.Index(n, `"name":"`)+8:]
		name = name[:strings.IndexByte(name, '"')]
		answers["GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/"+name] = n
	}
	return answers
}

// TestDoctorReachesEveryNetwork: the portal must reach every network
// instances may join, not only the default one: the create form offers
// them all. A peering counts when it is connected and allows access; one
// out of sync is a warning. Before, a second network the portal could not
// reach passed.
func TestDoctorReachesEveryNetwork(t *testing.T) {
	home := network("vnet-1", "10.1.0.0/16", "10.1.0.0/24")
	cfg := azure.Config{VirtualNetwork: "vnet-1", Subnet: "default", AppSourceRange: "10.1.7.0/24"}
	for _, tt := range []struct {
		name, second, status, mentions string
	}{
		{"peered", network("vnet-2", "10.2.0.0/16", "10.2.0.0/24", peering("to-portal", "Connected", "10.1.0.0/16", "")), "ok", "vnet-2 (through the peering to-portal)"},
		{"not peered", network("vnet-2", "10.2.0.0/16", "10.2.0.0/24"), "fail", "vnet-2: the portal's range 10.1.7.0/24 is neither in it nor"},
		{"no access", network("vnet-2", "10.2.0.0/16", "10.2.0.0/24", peering("to-portal", "Connected", "10.1.0.0/16", `,"allowVirtualNetworkAccess":false`)), "fail", "does not allow access"},
		{"half made", network("vnet-2", "10.2.0.0/16", "10.2.0.0/24", peering("to-portal", "Initiated", "10.1.0.0/16", "")), "fail", "is initiated, not connected"},
		{"out of sync", network("vnet-2", "10.2.0.0/16", "10.2.0.0/24", peering("to-portal", "Connected", "10.1.0.0/16", `,"peeringSyncLevel":"RemoteNotInSync"`)), "warn", "az network vnet peering sync --vnet-name vnet-2"},
	} {
		got := checkNamed(doctorOn(t, cfg, networks(home, tt.second)), "portal reach eastus")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("%s: %+v, want %s mentioning %q", tt.name, got, tt.status, tt.mentions)
		}
	}
}

// TestDoctorRefusesOverlaps: a portal range that takes in a subnet
// instances may join admits every instance there to all others'
// applications (the portal's own /32 in it is fine), and Docker's pool on
// the instances (azure.DefaultDockerAddressPool here) must overlap neither the portal's
// range nor the instances' networks, whose traffic it would take for the
// containers.
func TestDoctorRefusesOverlaps(t *testing.T) {
	for _, tt := range []struct {
		name, portal string
		networks     []string
		status       string
		mentions     string
		pool         string // --azure-docker-pool, the default if empty
	}{
		{"portal's subnet is the instances'", "10.1.0.0/16", []string{network("vnet-1", "10.1.0.0/16", "10.1.0.0/24")}, "fail", "takes in the subnet vnet-1/default (10.1.0.0/24)", ""},
		{"portal's own address", "10.1.0.4/32", []string{network("vnet-1", "10.1.0.0/16", "10.1.0.0/24")}, "ok", "vnet-1 (in it)", ""},
		{"portal in Docker's pool", "192.168.230.0/24", []string{network("vnet-1", "10.1.0.0/16", "10.1.0.0/24", peering("to-portal", "Connected", "192.168.230.0/24", ""))},
			"fail", "overlaps Docker's address pool on instances (" + azure.DefaultDockerAddressPool + ")", ""},
		{"network in Docker's pool", "192.168.1.0/24", []string{network("vnet-1", "192.168.0.0/16", "192.168.2.0/24")}, "fail", "vnet-1 (192.168.0.0/16) overlaps Docker's address pool", ""},
		// The pool the operator sets is the one checked.
		{"portal in the pool set", "100.64.1.0/24", []string{network("vnet-1", "10.1.0.0/16", "10.1.0.0/24", peering("to-portal", "Connected", "100.64.1.0/24", ""))},
			"fail", "overlaps Docker's address pool on instances (100.64.0.0/16)", "100.64.0.0/16"},
		{"portal in the default pool, another set", "192.168.230.0/24", []string{network("vnet-1", "10.1.0.0/16", "10.1.0.0/24", peering("to-portal", "Connected", "192.168.230.0/24", ""))},
			"ok", "vnet-1", "100.64.0.0/16"},
	} {
		cfg := azure.Config{VirtualNetwork: "vnet-1", Subnet: "default", AppSourceRange: tt.portal, DockerAddressPool: tt.pool}
		got := checkNamed(doctorOn(t, cfg, networks(tt.networks...)), "portal reach eastus")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("%s: %+v, want %s mentioning %q", tt.name, got, tt.status, tt.mentions)
		}
	}
}

// TestDoctorChecksTheRegistryIdentity: the identity every instance gets to
// pull RStudio's image (--azure-registry-identity) must exist and be the
// portal's to assign, as those of --azure-identities, or every create
// fails; the doctor did not look at it before.
func TestDoctorChecksTheRegistryIdentity(t *testing.T) {
	const registry = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull"
	answers := map[string]string{
		"GET /userAssignedIdentities/acr-pull":                    anIdentity,
		"GET /userAssignedIdentities/acr-pull" + identityPerms:    mayReadOnly,
		"GET /userAssignedIdentities/data-reader":                 anIdentity,
		"GET /userAssignedIdentities/data-reader" + identityPerms: mayAssign,
	}
	got := checkNamed(doctorOn(t, azure.Config{RegistryIdentity: registry}, answers), "identities")
	if got.Status != "fail" || !strings.Contains(got.Detail, "may not assign acr-pull (the registry's, which every instance gets)") ||
		!strings.Contains(got.Fix, "--azure-registry-identity") {
		t.Errorf("a registry identity the portal may not assign: %+v", got)
	}
	answers["GET /userAssignedIdentities/acr-pull"+identityPerms] = mayAssign
	got = checkNamed(doctorOn(t, azure.Config{RegistryIdentity: registry, Identities: []string{identityID + "data-reader"}}, answers), "identities")
	if got.Status != "ok" || !strings.Contains(got.Detail, "all 2 user-assigned identities") {
		t.Errorf("a registry identity and a listed one, both assignable: %+v", got)
	}
}
