package azure

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// ensureSharedNetwork makes the portal's own network of the instance's
// region unless it exists. A PUT of an existing network would replace its
// subnets, so it is read first and left alone when found. The first creates
// in a region all come here at once: the portal's own writes are made one at
// a time, and a network still being written is busy for the others, who
// wait for it as for any busy resource.
func (c *Cloud) ensureSharedNetwork(ctx context.Context, inst *instancehub.Instance) (string, error) {
	c.networkMu.Lock()
	defer c.networkMu.Unlock()
	// A network found ready is not read again for a while: its answer lists
	// every address in use, which at thousands of instances costs a create
	// more than the rest of its requests.
	key := strings.ToLower(inst.VirtualNetwork)
	if at, ok := c.networksReady[key]; ok && time.Since(at) < networkReadyFor {
		return "", nil
	}
	rg := c.cfg.ResourceGroup
	existing, err := c.vnets.Get(ctx, rg, inst.VirtualNetwork, nil)
	switch {
	case err == nil && writing(existing.Properties):
		return "", &instancehub.Error{Code: instancehub.ECONFLICT, CloudCode: "AnotherOperationInProgress",
			Message: fmt.Sprintf("The shared network %s is still being made.", inst.VirtualNetwork)}
	case err == nil:
		if c.networksReady == nil {
			c.networksReady = map[string]time.Time{}
		}
		c.networksReady[key] = time.Now()
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
				Name: to.Ptr(sharedSubnet),
				// Networks made with API versions after March 2026 have
				// private subnets by default: instances without a public
				// IP would have no way out (no packages, no RStudio
				// image). Say what the portal wants rather than rely on
				// a default that changes.
				Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(sharedSubnetPrefix), DefaultOutboundAccess: to.Ptr(true)},
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

// networkReadyFor is how long a network found ready is taken to stay so, as
// long as the catalog keeps Azure's lists: one deleted behind the portal's
// back is made again after that.
const networkReadyFor = 10 * time.Minute

// writing reports whether a network is being written (made, updated or
// deleted): instances cannot join it yet.
func writing(p *armnetwork.VirtualNetworkPropertiesFormat) bool {
	if p == nil || p.ProvisioningState == nil {
		return false
	}
	switch *p.ProvisioningState {
	case armnetwork.ProvisioningStateUpdating, armnetwork.ProvisioningStateDeleting:
		return true
	}
	return false
}
