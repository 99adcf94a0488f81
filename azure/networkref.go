package azure

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// A network reference names the virtual network an instance joins, as the
// Azure CLI's --vnet-name and --subnet do: by its name when it is in the
// portal's resource group, by its resource ID when it is in another group.
// Either way it is in the portal's subscription: a network interface joins
// only a network of its own subscription and region.

// isResourceID reports whether ref is a resource ID rather than a name.
func isResourceID(ref string) bool { return strings.HasPrefix(ref, "/") }

// networkTypeID is the resource type of a virtual network.
const networkTypeID = "Microsoft.Network/virtualNetworks"

// parseNetworkID reads a virtual network's resource ID.
func parseNetworkID(id string) (*arm.ResourceID, error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil || !strings.EqualFold(rid.ResourceType.String(), networkTypeID) {
		return nil, fmt.Errorf("%q is not a virtual network's resource ID (/subscriptions/…/resourceGroups/…/providers/Microsoft.Network/virtualNetworks/NAME)", id)
	}
	return rid, nil
}

// checkNetworkRef checks the configured network: one named by resource ID
// must be in the portal's subscription, and one in the portal's own group
// goes by its name.
func (c *Config) checkNetworkRef() error {
	if !isResourceID(c.VirtualNetwork) {
		return nil
	}
	rid, err := parseNetworkID(strings.ReplaceAll(c.VirtualNetwork, "{region}", "region"))
	if err != nil {
		return fmt.Errorf("azure: %w", err)
	}
	if !strings.EqualFold(rid.SubscriptionID, c.SubscriptionID) {
		return fmt.Errorf("azure: the virtual network %s is in subscription %s: a network interface joins only a network of its own subscription (%s)",
			c.VirtualNetwork, rid.SubscriptionID, c.SubscriptionID)
	}
	if strings.EqualFold(rid.ResourceGroupName, c.ResourceGroup) {
		c.VirtualNetwork = lastSegment(c.VirtualNetwork)
	}
	return nil
}

// networkPlace is the resource group and name of the network ref names.
func (c *Cloud) networkPlace(ref string) (group, name string, err error) {
	if !isResourceID(ref) {
		return c.cfg.ResourceGroup, ref, nil
	}
	rid, err := parseNetworkID(ref)
	if err != nil {
		return "", "", instancehub.Errorf(instancehub.EINVALID, "%s.", err)
	}
	if !strings.EqualFold(rid.SubscriptionID, c.cfg.SubscriptionID) {
		return "", "", instancehub.Errorf(instancehub.EINVALID,
			"The virtual network %s is in another subscription: a network interface joins only a network of its own subscription.", ref)
	}
	return rid.ResourceGroupName, rid.Name, nil
}

// readNetwork reads the virtual network ref names.
func (c *Cloud) readNetwork(ctx context.Context, ref string) (armnetwork.VirtualNetwork, error) {
	group, name, err := c.networkPlace(ref)
	if err != nil {
		return armnetwork.VirtualNetwork{}, err
	}
	vnet, err := c.vnets.Get(ctx, group, name, nil)
	if err != nil {
		return armnetwork.VirtualNetwork{}, cloudError(err, "read virtual network "+ref)
	}
	return vnet.VirtualNetwork, nil
}

// networkID is the resource ID of the network ref names.
func (c *Cloud) networkID(ref string) string {
	if isResourceID(ref) {
		return ref
	}
	return c.resourceID("Microsoft.Network", "virtualNetworks", ref)
}

// subnetRef reads a subnet's resource ID as the network reference and
// subnet name an instance records.
func (c *Cloud) subnetRef(id string) (network, subnet string) {
	i := strings.LastIndex(strings.ToLower(id), "/subnets/")
	if i < 0 {
		return "", ""
	}
	network, subnet = id[:i], id[i+len("/subnets/"):]
	rid, err := parseNetworkID(network)
	if err == nil && strings.EqualFold(rid.SubscriptionID, c.cfg.SubscriptionID) && strings.EqualFold(rid.ResourceGroupName, c.cfg.ResourceGroup) {
		return rid.Name, subnet
	}
	return network, subnet
}
