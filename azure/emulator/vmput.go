package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// vmPut is a VM PUT being validated, then applied.
type vmPut struct {
	name     string
	location string
	vm       armcompute.VirtualMachine // the body, filled in as it is applied
	sent     []byte
	old      *resource // the VM it replaces, if any
	size     Size
	version  string  // the image version "latest" resolved to
	images   []Image // the catalog's images as the PUT came
	nics     []nicLink
}

// checkVM validates a VM PUT against the model, in the order Azure does.
func (c *cloud) checkVM(name string, vm armcompute.VirtualMachine, quota map[string]map[string]int, images []Image) (*vmPut, error) {
	p := &vmPut{images: images, name: name, location: normalizeLocation(vm.Location), vm: vm, sent: mustJSON(vm), old: c.get(typeVM, name)}
	if _, ok := findRegion(p.location); !ok {
		return nil, locationNotAvailable(p.location, "Microsoft.Compute/virtualMachines")
	}
	if old := p.old; old != nil {
		p.name = old.Name
		if op := old.active(); op != nil {
			return nil, busyVM(old, op, kindPut)
		}
		if old.Location != p.location {
			return nil, invalidLocation(typeVM, old.Name, c.ResourceGroup, old.Location, p.location)
		}
	}
	if vm.Properties == nil {
		return nil, invalidParameter("Required parameter 'properties' is missing (null).")
	}
	for _, check := range []func() error{p.checkSize, p.checkOS, p.checkImage, func() error { return c.checkNICs(p) },
		func() error { return c.checkQuota(p, quota[p.location]) }} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *vmPut) checkSize() error {
	hw := p.vm.Properties.HardwareProfile
	if hw == nil || hw.VMSize == nil {
		return invalidParameter("Required parameter 'hardwareProfile.vmSize' is missing (null).")
	}
	s, ok := findSize(string(*hw.VMSize))
	if !ok {
		var names []string
		for _, s := range sizesIn(p.location) {
			names = append(names, s.Name)
		}
		return invalidParameter("The value '%s' provided for the VM size is not valid. The sizes available in location '%s' are: %s.",
			*hw.VMSize, p.location, strings.Join(names, ", "))
	}
	if !s.offeredIn(p.location) {
		return armErr(http.StatusConflict, "SkuNotAvailable",
			"The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: %s' is currently not available in location '%s'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.",
			s.Name, p.location)
	}
	p.size = s
	return nil
}

// creating is true for a PUT that creates the VM; updates need no secrets,
// as ARM never returns them.
func (p *vmPut) creating() bool {
	return p.old == nil || p.old.State == stateFailed && p.old.Power == ""
}

// checkOS checks the Linux OS profile of a new VM as compute does.
func (p *vmPut) checkOS() error {
	osp := p.vm.Properties.OSProfile
	if !p.creating() && osp == nil {
		return nil
	}
	if osp == nil {
		return invalidParameter("Required parameter 'osProfile' is missing (null).")
	}
	if p.creating() && (osp.AdminUsername == nil || *osp.AdminUsername == "") {
		return invalidParameter("Required parameter 'adminUsername' is missing (null).")
	}
	if lc := osp.LinuxConfiguration; p.creating() && osp.WindowsConfiguration == nil {
		noPassword := lc != nil && lc.DisablePasswordAuthentication != nil && *lc.DisablePasswordAuthentication
		keys := lc != nil && lc.SSH != nil && len(lc.SSH.PublicKeys) > 0
		if noPassword && !keys {
			return invalidParameter("Authentication using either SSH or by user name and password must be enabled in Linux profile.")
		}
		if !noPassword && osp.AdminPassword == nil {
			return invalidParameter("Required parameter 'adminPassword' is missing (null).")
		}
	}
	if osp.CustomData != nil {
		if _, err := base64.StdEncoding.DecodeString(*osp.CustomData); err != nil || len(*osp.CustomData) > 87380 {
			return invalidParameter("Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.")
		}
	}
	return nil
}

// checkImage checks a marketplace image reference against the catalog;
// references to custom or gallery images (by ID) are taken on trust.
func (p *vmPut) checkImage() error {
	sp := p.vm.Properties.StorageProfile
	if sp == nil || sp.ImageReference == nil || sp.ImageReference.Publisher == nil {
		return nil
	}
	ir := sp.ImageReference
	ref := fmt.Sprintf("%s:%s:%s:%s", deref(ir.Publisher), deref(ir.Offer), deref(ir.SKU), deref(ir.Version))
	im, ok := findImage(p.images, deref(ir.Publisher), deref(ir.Offer), deref(ir.SKU))
	if ok {
		p.version = im.resolve(deref(ir.Version))
	}
	if p.version == "" {
		return armErr(http.StatusNotFound, "PlatformImageNotFound",
			"The platform image '%s' is not available. Verify that all fields in the storage profile are correct. For more details about storage profile information, please refer to https://aka.ms/storageprofile", ref)
	}
	return nil
}

