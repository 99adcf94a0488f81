package emulator

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// Virtual networks and their subnets.

// seedNetworks gives a fresh cloud one virtual network per region, with a
// "default" and a "workstations" subnet, as an administrator would have.
func (c *cloud) seedNetworks(now time.Time) {
	for _, reg := range regions {
		r := &resource{Type: typeVNet, Name: "vnet-" + reg.Name, Location: reg.Name, State: stateSucceeded, Changed: now, GUID: newUUID()}
		vnet := armnetwork.VirtualNetwork{Location: to.Ptr(reg.Name), Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: to.SliceOfPtrs(reg.vnetPrefix + ".0.0/16")},
			Subnets: []*armnetwork.Subnet{
				{Name: to.Ptr("default"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(reg.vnetPrefix + ".0.0/24")}},
				{Name: to.Ptr("workstations"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(reg.vnetPrefix + ".1.0/24")}},
			},
		}}
		body, err := c.buildVNet(r, nil, vnet)
		if err != nil {
			panic(fmt.Sprintf("emulator: seed network: %v", err))
		}
		c.put(r, mustJSON(body), nil)
	}
}

func (e *Emulator) putVNet(name string, vnet armnetwork.VirtualNetwork) error {
	return e.putNetwork(networkPut{api: "VirtualNetworksClient.BeginCreateOrUpdate", typ: typeVNet, name: name,
		location: vnet.Location, sent: vnet, time: vnetPutTime,
		build: func(c *cloud, r, old *resource) (any, error) { return c.buildVNet(r, old, vnet) }})
}

// buildVNet checks a network's subnets lie in its address space without
// overlapping, and that no subnet in use disappears.
func (c *cloud) buildVNet(r, old *resource, vnet armnetwork.VirtualNetwork) (armnetwork.VirtualNetwork, error) {
	id := c.id(typeVNet, r.Name)
	p := vnet.Properties
	if p == nil || p.AddressSpace == nil || len(p.AddressSpace.AddressPrefixes) == 0 {
		return vnet, invalidParameter("Virtual network %s must have an address space.", id)
	}
	spaces, err := parsePrefixes(p.AddressSpace.AddressPrefixes, id)
	if err != nil {
		return vnet, err
	}
	for i, s := range p.Subnets {
		def, err := checkSubnet(s, i, r.Subnets, spaces, id, r.Name)
		if err != nil {
			return vnet, err
		}
		r.Subnets = append(r.Subnets, def)
		s.ID, s.Type, s.Etag = to.Ptr(id+"/subnets/"+def.Name), to.Ptr("Microsoft.Network/virtualNetworks/subnets"), etag()
		s.Properties.ProvisioningState, s.Properties.IPConfigurations = nil, nil
	}
	if old != nil {
		for _, s := range old.Subnets {
			if _, kept := r.subnet(s.Name); !kept {
				if err := c.subnetInUse(old, s.Name); err != nil {
					return vnet, err
				}
			}
		}
	}
	vnet.ID, vnet.Name, vnet.Location, vnet.Etag = to.Ptr(id), to.Ptr(r.Name), to.Ptr(r.Location), etag()
	vnet.Type = to.Ptr("Microsoft.Network/virtualNetworks")
	p.ResourceGUID, p.ProvisioningState = to.Ptr(r.GUID), nil
	return vnet, nil
}

