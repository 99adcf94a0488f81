package emulator

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// Extensions: the emulator runs two, at once, on a running VM, and like
// Azure refuses a VM that is not running, or busy with another operation.
// VM access, which Azure offers to add an SSH key to a Linux VM's user after
// it was made (Microsoft.OSTCExtensions/VMAccessForLinux, what `az vm user
// update --ssh-key-value` runs): it remembers the key on the VM. The Custom
// Script extension (Microsoft.Azure.Extensions/CustomScript), which runs a
// script as root: it remembers the script, from the protected settings.

const (
	vmAccessPublisher     = "Microsoft.OSTCExtensions"
	vmAccessType          = "VMAccessForLinux"
	customScriptPublisher = "Microsoft.Azure.Extensions"
	customScriptType      = "CustomScript"
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
		if p == nil {
			return armErr(http.StatusBadRequest, "InvalidParameter", "The extension has no properties.")
		}
		settings, _ := p.ProtectedSettings.(map[string]any)
		switch {
		case strings.EqualFold(deref(p.Publisher), vmAccessPublisher) && strings.EqualFold(deref(p.Type), vmAccessType):
			if err := vmAccess(r, settings); err != nil {
				return err
			}
		case strings.EqualFold(deref(p.Publisher), customScriptPublisher) && strings.EqualFold(deref(p.Type), customScriptType):
			encoded, _ := settings["script"].(string)
			script, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil || len(script) == 0 {
				return armErr(http.StatusBadRequest, "VMExtensionProvisioningError",
					"The Custom Script extension needs protectedSettings.script, a base64-encoded script.")
			}
			r.CustomScript = string(script)
		default:
			return armErr(http.StatusBadRequest, "InvalidParameter", "The emulator runs only the VMAccessForLinux and CustomScript extensions.")
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

// vmAccess applies VM access's protected settings to the VM r.
func vmAccess(r *resource, settings map[string]any) error {
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
	return nil
}

// CustomScript is the script the Custom Script extension last ran on the
// named VM, "" if none.
func (e *Emulator) CustomScript(vmName string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.cloud.get(typeVM, vmName); r != nil {
		return r.CustomScript
	}
	return ""
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
