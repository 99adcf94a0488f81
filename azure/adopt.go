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
			if r == nil || deref(r.Tags[TagPortal]) != c.cfg.PortalID {
				continue
			}
			vm := portalVM(r)
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

// portalVM reads what the VM itself says.
func portalVM(r *armcompute.VirtualMachine) instancehub.PortalVM {
	vm := instancehub.PortalVM{
		VM:       instancehub.VM{Name: deref(r.Name)},
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
	if nic.Properties != nil {
		for _, ipc := range nic.Properties.IPConfigurations {
			if ipc.Properties != nil && ipc.Properties.Subnet != nil {
				vm.VirtualNetwork, vm.Subnet = c.subnetRef(deref(ipc.Properties.Subnet.ID))
				break
			}
		}
	}
	return c.addresses(ctx, &instancehub.Instance{Name: vm.Name}, &vm.VM)
}
