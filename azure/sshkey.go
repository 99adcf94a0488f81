package azure

import (
	"context"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// vmAccessExtension is the extension Azure provides to add an SSH key to a
// Linux VM's user after the VM was made: what `az vm user update
// --ssh-key-value` runs. The key goes in its protected settings, which Azure
// encrypts and never returns.
const (
	vmAccessName      = "enablevmaccess"
	vmAccessPublisher = "Microsoft.OSTCExtensions"
	vmAccessType      = "VMAccessForLinux"
	vmAccessVersion   = "1.5"
)

// AddSSHKey makes key the one SSH key of the instance VM's user
// (azureuser), through the VM access extension, and waits until Azure has
// applied it (a minute or so on Azure; at once in the emulator). The VM
// must be running.
func (c *Cloud) AddSSHKey(ctx context.Context, inst *instancehub.Instance, key string) error {
	ext := armcompute.VirtualMachineExtension{
		Location: to.Ptr(inst.Region),
		Tags:     c.tags(inst),
		Properties: &armcompute.VirtualMachineExtensionProperties{
			Publisher:               to.Ptr(vmAccessPublisher),
			Type:                    to.Ptr(vmAccessType),
			TypeHandlerVersion:      to.Ptr(vmAccessVersion),
			AutoUpgradeMinorVersion: to.Ptr(true),
			// The key replaces any before it: the sealed one the VM was
			// made with, or the owner's old one, which must stop working.
			ProtectedSettings: map[string]any{"username": instancehub.SSHUser, "ssh_key": key, "remove_prior_keys": true},
		},
	}
	doing := "add an SSH key to " + inst.Name
	p, err := c.extensions.BeginCreateOrUpdate(ctx, c.cfg.ResourceGroup, inst.Name, vmAccessName, ext, nil)
	if err != nil {
		return cloudError(err, doing)
	}
	_, err = p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 5 * time.Second})
	return cloudError(err, doing)
}
