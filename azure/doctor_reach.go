package azure

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// checkPortalPlacement checks the portal reaches the applications on every
// network instances of region may join (each the create form offers): the
// security groups admit only --azure-portal-source, which must lie in the
// network or in a network peered with it (connected, access allowed, in
// sync). It checks as well what the addresses would break: a portal range
// that takes in a subnet instances may join admits every instance there to
// the applications of all others, and Docker's pool on the instances
// (Cloud.DockerAddressPool) takes in whatever it overlaps, the portal's range or
// the instances' own networks, for the instance's containers.
func (c *Cloud) checkPortalPlacement(ctx context.Context, region string) Check {
	name := "portal reach " + region
	if c.cfg.AppSourceRange == "" {
		return fail(name, "--azure-portal-source is not set: the instances' applications admit no one",
			"set it to the portal's address range (CIDR); "+placeFix(c.cfg.defaultNetwork(region)))
	}
	portal, err := netip.ParsePrefix(c.cfg.AppSourceRange)
	if err != nil {
		return fail(name, fmt.Sprintf("--azure-portal-source %q is not a CIDR range", c.cfg.AppSourceRange), "set it to the portal's address range, such as 10.1.2.0/24")
	}
	portal = portal.Masked()
	networks, err := c.VirtualNetworks(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant Microsoft.Network/virtualNetworks/read on the resource group")
	}
	var r reachReport
	pool := c.DockerAddressPool()
	if portal.Overlaps(pool) {
		r.fail(fmt.Sprintf("the portal's range %s overlaps Docker's address pool on instances (%s): they would send their answers to it to their containers", portal, pool),
			"run the portal outside "+pool.String()+", or set --azure-docker-pool to a range outside its own")
	}
	for _, n := range networks {
		if n.Planned {
			r.warn(fmt.Sprintf("%s does not exist yet (the first instance makes it, %s)", n.Name, n.AddressSpace), "once it exists, "+placeFix(n.Name))
			continue
		}
		vnet, err := c.readNetwork(ctx, n.Name)
		if err != nil {
			r.fail(instancehub.ErrorMessage(err), "grant Microsoft.Network/virtualNetworks/read on "+n.Name)
			continue
		}
		r.network(portal, pool, n.Name, vnet)
	}
	return r.check(name, portal)
}

// reachReport gathers, network by network, how the portal reaches them and
// what is wrong.
type reachReport struct {
	reached, failures, warnings, fixes []string
}

func (r *reachReport) fail(detail, fix string) {
	r.failures = append(r.failures, detail)
	r.fix(fix)
}

func (r *reachReport) warn(detail, fix string) {
	r.warnings = append(r.warnings, detail)
	r.fix(fix)
}

func (r *reachReport) fix(fix string) {
	for _, f := range r.fixes {
		if f == fix {
			return
		}
	}
	r.fixes = append(r.fixes, fix)
}

// network checks one network instances may join, named ref.
func (r *reachReport) network(portal, pool netip.Prefix, ref string, vnet armnetwork.VirtualNetwork) {
	p := vnet.Properties
	if p == nil {
		p = &armnetwork.VirtualNetworkPropertiesFormat{}
	}
	var space []*string
	if p.AddressSpace != nil {
		space = p.AddressSpace.AddressPrefixes
	}
	for _, s := range space {
		if prefix, err := netip.ParsePrefix(deref(s)); err == nil && prefix.Overlaps(pool) {
			r.fail(fmt.Sprintf("%s (%s) overlaps Docker's address pool on instances (%s): they would send to their containers what is addressed to their own network", ref, prefix, pool),
				"give the instances networks outside "+pool.String()+", or set --azure-docker-pool to a range outside them")
		}
	}
	// The portal's own address alone, a /32, is never given to an instance.
	if !portal.IsSingleIP() {
		for _, s := range p.Subnets {
			for _, prefix := range subnetPrefixes(s) {
				if prefix.Overlaps(portal) {
					r.fail(fmt.Sprintf("the portal's range %s takes in the subnet %s/%s (%s), where instances may be placed: every instance there would reach the applications of all others",
						portal, ref, deref(s.Name), prefix),
						"set --azure-portal-source to the portal's own address (a /32), or run the portal in a subnet of a network instances do not join")
				}
			}
		}
	}
	switch how, problem, warning := reachOf(portal, p); {
	case problem != "":
		r.fail(fmt.Sprintf("%s: %s", ref, problem), placeFix(ref))
	case warning != "":
		r.warn(fmt.Sprintf("%s: %s", ref, warning), "az network vnet peering sync --vnet-name "+lastSegment(ref)+" --name <peering> (and on the portal's side)")
	default:
		r.reached = append(r.reached, fmt.Sprintf("%s (%s)", ref, how))
	}
}

