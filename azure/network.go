package azure

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// ensureSharedNetwork makes the portal's own network of the instance's
// region unless it exists. A PUT of an existing network would replace its
// subnets, so it is read first and left alone when found.
func (c *Cloud) ensureSharedNetwork(ctx context.Context, inst *instancehub.Instance) (string, error) {
	rg := c.cfg.ResourceGroup
	_, err := c.vnets.Get(ctx, rg, inst.VirtualNetwork, nil)
	switch {
	case err == nil:
		return "", nil
	case !notFound(err):
		return "", err
	}
	vnet := armnetwork.VirtualNetwork{
		Location: to.Ptr(inst.Region),
		Tags:     map[string]*string{TagPortal: to.Ptr(c.cfg.PortalID)},
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{to.Ptr(sharedAddressSpace)}},
			Subnets: []*armnetwork.Subnet{{
				Name:       to.Ptr(sharedSubnet),
				Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(sharedSubnetPrefix)},
			}},
		},
	}
	p, err := c.vnets.BeginCreateOrUpdate(ctx, rg, inst.VirtualNetwork, vnet, nil)
	token, err := begun(ctx, p, err)
	if err == nil && token == "" {
		c.catalog.forget("vnets")
	}
	if err != nil {
		return "", fmt.Errorf("make the shared network %s: %w", inst.VirtualNetwork, err)
	}
	return token, nil
}