func parsePrefixes(prefixes []*string, id string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range prefixes {
		p, err := netip.ParsePrefix(deref(s))
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return nil, armErr(http.StatusBadRequest, "InvalidAddressPrefixFormat", "Address prefix %s of resource %s is not formatted correctly.", deref(s), id)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkSubnet checks subnet i against the address space and the subnets before it.
func checkSubnet(s *armnetwork.Subnet, i int, before []subnetDef, spaces []netip.Prefix, id, vnetName string) (subnetDef, error) {
	if s == nil || s.Name == nil || s.Properties == nil {
		return subnetDef{}, invalidParameter("Subnet %d of virtual network %s needs a name and properties.", i, id)
	}
	text := deref(s.Properties.AddressPrefix)
	if text == "" && len(s.Properties.AddressPrefixes) > 0 {
		text = deref(s.Properties.AddressPrefixes[0])
	}
	ps, err := parsePrefixes([]*string{&text}, id+"/subnets/"+*s.Name)
	if err != nil {
		return subnetDef{}, err
	}
	prefix := ps[0]
	if prefix.Bits() > 29 || !slices.ContainsFunc(spaces, func(sp netip.Prefix) bool { return sp.Bits() <= prefix.Bits() && sp.Contains(prefix.Addr()) }) {
		return subnetDef{}, armErr(http.StatusBadRequest, "NetcfgSubnetRangeOutsideVnet",
			"Subnet '%s' is not valid because its IP address range is outside the IP address range of virtual network '%s'.", *s.Name, vnetName)
	}
	for _, b := range before {
		if other := netip.MustParsePrefix(b.Prefix); other.Overlaps(prefix) {
			return subnetDef{}, armErr(http.StatusBadRequest, "NetcfgSubnetRangesOverlap",
				"Subnet '%s' is not valid because its IP address range overlaps with that of an existing subnet in virtual network '%s'.", *s.Name, vnetName)
		}
	}
	return subnetDef{Name: *s.Name, Prefix: prefix.String()}, nil
}

func (r *resource) subnet(name string) (subnetDef, bool) {
	for _, s := range r.Subnets {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return subnetDef{}, false
}

func (c *cloud) subnetInUse(vnet *resource, subnet string) error {
	if users := c.subnetUsers(vnet, subnet); len(users) > 0 {
		return armErr(http.StatusBadRequest, "InUseSubnetCannotBeDeleted",
			"Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.",
			subnet, strings.Join(users, ", "))
	}
	return nil
}

// refSubnet resolves a subnet ID referenced from r (whose ID is by).
func (c *cloud) refSubnet(id string, r *resource, by string) (*resource, subnetDef, error) {
	vnet, err := c.ref(&id, typeVNet, r, by)
	if err != nil {
		return nil, subnetDef{}, err
	}
	_, child, _ := c.parseID(id, typeVNet)
	s, ok := vnet.subnet(child)
	if !ok || !strings.Contains(strings.ToLower(id), "/subnets/") {
		return nil, subnetDef{}, invalidReference(id, by)
	}
	return vnet, s, nil
}

func (c *cloud) vnetModel(r *resource) (armnetwork.VirtualNetwork, error) {
	var vnet armnetwork.VirtualNetwork
	if err := c.read(r, &vnet); err != nil {
		return vnet, err
	}
	vnet.Properties.ProvisioningState = netState(r)
	for _, s := range vnet.Properties.Subnets {
		c.fillSubnet(r, s)
	}
	return vnet, nil
}

// fillSubnet adds what a subnet shows on read: its state and who uses it.
func (c *cloud) fillSubnet(vnet *resource, s *armnetwork.Subnet) {
	s.Properties.ProvisioningState = netState(vnet)
	for _, id := range c.subnetUsers(vnet, *s.Name) {
		s.Properties.IPConfigurations = append(s.Properties.IPConfigurations, &armnetwork.IPConfiguration{ID: to.Ptr(id)})
	}
}

func (e *Emulator) getVNet(_ context.Context, _, name string, _ *armnetwork.VirtualNetworksClientGetOptions) (azfake.Responder[armnetwork.VirtualNetworksClientGetResponse], azfake.ErrorResponder) {
	vnet, err := readOne(e, typeVNet, name, (*cloud).vnetModel)
	return respond(armnetwork.VirtualNetworksClientGetResponse{VirtualNetwork: vnet}, err)
}

func (e *Emulator) listVNets(_ string, _ *armnetwork.VirtualNetworksClientListOptions) azfake.PagerResponder[armnetwork.VirtualNetworksClientListResponse] {
	items, err := readAll(e, typeVNet, (*cloud).vnetModel)
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.VirtualNetwork) armnetwork.VirtualNetworksClientListResponse {
		return armnetwork.VirtualNetworksClientListResponse{VirtualNetworkListResult: armnetwork.VirtualNetworkListResult{Value: v}}
	})
}

func (e *Emulator) listAllVNets(_ *armnetwork.VirtualNetworksClientListAllOptions) azfake.PagerResponder[armnetwork.VirtualNetworksClientListAllResponse] {
	items, err := readAll(e, typeVNet, (*cloud).vnetModel)
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.VirtualNetwork) armnetwork.VirtualNetworksClientListAllResponse {
		return armnetwork.VirtualNetworksClientListAllResponse{VirtualNetworkListResult: armnetwork.VirtualNetworkListResult{Value: v}}
	})
}

// subnets lists a network's subnets as read, or the ARM error if it does not exist.
func (e *Emulator) subnets(vnetName string) ([]*armnetwork.Subnet, error) {
	vnet, err := readOne(e, typeVNet, vnetName, (*cloud).vnetModel)
	if err != nil {
		return nil, err
	}
	return vnet.Properties.Subnets, nil
}

func (e *Emulator) getSubnet(_ context.Context, _, vnetName, name string, _ *armnetwork.SubnetsClientGetOptions) (azfake.Responder[armnetwork.SubnetsClientGetResponse], azfake.ErrorResponder) {
	var out armnetwork.SubnetsClientGetResponse
	subnets, err := e.subnets(vnetName)
	i := slices.IndexFunc(subnets, func(s *armnetwork.Subnet) bool { return strings.EqualFold(*s.Name, name) })
	if err == nil && i < 0 {
		err = armErr(http.StatusNotFound, "NotFound", "Resource /subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s not found.",
			e.opts.SubscriptionID, e.opts.ResourceGroup, vnetName, name)
	}
	if err == nil {
		out.Subnet = *subnets[i]
	}
	return respond(out, err)
}

func (e *Emulator) listSubnets(_, vnetName string, _ *armnetwork.SubnetsClientListOptions) azfake.PagerResponder[armnetwork.SubnetsClientListResponse] {
	items, err := e.subnets(vnetName)
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.Subnet) armnetwork.SubnetsClientListResponse {
		return armnetwork.SubnetsClientListResponse{SubnetListResult: armnetwork.SubnetListResult{Value: v}}
	})
}
