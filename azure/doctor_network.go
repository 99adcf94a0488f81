package azure

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// The doctor's checks of the instances' networks: where they join, their
// way out to the Internet, and whether the portal reaches them.

func (c *Cloud) checkNetwork(ctx context.Context, region string) Check {
	name := "network in " + region
	networks, err := c.VirtualNetworks(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant Microsoft.Network/virtualNetworks/read on the resource group")
	}
	want := c.cfg.defaultNetwork(region)
	if len(networks) == 0 || !strings.EqualFold(networks[0].Name, want) {
		where := "in " + c.cfg.ResourceGroup
		if isResourceID(want) {
			where = "in " + region
		}
		return fail(name, fmt.Sprintf("the virtual network %s does not exist %s", want, where),
			"create it, or set --azure-vnet to an existing network, by name in the resource group or by resource ID in another group of the subscription (or leave it empty for the portal's own)")
	}
	n := networks[0]
	if n.Planned {
		return ok(name, "the portal will make %s (%s) with the first instance", n.Name, n.AddressSpace)
	}
	if c.cfg.Subnet != "" && (len(n.Subnets) == 0 || n.Subnets[0].Name != c.cfg.Subnet) {
		return fail(name, fmt.Sprintf("%s has no subnet %s", n.Name, c.cfg.Subnet), "set --azure-subnet to one of its subnets")
	}
	way, err := c.wayOut(ctx, n.Name, n.Subnets[0].Name, region)
	switch {
	case err != nil && denied(err):
		return fail(name, instancehub.ErrorMessage(err), "grant the portal's identity Microsoft.Network/virtualNetworks/read on the network and "+
			"Microsoft.Network/routeTables/read on its subnet's route table (the role in the README has both on the resource group)")
	case err != nil:
		return fail(name, instancehub.ErrorMessage(err), "check the subnet's route table and --azure-outbound-pool")
	case !way.Out:
		return Check{Name: name, Status: "warn",
			Detail: fmt.Sprintf("%s/%s has no way out to the Internet for instances without a public IP (packages, the RStudio image): %s", n.Name, n.Subnets[0].Name, way.Via),
			Fix:    egressFix}
	}
	return ok(name, "instances join %s/%s (%s), out to the Internet through %s", n.Name, n.Subnets[0].Name, n.Subnets[0].AddressPrefix, way.Via)
}

// NetworkActions are what the portal's identity needs on a network of
// another resource group that instances join (--azure-vnet by resource ID):
// it reads the network and its subnets, and its network interfaces join
// them. It never writes such a network.
var NetworkActions = []string{
	"Microsoft.Network/virtualNetworks/read",
	"Microsoft.Network/virtualNetworks/subnets/read",
	"Microsoft.Network/virtualNetworks/subnets/join/action",
}

// checkNetworkAccess checks the portal's rights on the network of region
// when it is in another resource group, which the group's role does not
// cover.
func (c *Cloud) checkNetworkAccess(ctx context.Context, region string) Check {
	return c.checkPermissions(ctx, "network access "+region, c.cfg.defaultNetwork(region), NetworkActions)
}

// egressFix gives the ways out Azure counts, each of which passes the check.
const egressFix = "attach a NAT gateway to the subnet (az network vnet subnet update --nat-gateway …); " +
	"or route the Internet through your firewall: a route table on the subnet whose route 0.0.0.0/0 goes to it " +
	"(az network route-table route create --address-prefix 0.0.0.0/0 --next-hop-type VirtualAppliance --next-hop-ip-address <firewall's private address>, " +
	"then az network vnet subnet update --route-table …); or set --azure-outbound-pool to the backend pool of a Standard load balancer with an outbound rule for it"

// checkOutboundPool checks the load balancer backend pool instances of
// region join (--azure-outbound-pool): a Standard load balancer of the
// region with an outbound rule for the pool, which the portal's identity
// may join.
func (c *Cloud) checkOutboundPool(ctx context.Context, region string, emulated bool) Check {
	name := "outbound pool " + region
	pool := c.cfg.outboundPool(region)
	if emulated {
		return Check{Name: name, Status: "skip", Detail: "the emulator has no load balancers"}
	}
	lb, err := c.poolBalancer(ctx, pool)
	switch {
	case instancehub.ErrorCode(err) == instancehub.EINVALID:
		return fail(name, instancehub.ErrorMessage(err), "set --azure-outbound-pool to the pool's resource ID (az network lb address-pool show --query id)")
	case err != nil && denied(err):
		return fail(name, instancehub.ErrorMessage(err), "grant the portal's identity Microsoft.Network/loadBalancers/read on the load balancer")
	case err != nil:
		return fail(name, instancehub.ErrorMessage(err), "set --azure-outbound-pool to the backend pool of an existing load balancer")
	case !strings.EqualFold(deref(lb.Location), region):
		return fail(name, fmt.Sprintf("the load balancer %s is in %s, not %s", deref(lb.Name), deref(lb.Location), region),
			"use a load balancer of each region (\"{region}\" in --azure-outbound-pool stands for it)")
	case lb.SKU == nil || deref(lb.SKU.Name) != armnetwork.LoadBalancerSKUNameStandard:
		return fail(name, fmt.Sprintf("the load balancer %s is not Standard: only a Standard load balancer's outbound rules take its pool out", deref(lb.Name)),
			"use a Standard load balancer (Basic load balancers were retired in September 2025)")
	}
	rule, err := c.outboundRule(ctx, pool)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant the portal's identity Microsoft.Network/loadBalancers/read on the load balancer")
	}
	if rule == "" {
		return fail(name, fmt.Sprintf("the load balancer %s has no outbound rule for the pool %s: instances in it get no way out", deref(lb.Name), lastSegment(pool)),
			fmt.Sprintf("az network lb outbound-rule create --lb-name %s --address-pool %s --frontend-ip-configs <public frontend> --protocol All --name instances-out", deref(lb.Name), lastSegment(pool)))
	}
	rid, _ := arm.ParseResourceID(pool)
	missing, conditional, err := c.missingActions(ctx, rid.Parent.String(), []string{poolJoinAction})
	switch {
	case err != nil:
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read permissions")), "grant Microsoft.Authorization/permissions/read (any built-in role has it)")
	case len(missing) > 0:
		return fail(name, fmt.Sprintf("the portal's identity may not add network interfaces to the pool (%s)", poolJoinAction),
			"assign it a role with "+poolJoinAction+" on the load balancer "+deref(lb.Name))
	case len(conditional) > 0:
		return Check{Name: name, Status: "warn", Detail: poolJoinAction + " is allowed only under a condition",
			Fix: "make sure the role assignment's condition holds for the portal's requests"}
	}
	return ok(name, "instances join %s of %s, out through %s", lastSegment(pool), deref(lb.Name), rule)
}

// poolJoinAction is what adding a network interface to a load balancer's backend pool takes.
const poolJoinAction = "Microsoft.Network/loadBalancers/backendAddressPools/join/action"
