package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// PortalVMs lists the resource group's virtual machines that carry this
// portal's tag, with their instance views, in paged list calls; then reads
// each one's network interface for its subnet and addresses. It serves the
// rare rebuilding of lost records, not the sync, so the reads per VM are
// affordable.
func (c *Cloud) PortalVMs(ctx context.Context) ([]instancehub.PortalVM, error) {
	pager := c.vms.NewListPager(c.cfg.ResourceGroup, &armcompute.VirtualMachinesClientListOptions{
		Expand: to.Ptr(armcompute.ExpandTypeForListVMsInstanceView),
	})
	var out []instancehub.PortalVM
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, cloudError(err, "list virtual machines")
		}
		for _, r := range page.Value {
			if r == nil || !c.portals(r.Tags) {
				continue
			}
			vm := c.portalVM(r)
			var err error
			vm.ProvisioningState, vm.PowerState, err = c.listedState(ctx, r)
			if notFound(err) {
				continue
			} else if err != nil {
				return nil, err
			}
			if err := c.placement(ctx, &vm); err != nil {
				return nil, err
			}
			out = append(out, vm)
		}
	}
	return out, nil
}

// PortalVM reads one virtual machine, with its instance view, and what
// rebuilds its instance: a sync that finds a VM no instance records asks
// for that one alone. ENOTFOUND when it does not exist or does not carry
// this portal's tag.
func (c *Cloud) PortalVM(ctx context.Context, name string) (*instancehub.PortalVM, error) {
	r, err := c.vms.Get(ctx, c.cfg.ResourceGroup, name, &armcompute.VirtualMachinesClientGetOptions{
		Expand: to.Ptr(armcompute.InstanceViewTypesInstanceView),
	})
	if err != nil {
		return nil, cloudError(err, "read virtual machine "+name)
	}
	if !c.portals(r.Tags) {
		return nil, instancehub.Errorf(instancehub.ENOTFOUND, "The virtual machine %s is not this portal's.", name)
	}
	vm := c.portalVM(&r.VirtualMachine)
	if err := c.placement(ctx, &vm); err != nil {
		return nil, err
	}
	return &vm, nil
}

// portals says whether tags are this portal's: it made what carries them.
func (c *Cloud) portals(tags map[string]*string) bool {
	return deref(tags[TagPortal]) == c.cfg.PortalID
}

// portalVM reads what the VM itself says.
func (c *Cloud) portalVM(r *armcompute.VirtualMachine) instancehub.PortalVM {
	vm := instancehub.PortalVM{
		VM:       instancehub.VM{Name: deref(r.Name), Portals: c.portals(r.Tags)},
		Instance: deref(r.Tags[TagInstance]), OwnerEmail: deref(r.Tags[TagOwner]), Region: deref(r.Location),
	}
	if vm.Instance == "" {
		vm.Instance = vm.Name
	}
	p := r.Properties
	if p == nil {
		return vm
	}
	if p.InstanceView != nil {
		vm.ProvisioningState, vm.PowerState = statuses(p.InstanceView.Statuses)
	}
	if p.HardwareProfile != nil && p.HardwareProfile.VMSize != nil {
		vm.VMSize = string(*p.HardwareProfile.VMSize)
	}
	if p.StorageProfile != nil {
		vm.Image = imageURN(p.StorageProfile.ImageReference)
	}
	if p.TimeCreated != nil {
		vm.CreatedAt = *p.TimeCreated
	}
	vm.SSHPublicKey = sshKey(p.OSProfile)
	return vm
}

// sealedKeyComment ends the key of a VM made without SSH (sealedKey).
const sealedKeyComment = " instancehub-no-ssh"

// sshKey is the key the VM admits, "" for the sealed key of a VM made
// without SSH.
func sshKey(osp *armcompute.OSProfile) string {
	if osp == nil || osp.LinuxConfiguration == nil || osp.LinuxConfiguration.SSH == nil {
		return ""
	}
	for _, k := range osp.LinuxConfiguration.SSH.PublicKeys {
		if key := deref(k.KeyData); key != "" && !strings.HasSuffix(key, sealedKeyComment) {
			return key
		}
	}
	return ""
}

// placement reads the subnet from the network interface, then the addresses.
func (c *Cloud) placement(ctx context.Context, vm *instancehub.PortalVM) error {
	nic, err := c.nics.Get(ctx, c.cfg.ResourceGroup, nicName(vm.Name), nil)
	if notFound(err) {
		return nil
	} else if err != nil {
		return cloudError(err, "read network interface of "+vm.Name)
	}
	if ipc := primaryIPConfiguration(nic.Interface); ipc != nil && ipc.Subnet != nil {
		vm.VirtualNetwork, vm.Subnet = c.subnetRef(deref(ipc.Subnet.ID))
	}
	return c.addresses(ctx, &instancehub.Instance{Name: vm.Name}, &vm.VM)
}