// reachOf says how the portal's range reaches a network: inside its address
// space, or through a peering that is connected and allows access. A
// peering whose address spaces changed since it was synced reaches it only
// as far as it was: that is a warning.
func reachOf(portal netip.Prefix, p *armnetwork.VirtualNetworkPropertiesFormat) (how, problem, warning string) {
	if p.AddressSpace != nil && within(portal, p.AddressSpace.AddressPrefixes) {
		return "in it", "", ""
	}
	for _, peering := range p.VirtualNetworkPeerings {
		pp := peering.Properties
		if pp == nil || pp.RemoteAddressSpace == nil || !within(portal, pp.RemoteAddressSpace.AddressPrefixes) {
			continue
		}
		switch {
		case deref(pp.PeeringState) != armnetwork.VirtualNetworkPeeringStateConnected:
			problem = fmt.Sprintf("its peering %s with the portal's network is %s, not connected (the other side is missing or was deleted)",
				deref(peering.Name), strings.ToLower(string(deref(pp.PeeringState))))
			continue
		case pp.AllowVirtualNetworkAccess != nil && !*pp.AllowVirtualNetworkAccess:
			problem = fmt.Sprintf("its peering %s with the portal's network does not allow access (--allow-vnet-access)", deref(peering.Name))
			continue
		case pp.PeeringSyncLevel != nil && *pp.PeeringSyncLevel != armnetwork.VirtualNetworkPeeringLevelFullyInSync:
			return "", "", fmt.Sprintf("its peering %s with the portal's network is %s: address spaces changed since it was synced", deref(peering.Name), *pp.PeeringSyncLevel)
		}
		return "through the peering " + deref(peering.Name), "", ""
	}
	if problem == "" {
		problem = fmt.Sprintf("the portal's range %s is neither in it nor in a network connected to it by peering", portal)
	}
	return "", problem, ""
}

func (r *reachReport) check(name string, portal netip.Prefix) Check {
	switch {
	case len(r.failures) > 0:
		return fail(name, strings.Join(r.failures, "; "), strings.Join(r.fixes, "; "))
	case len(r.warnings) > 0:
		return Check{Name: name, Status: "warn", Detail: strings.Join(r.warnings, "; "), Fix: strings.Join(r.fixes, "; ")}
	}
	if len(r.reached) == 0 {
		return ok(name, "the portal (%s): no network instances may join yet", portal)
	}
	return ok(name, "the portal (%s) reaches %s", portal, strings.Join(r.reached, ", "))
}

// placeFix says how to put the portal where it reaches network.
func placeFix(network string) string {
	name := lastSegment(network)
	return fmt.Sprintf("run the portal in a subnet of %s, or peer the portal's network with it (az network vnet peering create --vnet-name %s --remote-vnet <portal network> --allow-vnet-access, and back)", name, name)
}

// subnetPrefixes are a subnet's address ranges, one or several.
func subnetPrefixes(s *armnetwork.Subnet) []netip.Prefix {
	if s == nil || s.Properties == nil {
		return nil
	}
	ranges := s.Properties.AddressPrefixes
	if s.Properties.AddressPrefix != nil {
		ranges = append([]*string{s.Properties.AddressPrefix}, ranges...)
	}
	var out []netip.Prefix
	for _, r := range ranges {
		if prefix, err := netip.ParsePrefix(deref(r)); err == nil {
			out = append(out, prefix.Masked())
		}
	}
	return out
}

// within reports whether prefix lies inside one of ranges.
func within(prefix netip.Prefix, ranges []*string) bool {
	for _, r := range ranges {
		if outer, err := netip.ParsePrefix(deref(r)); err == nil && outer.Bits() <= prefix.Bits() && outer.Contains(prefix.Addr()) {
			return true
		}
	}
	return false
}
