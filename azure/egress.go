package azure

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// wayOut is how the VMs of a subnet that have no public IP of their own
// reach the Internet (packages, the RStudio image).
type wayOut struct {
	// Out reports whether they have a way out; Via names it, or says why
	// there is none.
	Out bool
	Via string
}

// defaultRoute is the destination of a route to the whole Internet.
const defaultRoute = "0.0.0.0/0"

// wayOut tells how instances of region on network/subnet, without a public
// IP, reach the Internet. Azure's "default outbound access" page counts a
// NAT gateway on the subnet, a Standard load balancer's outbound rules for
// the VM's backend pool, and a route of 0.0.0.0/0 to a firewall or another
// virtual appliance; a subnet with none of them has default outbound
// access, unless it is private (defaultOutboundAccess false). A route of
// 0.0.0.0/0 decides first: Azure sends the traffic where it says, around a
// NAT gateway, and a next hop of None drops it. A subnet that does not say
// whether it is private (made with an older API version) is not.
func (c *Cloud) wayOut(ctx context.Context, network, subnet, region string) (wayOut, error) {
	vnet, err := c.readNetwork(ctx, network)
	if err != nil {
		return wayOut{}, err
	}
	s := findSubnet(vnet, subnet)
	if s == nil {
		return wayOut{}, instancehub.Errorf(instancehub.ENOTFOUND, "%s has no subnet %s.", network, subnet)
	}
	p := s.Properties
	if p == nil {
		p = &armnetwork.SubnetPropertiesFormat{}
	}
	if p.RouteTable != nil && p.RouteTable.ID != nil {
		way, decided, err := c.routedOut(ctx, *p.RouteTable.ID)
		if err != nil || decided {
			return way, err
		}
	}
	if p.NatGateway != nil {
		return wayOut{Out: true, Via: "the NAT gateway " + lastSegment(deref(p.NatGateway.ID))}, nil
	}
	if pool := c.cfg.outboundPool(region); pool != "" {
		rule, err := c.outboundRule(ctx, pool)
		if err != nil {
			return wayOut{}, err
		}
		if rule != "" {
			return wayOut{Out: true, Via: rule}, nil
		}
	}
	if p.DefaultOutboundAccess == nil || *p.DefaultOutboundAccess {
		return wayOut{Out: true, Via: "default outbound access"}, nil
	}
	return wayOut{Via: "it is private (default outbound access off) and has no NAT gateway, no route of 0.0.0.0/0 to a firewall or appliance, " +
		"and no load balancer outbound rule for its instances"}, nil
}

// routedOut reads a subnet's route table: its route of 0.0.0.0/0, if any,
// decides the way out (to an appliance or a network gateway), or that there
// is none (next hop None). A route to the Internet, or none, decides nothing.
func (c *Cloud) routedOut(ctx context.Context, id string) (way wayOut, decided bool, err error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return wayOut{}, false, fmt.Errorf("route table %q: %w", id, err)
	}
	table, err := c.routeTables.Get(ctx, rid.ResourceGroupName, rid.Name, nil)
	if err != nil {
		return wayOut{}, false, cloudError(err, "read route table "+rid.Name)
	}
	if table.Properties == nil {
		return wayOut{}, false, nil
	}
	for _, r := range table.Properties.Routes {
		if r == nil || r.Properties == nil || deref(r.Properties.AddressPrefix) != defaultRoute {
			continue
		}
		switch deref(r.Properties.NextHopType) {
		case armnetwork.RouteNextHopTypeVirtualAppliance:
			return wayOut{Out: true, Via: fmt.Sprintf("the route %s of %s, to the appliance at %s", deref(r.Name), rid.Name, deref(r.Properties.NextHopIPAddress))}, true, nil
		case armnetwork.RouteNextHopTypeVirtualNetworkGateway:
			return wayOut{Out: true, Via: fmt.Sprintf("the route %s of %s, to the virtual network gateway", deref(r.Name), rid.Name)}, true, nil
		case armnetwork.RouteNextHopTypeNone:
			return wayOut{Via: fmt.Sprintf("the route %s of %s drops all traffic to the Internet (0.0.0.0/0, next hop None)", deref(r.Name), rid.Name)}, true, nil
		}
	}
	return wayOut{}, false, nil
}

// outboundRule names the outbound rule of a Standard load balancer that
// takes the backend pool pool to the Internet, "" when none does.
func (c *Cloud) outboundRule(ctx context.Context, pool string) (string, error) {
	lb, err := c.poolBalancer(ctx, pool)
	if err != nil {
		return "", err
	}
	if lb.SKU == nil || deref(lb.SKU.Name) != armnetwork.LoadBalancerSKUNameStandard || lb.Properties == nil {
		return "", nil
	}
	for _, r := range lb.Properties.OutboundRules {
		if r != nil && r.Properties != nil && r.Properties.BackendAddressPool != nil && strings.EqualFold(deref(r.Properties.BackendAddressPool.ID), pool) {
			return fmt.Sprintf("the outbound rule %s of load balancer %s", deref(r.Name), deref(lb.Name)), nil
		}
	}
	return "", nil
}

// poolBalancer reads the load balancer of a backend pool's resource ID.
func (c *Cloud) poolBalancer(ctx context.Context, pool string) (armnetwork.LoadBalancer, error) {
	rid, err := arm.ParseResourceID(pool)
	if err != nil || rid.Parent == nil || !strings.EqualFold(rid.ResourceType.String(), "Microsoft.Network/loadBalancers/backendAddressPools") {
		return armnetwork.LoadBalancer{}, instancehub.Errorf(instancehub.EINVALID,
			"%q is not the resource ID of a load balancer's backend pool (…/providers/Microsoft.Network/loadBalancers/LB/backendAddressPools/POOL).", pool)
	}
	lb, err := c.loadBalancers.Get(ctx, rid.ResourceGroupName, rid.Parent.Name, nil)
	if err != nil {
		return armnetwork.LoadBalancer{}, cloudError(err, "read load balancer "+rid.Parent.Name)
	}
	return lb.LoadBalancer, nil
}

// findSubnet is the subnet of vnet named name, nil when it has none.
func findSubnet(vnet armnetwork.VirtualNetwork, name string) *armnetwork.Subnet {
	if vnet.Properties == nil {
		return nil
	}
	for _, s := range vnet.Properties.Subnets {
		if s != nil && deref(s.Name) == name {
			return s
		}
	}
	return nil
}
