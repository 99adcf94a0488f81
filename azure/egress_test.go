package azure_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/azure/emulator"
)

// The ways out of a subnet Azure's "default outbound access" page counts,
// as ARM describes them.
const (
	privateSubnet = `"defaultOutboundAccess":false`
	natGateway    = `"natGateway":{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/natGateways/nat"}`
	routeTable    = `"routeTable":{"id":"/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/routeTables/spoke-routes"}`
	outboundPool  = "/subscriptions/sub-1/resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/out-{region}/backendAddressPools/workstations"
)

// routes is the route table spoke-routes, its route of 0.0.0.0/0 going to next.
func routes(next string) string {
	return `{"name":"spoke-routes","properties":{"routes":[` +
		`{"name":"to-onprem","properties":{"addressPrefix":"192.168.0.0/16","nextHopType":"VirtualNetworkGateway"}},` +
		`{"name":"default","properties":{"addressPrefix":"0.0.0.0/0","nextHopType":"` + next + `","nextHopIpAddress":"10.0.1.4"}}]}}`
}

// balancer is the load balancer out-eastus, whose outbound rules cover pools.
func balancer(sku string, pools ...string) string {
	var rules []string
	for _, p := range pools {
		rules = append(rules, `{"name":"out-`+p+`","properties":{"protocol":"All","backendAddressPool":{"id":"/subscriptions/sub-1/resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/out-eastus/backendAddressPools/`+p+`"},`+
			`"frontendIPConfigurations":[{"id":"/subscriptions/sub-1/resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/out-eastus/frontendIPConfigurations/public"}]}}`)
	}
	return `{"name":"out-eastus","location":"eastus","sku":{"name":"` + sku + `"},"properties":{"outboundRules":[` + strings.Join(rules, ",") + `]}}`
}

// wayOutCloud is a subscription whose network vnet-1 has the subnet
// "default" with the properties subnet, and the answers more.
func wayOutCloud(t *testing.T, subnet string, pool string, more map[string]string) *azure.Cloud {
	t.Helper()
	vnet := `{"name":"vnet-1","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},"subnets":[` +
		`{"name":"default","properties":{"addressPrefix":"10.1.0.0/24",` + subnet + `}}]}}`
	a := subscription(t, with(with(emptySubscription, map[string]string{
		"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks":        `{"value":[` + vnet + `]}`,
		"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1": vnet,
	}), more))
	c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
		VirtualNetwork: "vnet-1", Subnet: "default", OutboundPool: pool}, &azfake.TokenCredential{}, loopbackOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkNamed(checks []azure.Check, name string) azure.Check {
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	return azure.Check{Name: name, Status: "missing"}
}

// TestEveryWayOutCounts: a private subnet (no default outbound access)
// reaches the Internet through a NAT gateway, a route of 0.0.0.0/0 to a
// firewall or another appliance (or to a network gateway), or the outbound
// rules of a Standard load balancer whose backend pool instances join; the
// doctor passes each, RStudio is offered on each, and a route of 0.0.0.0/0
// to None cuts even a NAT gateway off. Before, only a NAT gateway counted:
// a hub-and-spoke network routing through its firewall was warned about,
// its RStudio refused, and the doctor's own advice ("route its traffic
// through a firewall") did not clear its warning.
func TestEveryWayOutCounts(t *testing.T) {
	rt := "GET /resourceGroups/rg-1/providers/Microsoft.Network/routeTables/spoke-routes"
	lb := "GET /resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/out-eastus"
	for _, tt := range []struct {
		name, subnet, pool string
		more               map[string]string
		out                bool
		via                string
	}{
		{"private", privateSubnet, "", nil, false, "default outbound access off"},
		{"older API, says nothing", `"x":1`, "", nil, true, "default outbound access"},
		{"NAT gateway", privateSubnet + "," + natGateway, "", nil, true, "NAT gateway nat"},
		{"firewall", privateSubnet + "," + routeTable, "", map[string]string{rt: routes("VirtualAppliance")}, true, "appliance at 10.0.1.4"},
		{"network gateway", privateSubnet + "," + routeTable, "", map[string]string{rt: routes("VirtualNetworkGateway")}, true, "virtual network gateway"},
		{"route to the Internet", privateSubnet + "," + routeTable, "", map[string]string{rt: routes("Internet")}, false, "default outbound access off"},
		{"dropped", natGateway + "," + routeTable, "", map[string]string{rt: routes("None")}, false, "next hop None"},
		{"load balancer", privateSubnet, outboundPool, map[string]string{lb: balancer("Standard", "other", "workstations")}, true, "outbound rule out-workstations of load balancer out-eastus"},
		{"load balancer, no rule for the pool", privateSubnet, outboundPool, map[string]string{lb: balancer("Standard", "other")}, false, "no load balancer outbound rule"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := wayOutCloud(t, tt.subnet, tt.pool, tt.more)
			check := checkNamed(c.Doctor(context.Background(), true), "network in eastus")
			want := map[bool]string{true: "ok", false: "warn"}[tt.out]
			if check.Status != want || !strings.Contains(check.Detail, tt.via) {
				t.Errorf("network check = %+v, want %s through %q", check, want, tt.via)
			}
			inst := &instancehub.Instance{Name: "r-box", Region: "eastus", VirtualNetwork: "vnet-1", Subnet: "default"}
			refusal := c.ApplicationUnavailable(context.Background(), inst, "rstudio")
			if (refusal == "") != tt.out || !strings.Contains(refusal, map[bool]string{true: "", false: tt.via}[tt.out]) {
				t.Errorf("RStudio: %q, want offered = %v", refusal, tt.out)
			}
			if got := c.ApplicationUnavailable(context.Background(), inst, "jupyterlab"); got != "" {
				t.Errorf("JupyterLab, which the image has: %q", got)
			}
		})
	}
}

