package emulator

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

func (e *Emulator) putNIC(name string, nic armnetwork.Interface) error {
	return e.putNetwork(networkPut{api: "InterfacesClient.BeginCreateOrUpdate", typ: typeNIC, name: name,
		location: nic.Location, sent: nic, time: nicPutTime,
		build: func(c *cloud, r, old *resource) (any, error) { return c.buildNIC(r, old, nic) }})
}

// buildNIC checks a NIC's references — subnets, public IPs, security group:
// all must exist in its region — and gives each IP configuration an address.
func (c *cloud) buildNIC(r, old *resource, nic armnetwork.Interface) (armnetwork.Interface, error) {
	id := c.id(typeNIC, r.Name)
	p := nic.Properties
	if p == nil || len(p.IPConfigurations) == 0 {
		return nic, invalidParameter("Network interface %s must have at least one IP configuration.", id)
	}
	if p.NetworkSecurityGroup != nil {
		nsg, err := c.ref(p.NetworkSecurityGroup.ID, typeNSG, r, id)
		if err != nil {
			return nic, err
		}
		r.NSG = nsg.key
		p.NetworkSecurityGroup = &armnetwork.SecurityGroup{ID: to.Ptr(c.id(typeNSG, nsg.Name))}
	}
	for i, ipc := range p.IPConfigurations {
		cfg, err := c.buildIPConfig(r, old, id, i, ipc)
		if err != nil {
			return nic, err
		}
		r.IPConfigs = append(r.IPConfigs, cfg)
	}
	nic.ID, nic.Name, nic.Location, nic.Etag = to.Ptr(id), to.Ptr(r.Name), to.Ptr(r.Location), etag()
	nic.Type = to.Ptr("Microsoft.Network/networkInterfaces")
	p.ResourceGUID, p.ProvisioningState, p.VirtualMachine, p.MacAddress = to.Ptr(r.GUID), nil, nil, nil
	return nic, nil
}

// buildIPConfig resolves one IP configuration: its subnet, its public IP (which
// no other NIC may hold) and its private address.
func (c *cloud) buildIPConfig(r, old *resource, nicID string, i int, ipc *armnetwork.InterfaceIPConfiguration) (ipConfig, error) {
	if ipc == nil || ipc.Properties == nil || ipc.Properties.Subnet == nil || ipc.Properties.Subnet.ID == nil {
		return ipConfig{}, invalidParameter("IP configuration %d of network interface %s must reference a subnet.", i, nicID)
	}
	if ipc.Name == nil {
		ipc.Name = to.Ptr(fmt.Sprintf("ipconfig%d", i+1))
	}
	p := ipc.Properties
	cfg := ipConfig{Name: *ipc.Name}
	vnet, subnet, err := c.refSubnet(*p.Subnet.ID, r, nicID)
	if err != nil {
		return cfg, err
	}
	if vnet.Active != "" {
		// The network resource provider writes a NIC into its subnet: it
		// refuses while the network itself is being written.
		return cfg, anotherOperation(c.id(typeVNet, vnet.Name))
	}
	cfg.VNet, cfg.Subnet = vnet.key, subnet.Name
	if p.PublicIPAddress != nil {
		pip, err := c.ref(p.PublicIPAddress.ID, typePIP, r, nicID)
		if err != nil {
			return cfg, err
		}
		if nic, _ := c.publicIPUser(pip); nic != nil && !strings.EqualFold(nic.Name, r.Name) {
			return cfg, armErr(http.StatusBadRequest, "PublicIPAddressInUse", "Public IP address %s is already in use by %s.",
				c.id(typePIP, pip.Name), c.id(typeNIC, nic.Name))
		}
		cfg.PublicIP = pip.key
		p.PublicIPAddress = &armnetwork.PublicIPAddress{ID: to.Ptr(c.id(typePIP, pip.Name))}
	}
	if cfg.PrivateIP, err = c.privateIP(r, old, vnet, subnet, cfg.Name, p); err != nil {
		return cfg, err
	}
	if p.PrivateIPAllocationMethod == nil {
		p.PrivateIPAllocationMethod = to.Ptr(armnetwork.IPAllocationMethodDynamic)
	}
	if p.Primary == nil {
		p.Primary = to.Ptr(i == 0)
	}
	ipc.ID, ipc.Type, ipc.Etag = to.Ptr(nicID+"/ipConfigurations/"+cfg.Name), to.Ptr("Microsoft.Network/networkInterfaces/ipConfigurations"), etag()
	p.PrivateIPAddress, p.PrivateIPAddressVersion = to.Ptr(cfg.PrivateIP), to.Ptr(armnetwork.IPVersionIPv4)
	p.Subnet = &armnetwork.Subnet{ID: to.Ptr(c.id(typeVNet, vnet.Name) + "/subnets/" + subnet.Name)}
	p.ProvisioningState = nil
	return cfg, nil
}

