package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// VM reads an instance's virtual machine with its instance view, then its
// addresses from the network interface and public IP.
func (c *Cloud) VM(ctx context.Context, inst *instancehub.Instance) (*instancehub.VM, error) {
	rg := c.cfg.ResourceGroup
	r, err := c.vms.Get(ctx, rg, inst.Name, &armcompute.VirtualMachinesClientGetOptions{
		Expand: to.Ptr(armcompute.InstanceViewTypesInstanceView),
	})
	if err != nil {
		return nil, cloudError(err, "read virtual machine "+inst.Name)
	}
	vm := &instancehub.VM{Name: deref(r.Name), Portals: c.portals(r.Tags)}
	if r.Properties != nil && r.Properties.InstanceView != nil {
		vm.ProvisioningState, vm.PowerState = statuses(r.Properties.InstanceView.Statuses)
	}
	if r.Properties != nil && r.Properties.StorageProfile != nil {
		vm.Image = imageURN(r.Properties.StorageProfile.ImageReference)
	}
	if err := c.addresses(ctx, inst, vm); err != nil {
		return nil, err
	}
	return vm, nil
}

func (c *Cloud) addresses(ctx context.Context, inst *instancehub.Instance, vm *instancehub.VM) error {
	nic, err := c.nics.Get(ctx, c.cfg.ResourceGroup, nicName(inst.Name), nil)
	if notFound(err) {
		return nil
	} else if err != nil {
		return cloudError(err, "read network interface of "+inst.Name)
	}
	var publicIPID string
	if ipc := primaryIPConfiguration(nic.Interface); ipc != nil {
		vm.PrivateIP = deref(ipc.PrivateIPAddress)
		if ipc.PublicIPAddress != nil {
			publicIPID = deref(ipc.PublicIPAddress.ID)
		}
	}
	if publicIPID == "" {
		return nil
	}
	ip, err := c.publicIPs.Get(ctx, c.cfg.ResourceGroup, lastSegment(publicIPID), nil)
	if notFound(err) {
		return nil
	} else if err != nil {
		return cloudError(err, "read public IP of "+inst.Name)
	}
	if ip.Properties != nil {
		vm.PublicIP = deref(ip.Properties.IPAddress)
	}
	return nil
}

// VMs reads the state of every virtual machine in the portal's resource
// group, with their instance views, one call per page however many instances
// there are: the list adoption reads too. A VM listed without its instance
// view (Compute documents the list's $expand for a $filter only) is asked
// for its own. The portal asks for nothing beyond
// its group, so its role needs no VM read on the subscription. Each call
// lists afresh: a listing shared with a caller that started earlier would be
// older than what that caller read.
func (c *Cloud) VMs(ctx context.Context, each func(instancehub.VM)) error {
	return c.vmPages(ctx, func(r *listedVM) error {
		vm, viewed := c.listed(r)
		if !viewed {
			var err error
			vm.ProvisioningState, vm.PowerState, err = c.instanceView(ctx, r.Name)
			if notFound(err) {
				return nil
			} else if err != nil {
				return err
			}
		}
		each(vm)
		return nil
	})
}

// listedState is the state of a VM read from a list. Compute documents the
// list's $expand=instanceView for a $filter only: where Azure leaves the view
// out, the VM's own instance view says its state (an error for which notFound
// holds when the VM went meanwhile).
func (c *Cloud) listedState(ctx context.Context, r *armcompute.VirtualMachine) (provisioning, power string, err error) {
	if r.Properties != nil && r.Properties.InstanceView != nil {
		provisioning, power = statuses(r.Properties.InstanceView.Statuses)
		return provisioning, power, nil
	}
	return c.instanceView(ctx, deref(r.Name))
}

// instanceView reads the state of the VM name from its own instance view:
// for a VM a list gave without it.
func (c *Cloud) instanceView(ctx context.Context, name string) (provisioning, power string, err error) {
	view, err := c.vms.InstanceView(ctx, c.cfg.ResourceGroup, name, nil)
	if notFound(err) {
		return "", "", err
	} else if err != nil {
		return "", "", cloudError(err, "read instance view of "+name)
	}
	provisioning, power = statuses(view.Statuses)
	return provisioning, power, nil
}

// statuses reads "ProvisioningState/failed/AllocationFailed" and
// "PowerState/deallocated" from an instance view.
func statuses(list []*armcompute.InstanceViewStatus) (provisioning, power string) {
	for _, s := range list {
		readStatus(deref(s.Code), &provisioning, &power)
	}
	return provisioning, power
}

// readStatus reads one status code of an instance view into the
// provisioning or the power state it sets.
func readStatus(code string, provisioning, power *string) {
	code = strings.ToLower(code)
	if rest, ok := strings.CutPrefix(code, "provisioningstate/"); ok {
		*provisioning, _, _ = strings.Cut(rest, "/")
	} else if rest, ok := strings.CutPrefix(code, "powerstate/"); ok {
		*power = rest
	}
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// imageURN is the image a VM was made from, with the exact version Azure used.
func imageURN(ref *armcompute.ImageReference) string {
	if ref == nil || ref.Publisher == nil {
		return ""
	}
	version := deref(ref.ExactVersion)
	if version == "" {
		version = deref(ref.Version)
	}
	return Image{Publisher: deref(ref.Publisher), Offer: deref(ref.Offer), SKU: deref(ref.SKU), Version: version}.URN()
}
