package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// VM access: the extension Azure offers to add an SSH key to a Linux VM's
// user after it was made (Microsoft.OSTCExtensions/VMAccessForLinux, what
// `az vm user update --ssh-key-value` runs). The emulator applies it at
// once to a running VM and remembers the key on the VM; like Azure, it
// refuses a VM that is not running, or busy with another operation.

const (
	vmAccessPublisher = "Microsoft.OSTCExtensions"
	vmAccessType      = "VMAccessForLinux"
)

func (e *Emulator) putExtension(_ string, vmName, extName string, ext armcompute.VirtualMachineExtension) (azfake.PollerResponder[armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse], azfake.ErrorResponder) {
	var done *armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		r := c.get(typeVM, vmName)
		if r == nil {
			return notFound(typeVM, vmName, c.ResourceGroup)
		}
		if op := r.active(); op != nil {
			return busyVM(r, op, "extension")
		}
		if r.Power != "running" {
			return armErr(http.StatusConflict, "OperationNotAllowed",
				"Cannot modify extensions in the VM when the VM is not running.")
		}
		p := ext.Properties
		if p == nil || !strings.EqualFold(deref(p.Publisher), vmAccessPublisher) || !strings.EqualFold(deref(p.Type), vmAccessType) {
			return armErr(http.StatusBadRequest, "InvalidParameter", "The emulator runs only the VMAccessForLinux extension.")
		}
		settings, _ := p.ProtectedSettings.(map[string]any)
		user, _ := settings["username"].(string)
		key, _ := settings["ssh_key"].(string)
		if user == "" || key == "" {
			return armErr(http.StatusBadRequest, "InvalidParameter", "VMAccessForLinux needs protectedSettings username and ssh_key.")
		}
		if replace, _ := settings["remove_prior_keys"].(bool); replace {
			r.AccessKeys = []string{key}
		} else if !slices.Contains(r.AccessKeys, key) {
			r.AccessKeys = append(r.AccessKeys, key)
		}
		c.touch(r)
		out := armcompute.VirtualMachineExtension{
			ID: to.Ptr(c.id(typeVM, r.Name) + "/extensions/" + extName), Name: to.Ptr(extName),
			Type: to.Ptr("Microsoft.Compute/virtualMachines/extensions"), Location: to.Ptr(r.Location),
			Properties: &armcompute.VirtualMachineExtensionProperties{Publisher: p.Publisher, Type: p.Type,
				TypeHandlerVersion: p.TypeHandlerVersion, ProvisioningState: to.Ptr(stateSucceeded)},
		}
		done = &armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse{VirtualMachineExtension: out}
		return nil
	})
	return lro(http.StatusCreated, done, err)
}

// AccessKeys are the SSH keys VM access added to the named VM, in order.
func (e *Emulator) AccessKeys(vmName string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.cloud.get(typeVM, vmName); r != nil {
		return slices.Clone(r.AccessKeys)
	}
	return nil
}
