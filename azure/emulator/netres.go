package emulator

import (
	"context"
	"fmt"
	"net/http"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

// Network security groups and public IP addresses.

func (e *Emulator) putNSG(name string, nsg armnetwork.SecurityGroup) error {
	return e.putNetwork(networkPut{api: "SecurityGroupsClient.BeginCreateOrUpdate", typ: typeNSG, name: name,
		location: nsg.Location, sent: nsg, time: nsgPutTime,
		build: func(c *cloud, r, _ *resource) (any, error) { return c.buildNSG(r, nsg) }})
}

// buildNSG keeps the rules as sent, checking their priorities as the network
// resource provider does.
func (c *cloud) buildNSG(r *resource, nsg armnetwork.SecurityGroup) (armnetwork.SecurityGroup, error) {
	id := c.id(typeNSG, r.Name)
	if nsg.Properties == nil {
		nsg.Properties = &armnetwork.SecurityGroupPropertiesFormat{}
	}
	p := nsg.Properties
	for i, rule := range p.SecurityRules {
		if rule == nil || rule.Name == nil || rule.Properties == nil {
			return nsg, invalidParameter("Security rule %d of network security group %s needs a name and properties.", i, id)
		}
		if pr := rule.Properties.Priority; pr == nil || *pr < 100 || *pr > 4096 {
			return nsg, armErr(http.StatusBadRequest, "SecurityRuleInvalidPriority",
				"Security rule %s has invalid Priority. Value provided: %s Allowed range 100-4096.", *rule.Name, priority(pr))
		}
		rule.ID, rule.Type = to.Ptr(id+"/securityRules/"+*rule.Name), to.Ptr("Microsoft.Network/networkSecurityGroups/securityRules")
		rule.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateSucceeded)
	}
	nsg.ID, nsg.Name, nsg.Location, nsg.Etag = to.Ptr(id), to.Ptr(r.Name), to.Ptr(r.Location), etag()
	nsg.Type = to.Ptr("Microsoft.Network/networkSecurityGroups")
	p.ResourceGUID, p.ProvisioningState, p.NetworkInterfaces, p.Subnets = to.Ptr(r.GUID), nil, nil, nil
	return nsg, nil
}

func priority(p *int32) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// nsgUsers are the IDs of the NICs using a security group.
func (c *cloud) nsgUsers(nsg *resource) []string {
	var ids []string
	for _, n := range c.sorted(typeNIC) {
		if n.NSG == key(typeNSG, nsg.Name) {
			ids = append(ids, c.id(typeNIC, n.Name))
		}
	}
	return ids
}

func (c *cloud) nsgModel(r *resource) armnetwork.SecurityGroup {
	var nsg armnetwork.SecurityGroup
	mustUnmarshal(r.Body, &nsg)
	nsg.Properties.ProvisioningState = netState(r)
	for _, id := range c.nsgUsers(r) {
		nsg.Properties.NetworkInterfaces = append(nsg.Properties.NetworkInterfaces, &armnetwork.Interface{ID: to.Ptr(id)})
	}
	return nsg
}

func (e *Emulator) getNSG(_ context.Context, _, name string, _ *armnetwork.SecurityGroupsClientGetOptions) (azfake.Responder[armnetwork.SecurityGroupsClientGetResponse], azfake.ErrorResponder) {
	var out armnetwork.SecurityGroupsClientGetResponse
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		r := c.get(typeNSG, name)
		if r == nil {
			return notFound(typeNSG, name, c.ResourceGroup)
		}
		out.SecurityGroup = c.nsgModel(r)
		return nil
	})
	return respond(out, err)
}

func (e *Emulator) listNSGs(_ string, _ *armnetwork.SecurityGroupsClientListOptions) azfake.PagerResponder[armnetwork.SecurityGroupsClientListResponse] {
	var items []*armnetwork.SecurityGroup
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		for _, r := range c.sorted(typeNSG) {
			items = append(items, to.Ptr(c.nsgModel(r)))
		}
		return nil
	})
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.SecurityGroup) armnetwork.SecurityGroupsClientListResponse {
		return armnetwork.SecurityGroupsClientListResponse{SecurityGroupListResult: armnetwork.SecurityGroupListResult{Value: v}}
	})
}

