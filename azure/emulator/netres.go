package emulator

import (
	"context"
	"fmt"
	"net/http"

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

func (c *cloud) nsgModel(r *resource) (armnetwork.SecurityGroup, error) {
	var nsg armnetwork.SecurityGroup
	if err := c.read(r, &nsg); err != nil {
		return nsg, err
	}
	nsg.Properties.ProvisioningState = netState(r)
	for _, id := range c.nsgUsers(r) {
		nsg.Properties.NetworkInterfaces = append(nsg.Properties.NetworkInterfaces, &armnetwork.Interface{ID: to.Ptr(id)})
	}
	return nsg, nil
}

func (e *Emulator) getNSG(_ context.Context, _, name string, _ *armnetwork.SecurityGroupsClientGetOptions) (azfake.Responder[armnetwork.SecurityGroupsClientGetResponse], azfake.ErrorResponder) {
	nsg, err := readOne(e, typeNSG, name, (*cloud).nsgModel)
	return respond(armnetwork.SecurityGroupsClientGetResponse{SecurityGroup: nsg}, err)
}

func (e *Emulator) listNSGs(_ string, _ *armnetwork.SecurityGroupsClientListOptions) azfake.PagerResponder[armnetwork.SecurityGroupsClientListResponse] {
	items, err := readAll(e, typeNSG, (*cloud).nsgModel)
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
	c.counter = true
	return fmt.Sprintf("%s.%d.%d", reg.publicNet, n/250%256, n%250+4)
}

func (c *cloud) publicIPModel(r *resource) (armnetwork.PublicIPAddress, error) {
	var pip armnetwork.PublicIPAddress
	if err := c.read(r, &pip); err != nil {
		return pip, err
	}
	pip.Properties.ProvisioningState = netState(r)
	if nic, cfg := c.publicIPUser(r); nic != nil {
		pip.Properties.IPConfiguration = &armnetwork.IPConfiguration{ID: to.Ptr(c.id(typeNIC, nic.Name) + "/ipConfigurations/" + cfg)}
	}
	return pip, nil
}

func (e *Emulator) getPublicIP(_ context.Context, _, name string, _ *armnetwork.PublicIPAddressesClientGetOptions) (azfake.Responder[armnetwork.PublicIPAddressesClientGetResponse], azfake.ErrorResponder) {
	pip, err := readOne(e, typePIP, name, (*cloud).publicIPModel)
	return respond(armnetwork.PublicIPAddressesClientGetResponse{PublicIPAddress: pip}, err)
}

func (e *Emulator) listPublicIPs(_ string, _ *armnetwork.PublicIPAddressesClientListOptions) azfake.PagerResponder[armnetwork.PublicIPAddressesClientListResponse] {
	items, err := readAll(e, typePIP, (*cloud).publicIPModel)
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.PublicIPAddress) armnetwork.PublicIPAddressesClientListResponse {
		return armnetwork.PublicIPAddressesClientListResponse{PublicIPAddressListResult: armnetwork.PublicIPAddressListResult{Value: v}}
	})
}