// TestDoctorAdviceClearsItsWarning: every way out the warning proposes
// passes once it is done.
func TestDoctorAdviceClearsItsWarning(t *testing.T) {
	warning := checkNamed(wayOutCloud(t, privateSubnet, "", nil).Doctor(context.Background(), true), "network in eastus")
	if warning.Status != "warn" {
		t.Fatalf("private subnet: %+v", warning)
	}
	for _, advice := range []struct {
		says, subnet, pool string
		more               map[string]string
	}{
		{"--nat-gateway", privateSubnet + "," + natGateway, "", nil},
		{"--next-hop-type VirtualAppliance", privateSubnet + "," + routeTable, "",
			map[string]string{"GET /routeTables/spoke-routes": routes("VirtualAppliance")}},
		{"--azure-outbound-pool", privateSubnet, outboundPool,
			map[string]string{"GET /loadBalancers/out-eastus": balancer("Standard", "workstations")}},
	} {
		if !strings.Contains(warning.Fix, advice.says) {
			t.Errorf("the advice %q does not propose %s", warning.Fix, advice.says)
		}
		if got := checkNamed(wayOutCloud(t, advice.subnet, advice.pool, advice.more).Doctor(context.Background(), true), "network in eastus"); got.Status != "ok" {
			t.Errorf("after %s: %+v, want ok", advice.says, got)
		}
	}
}

// TestOutboundPoolChecked: the doctor checks the pool instances join: a
// Standard load balancer of the region, with an outbound rule for the pool,
// that the portal's identity may add network interfaces to.
func TestOutboundPoolChecked(t *testing.T) {
	lb := "GET /resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/out-eastus"
	perms := lb + "/providers/Microsoft.Authorization/permissions"
	mayJoin := `{"value":[{"actions":["Microsoft.Network/loadBalancers/read","Microsoft.Network/loadBalancers/backendAddressPools/join/action"]}]}`
	for _, tt := range []struct {
		name     string
		answers  map[string]string
		status   string
		mentions string
	}{
		{"good", map[string]string{lb: balancer("Standard", "workstations"), perms: mayJoin}, "ok", "out-workstations"},
		{"missing", map[string]string{}, "fail", "existing load balancer"},
		{"another region", map[string]string{lb: strings.Replace(balancer("Standard", "workstations"), `"location":"eastus"`, `"location":"westeurope"`, 1), perms: mayJoin}, "fail", "{region}"},
		{"basic", map[string]string{lb: balancer("Basic", "workstations"), perms: mayJoin}, "fail", "Standard load balancer"},
		{"no rule", map[string]string{lb: balancer("Standard", "other"), perms: mayJoin}, "fail", "az network lb outbound-rule create --lb-name out-eastus --address-pool workstations"},
		{"may not join", map[string]string{lb: balancer("Standard", "workstations"), perms: `{"value":[{"actions":["Microsoft.Network/*/read"]}]}`}, "fail", "backendAddressPools/join/action"},
	} {
		c := wayOutCloud(t, privateSubnet, outboundPool, tt.answers)
		got := checkNamed(c.Doctor(context.Background(), false), "outbound pool eastus")
		if got.Status != tt.status || !strings.Contains(got.Detail+" "+got.Fix, tt.mentions) {
			t.Errorf("%s: %+v, want %s mentioning %q", tt.name, got, tt.status, tt.mentions)
		}
	}
}

// TestNetworkInterfaceJoinsOutboundPool: with --azure-outbound-pool, every
// network interface joins the region's pool, so that the balancer's
// outbound rules take its instance out.
func TestNetworkInterfaceJoinsOutboundPool(t *testing.T) {
	emu, err := emulator.Open(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := azure.New(azure.Config{SubscriptionID: emu.SubscriptionID(), ResourceGroup: emu.ResourceGroup(), Regions: emu.Regions(),
		PortalID: "test-portal", AppSourceRange: "10.9.0.0/24", OutboundPool: outboundPool}, emu.Credential(), emu.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := run(t, c, instancehub.OpCreate, instance("pooled", "Standard_DS3_v2", false)); err != nil {
		t.Fatal(err)
	}
	body, _ := emu.RequestBody("networkInterfaces", "pooled-nic")
	var nic armnetwork.Interface
	if err := json.Unmarshal(body, &nic); err != nil {
		t.Fatal(err)
	}
	pools := nic.Properties.IPConfigurations[0].Properties.LoadBalancerBackendAddressPools
	want := strings.ReplaceAll(outboundPool, "{region}", "eastus")
	if len(pools) != 1 || *pools[0].ID != want {
		t.Errorf("the network interface's pools: %s, want %s", body, want)
	}
}