func (e *Emulator) putPublicIP(name string, pip armnetwork.PublicIPAddress) error {
	return e.putNetwork(networkPut{api: "PublicIPAddressesClient.BeginCreateOrUpdate", typ: typePIP, name: name,
		location: pip.Location, sent: pip, time: pipPutTime,
		build: func(c *cloud, r, _ *resource) (any, error) { return c.buildPublicIP(r, pip), nil }})
}

// buildPublicIP gives a public IP its address: Standard and static unless
// asked otherwise, kept across updates.
func (c *cloud) buildPublicIP(r *resource, pip armnetwork.PublicIPAddress) armnetwork.PublicIPAddress {
	if pip.SKU == nil {
		pip.SKU = &armnetwork.PublicIPAddressSKU{Name: to.Ptr(armnetwork.PublicIPAddressSKUNameStandard)}
	}
	if pip.SKU.Tier == nil {
		pip.SKU.Tier = to.Ptr(armnetwork.PublicIPAddressSKUTierRegional)
	}
	if pip.Properties == nil {
		pip.Properties = &armnetwork.PublicIPAddressPropertiesFormat{}
	}
	p := pip.Properties
	if p.PublicIPAllocationMethod == nil {
		p.PublicIPAllocationMethod = to.Ptr(armnetwork.IPAllocationMethodStatic)
	}
	if p.PublicIPAddressVersion == nil {
		p.PublicIPAddressVersion = to.Ptr(armnetwork.IPVersionIPv4)
	}
	if p.IdleTimeoutInMinutes == nil {
		p.IdleTimeoutInMinutes = to.Ptr[int32](4)
	}
	if r.Address == "" {
		r.Address = c.nextPublicIP(r.Location)
	}
	id := c.id(typePIP, r.Name)
	pip.ID, pip.Name, pip.Location, pip.Etag = to.Ptr(id), to.Ptr(r.Name), to.Ptr(r.Location), etag()
	pip.Type = to.Ptr("Microsoft.Network/publicIPAddresses")
	p.IPAddress, p.ResourceGUID, p.ProvisioningState, p.IPConfiguration = to.Ptr(r.Address), to.Ptr(r.GUID), nil, nil
	return pip
}

// nextPublicIP hands out a new address from the region's public range; the
// counter is global, so addresses are never reused.
func (c *cloud) nextPublicIP(region string) string {
	reg, _ := findRegion(region)
	n := c.PublicIPs
	c.PublicIPs++
	return fmt.Sprintf("%s.%d.%d", reg.publicNet, n/250%256, n%250+4)
}

func (c *cloud) publicIPModel(r *resource) armnetwork.PublicIPAddress {
	var pip armnetwork.PublicIPAddress
	mustUnmarshal(r.Body, &pip)
	pip.Properties.ProvisioningState = netState(r)
	if nic, cfg := c.publicIPUser(r); nic != nil {
		pip.Properties.IPConfiguration = &armnetwork.IPConfiguration{ID: to.Ptr(c.id(typeNIC, nic.Name) + "/ipConfigurations/" + cfg)}
	}
	return pip
}

func (e *Emulator) getPublicIP(_ context.Context, _, name string, _ *armnetwork.PublicIPAddressesClientGetOptions) (azfake.Responder[armnetwork.PublicIPAddressesClientGetResponse], azfake.ErrorResponder) {
	var out armnetwork.PublicIPAddressesClientGetResponse
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		r := c.get(typePIP, name)
		if r == nil {
			return notFound(typePIP, name, c.ResourceGroup)
		}
		out.PublicIPAddress = c.publicIPModel(r)
		return nil
	})
	return respond(out, err)
}

func (e *Emulator) listPublicIPs(_ string, _ *armnetwork.PublicIPAddressesClientListOptions) azfake.PagerResponder[armnetwork.PublicIPAddressesClientListResponse] {
	var items []*armnetwork.PublicIPAddress
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		for _, r := range c.sorted(typePIP) {
			items = append(items, to.Ptr(c.publicIPModel(r)))
		}
		return nil
	})
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.PublicIPAddress) armnetwork.PublicIPAddressesClientListResponse {
		return armnetwork.PublicIPAddressesClientListResponse{PublicIPAddressListResult: armnetwork.PublicIPAddressListResult{Value: v}}
	})
}