// privateIP is the address of an IP configuration: the one asked for if
// static, else the one it had, else the subnet's next free one.
func (c *cloud) privateIP(r, old *resource, vnet *resource, s subnetDef, cfg string, p *armnetwork.InterfaceIPConfigurationPropertiesFormat) (string, error) {
	book := c.addressBook(r, vnet.key, s)
	if p.PrivateIPAllocationMethod != nil && *p.PrivateIPAllocationMethod == armnetwork.IPAllocationMethodStatic && p.PrivateIPAddress != nil {
		return book.static(*p.PrivateIPAddress)
	}
	if old != nil {
		for _, o := range old.IPConfigs {
			if strings.EqualFold(o.Name, cfg) && o.VNet == book.vnet && strings.EqualFold(o.Subnet, s.Name) && book.free(ipNumber(o.PrivateIP)) {
				return o.PrivateIP, nil
			}
		}
	}
	return book.next()
}

// nicModel is a NIC as GET returns it, with the VM it is attached to.
func (c *cloud) nicModel(r *resource) (armnetwork.Interface, error) {
	var nic armnetwork.Interface
	if err := c.read(r, &nic); err != nil {
		return nic, err
	}
	p := nic.Properties
	p.ProvisioningState = netState(r)
	for _, ipc := range p.IPConfigurations {
		ipc.Properties.ProvisioningState = netState(r)
	}
	if vm := c.nicOwner(r); vm != nil {
		p.VirtualMachine = &armnetwork.SubResource{ID: to.Ptr(c.id(typeVM, vm.Name))}
		p.MacAddress = to.Ptr(macAddress(r.Name))
		p.Primary = to.Ptr(vm.NICs[0].Key == r.key)
	}
	return nic, nil
}

// macAddress is a stable MAC address in Microsoft's range for a NIC.
func macAddress(name string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	s := h.Sum32()
	return fmt.Sprintf("00-0D-3A-%02X-%02X-%02X", byte(s>>16), byte(s>>8), byte(s))
}

func (e *Emulator) getNIC(_ context.Context, _, name string, _ *armnetwork.InterfacesClientGetOptions) (azfake.Responder[armnetwork.InterfacesClientGetResponse], azfake.ErrorResponder) {
	nic, err := readOne(e, typeNIC, name, (*cloud).nicModel)
	return respond(armnetwork.InterfacesClientGetResponse{Interface: nic}, err)
}

func (e *Emulator) listNICs(_ string, _ *armnetwork.InterfacesClientListOptions) azfake.PagerResponder[armnetwork.InterfacesClientListResponse] {
	items, err := readAll(e, typeNIC, (*cloud).nicModel)
	return pager(items, err, e.opts.PageSize, func(v []*armnetwork.Interface) armnetwork.InterfacesClientListResponse {
		return armnetwork.InterfacesClientListResponse{InterfaceListResult: armnetwork.InterfaceListResult{Value: v}}
	})
}