// checkNICs resolves the VM's network interfaces: each must exist in the VM's
// region and belong to no other VM.
func (c *cloud) checkNICs(p *vmPut) error {
	np := p.vm.Properties.NetworkProfile
	if np == nil || len(np.NetworkInterfaces) == 0 {
		return invalidParameter("Virtual machine '%s' must have at least one network interface: networkProfile.networkInterfaces is empty.", p.name)
	}
	for _, ref := range np.NetworkInterfaces {
		if ref == nil || ref.ID == nil {
			return invalidParameter("Required parameter 'networkProfile.networkInterfaces[].id' is missing (null).")
		}
		nicName, _, ok := c.parseID(*ref.ID, typeNIC)
		nic := c.get(typeNIC, nicName)
		switch {
		case !ok || nic == nil || nic.Active == kindDelete:
			return invalidParameter("Network interface '%s' referenced by virtual machine '%s' was not found. Create it in resource group '%s' first.",
				*ref.ID, p.name, c.ResourceGroup)
		case nic.Location != p.location:
			return invalidParameter("Network interface '%s' is in location '%s' but virtual machine '%s' is in '%s'. A virtual machine and its network interfaces must be in the same location.",
				*ref.ID, nic.Location, p.name, p.location)
		}
		if owner := c.nicOwner(nic); owner != nil && !strings.EqualFold(owner.Name, p.name) {
			return armErr(http.StatusBadRequest, "NicInUse", "Network interface %s is in use by virtual machine %s.",
				c.id(typeNIC, nic.Name), c.id(typeVM, owner.Name))
		}
		del := ref.Properties != nil && ref.Properties.DeleteOption != nil && *ref.Properties.DeleteOption == armcompute.DeleteOptionsDelete
		p.nics = append(p.nics, nicLink{Key: nic.key, Delete: del})
	}
	return nil
}

// applyVM stores the VM a checked PUT describes, replacing the old one.
func (c *cloud) applyVM(p *vmPut, now time.Time) (*resource, error) {
	r := &resource{Type: typeVM, Name: p.name, Location: p.location, Changed: now}
	var prev armcompute.VirtualMachine
	if old := p.old; old != nil {
		r.State, r.Power, r.Failure, r.Changed, r.Ops = old.State, old.Power, old.Failure, old.Changed, old.Ops
		if err := c.read(old, &prev); err != nil {
			return nil, err
		}
	}
	r.Size, r.NICs = p.size.Name, p.nics
	c.put(r, mustJSON(c.vmBody(p, prev, now)), p.sent)
	return r, nil
}

// vmBody is the VM as GET returns it: what the client sent, less the secrets
// ARM never returns, plus what compute fills in.
func (c *cloud) vmBody(p *vmPut, prev armcompute.VirtualMachine, now time.Time) armcompute.VirtualMachine {
	vm := p.vm
	vm.ID, vm.Name, vm.Type, vm.Location = to.Ptr(c.id(typeVM, p.name)), to.Ptr(p.name), to.Ptr("Microsoft.Compute/virtualMachines"), to.Ptr(p.location)
	props := vm.Properties
	props.ProvisioningState, props.InstanceView = nil, nil
	props.HardwareProfile.VMSize = to.Ptr(armcompute.VirtualMachineSizeTypes(p.size.Name))
	props.VMID, props.TimeCreated = to.Ptr(newUUID()), to.Ptr(now.UTC())
	if pp := prev.Properties; pp != nil {
		props.VMID, props.TimeCreated = pp.VMID, pp.TimeCreated
	}
	if os := props.OSProfile; os != nil {
		os.AdminPassword, os.CustomData = nil, nil
		if os.ComputerName == nil {
			os.ComputerName = to.Ptr(p.name)
		}
	}
	if sp := props.StorageProfile; sp != nil {
		if sp.ImageReference != nil && p.version != "" {
			sp.ImageReference.ExactVersion = to.Ptr(p.version)
		}
		if sp.OSDisk != nil {
			c.fillOSDisk(sp.OSDisk, p.name, prev)
		}
	}
	return vm
}

// fillOSDisk names the OS disk as compute does and keeps the name an earlier
// PUT gave it.
func (c *cloud) fillOSDisk(d *armcompute.OSDisk, vmName string, prev armcompute.VirtualMachine) {
	if d.Name == nil {
		d.Name = to.Ptr(fmt.Sprintf("%s_OsDisk_1_%s", vmName, strings.ReplaceAll(newUUID(), "-", "")))
		if pp := prev.Properties; pp != nil && pp.StorageProfile != nil && pp.StorageProfile.OSDisk != nil {
			d.Name = pp.StorageProfile.OSDisk.Name
		}
	}
	if d.ManagedDisk == nil {
		d.ManagedDisk = &armcompute.ManagedDiskParameters{}
	}
	d.ManagedDisk.ID = to.Ptr(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s",
		c.SubscriptionID, c.ResourceGroup, *d.Name))
	if d.DiskSizeGB == nil {
		d.DiskSizeGB = to.Ptr[int32](30)
	}
	if d.OSType == nil {
		d.OSType = to.Ptr(armcompute.OperatingSystemTypesLinux)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
