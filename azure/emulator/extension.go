package emulator

import (
	"encoding/base64"
	"fmt"
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
// script as root: it remembers the script, from the protected settings, and
// runs it when it is given a runner (Options.RunScript), reporting what
// it printed and how it ended in the extension's instance view.

const (
	vmAccessPublisher     = "Microsoft.OSTCExtensions"
	vmAccessType          = "VMAccessForLinux"
	customScriptPublisher = "Microsoft.Azure.Extensions"
	customScriptType      = "CustomScript"
)

func (e *Emulator) putExtension(_ string, vmName, extName string, ext armcompute.VirtualMachineExtension) (azfake.PollerResponder[armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse], azfake.ErrorResponder) {
	var done *armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse
	var script string
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
			decoded, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil || len(decoded) == 0 {
				return armErr(http.StatusBadRequest, "VMExtensionProvisioningError",
					"The Custom Script extension needs protectedSettings.script, a base64-encoded script.")
			}
			if other := r.ScriptRun; other != nil && other.Extension != "" && !strings.EqualFold(other.Extension, extName) {
				// Azure runs one extension of a handler per Linux VM.
				return armErr(http.StatusConflict, "OperationNotAllowed",
					"Multiple VMExtensions per handler not supported for OS type 'Linux'. VMExtension '%s' with handler 'Microsoft.Azure.Extensions.CustomScript' already added or specified in input.", other.Extension)
			}
			r.CustomScript, script = string(decoded), string(decoded)
			r.ScriptRun = &ScriptRun{Extension: extName}
		default:
			return armErr(http.StatusBadRequest, "InvalidParameter", "The emulator runs only the VMAccessForLinux and CustomScript extensions.")
		}
		c.touch(r)
		out := extensionOf(c.id(typeVM, r.Name), r.Location, extName, p.Publisher, p.Type, p.TypeHandlerVersion)
		done = &armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse{VirtualMachineExtension: out}
		return nil
	})
	if err != nil || script == "" {
		return lro(http.StatusCreated, done, err)
	}
	// The script runs on the VM, outside the cloud's lock, then its
	// outcome is the extension's.
	run := ScriptRun{}
	if e.opts.RunScript != nil {
		run = e.opts.RunScript(vmName, script)
	}
	run.Extension = extName
	run.StdOut, run.StdErr = tail(run.StdOut, scriptViewTail), tail(run.StdErr, scriptViewTail)
	err = e.withCloud(func(c *cloud, _ time.Time) error {
		if r := c.get(typeVM, vmName); r != nil && r.CustomScript == script {
			r.ScriptRun = &run
			c.touch(r)
		}
		return nil
	})
	var p azfake.PollerResponder[armcompute.VirtualMachineExtensionsClientCreateOrUpdateResponse]
	var r azfake.ErrorResponder
	switch {
	case err != nil:
		r.SetError(err)
	case run.ExitCode != 0:
		// The extension fails, as Azure's does when its script exits
		// with another status than 0.
		p.SetTerminalError(http.StatusOK, "VMExtensionProvisioningError")
	default:
		p.SetTerminalResponse(http.StatusOK, *done, nil)
	}
	return p, r
}

// ScriptRun is how a Custom Script extension's script ran on a VM: its
// output and exit status, as the extension's instance view reports them.
type ScriptRun struct {
	Extension string `json:"extension,omitempty"`
	StdOut    string `json:"stdout,omitempty"`
	StdErr    string `json:"stderr,omitempty"`
	ExitCode  int    `json:"exitCode,omitempty"`
}

// scriptViewTail is how much of a script's stdout and stderr the Custom
// Script extension's instance view keeps: their last 4 KiB.
const scriptViewTail = 4 << 10

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func extensionOf(vmID, location, name string, publisher, typ, version *string) armcompute.VirtualMachineExtension {
	return armcompute.VirtualMachineExtension{
		ID: to.Ptr(vmID + "/extensions/" + name), Name: to.Ptr(name),
		Type: to.Ptr("Microsoft.Compute/virtualMachines/extensions"), Location: to.Ptr(location),
		Properties: &armcompute.VirtualMachineExtensionProperties{Publisher: publisher, Type: typ,
			TypeHandlerVersion: version, ProvisioningState: to.Ptr(stateSucceeded)},
	}
}

// getExtension answers VirtualMachineExtensionsClient.Get for the Custom
// Script extension, with its instance view when asked (expand
// instanceView): Linux's Custom Script 2.x reports the script's stdout and
// stderr in its status's message, and as StdOut and StdErr substatuses.
func (e *Emulator) getExtension(vmName, extName string, opts *armcompute.VirtualMachineExtensionsClientGetOptions) (azfake.Responder[armcompute.VirtualMachineExtensionsClientGetResponse], azfake.ErrorResponder) {
	var resp azfake.Responder[armcompute.VirtualMachineExtensionsClientGetResponse]
	var errResp azfake.ErrorResponder
	err := e.withCloud(func(c *cloud, _ time.Time) error {
		r := c.get(typeVM, vmName)
		if r == nil {
			return notFound(typeVM, vmName, c.ResourceGroup)
		}
		run := r.ScriptRun
		if run == nil || !strings.EqualFold(run.Extension, extName) {
			return armErr(http.StatusNotFound, "NotFound", "The entity was not found in this Azure location.")
		}
		ext := extensionOf(c.id(typeVM, r.Name), r.Location, run.Extension,
			to.Ptr(customScriptPublisher), to.Ptr(customScriptType), to.Ptr("2.1"))
		state, level, display, verb := "succeeded", armcompute.StatusLevelTypesInfo, "Provisioning succeeded", "Enable succeeded"
		if run.ExitCode != 0 {
			state, level, display = "failed", armcompute.StatusLevelTypesError, "Provisioning failed"
			verb = fmt.Sprintf("Enable failed: failed to execute command: command terminated with exit status=%d", run.ExitCode)
			ext.Properties.ProvisioningState = to.Ptr("Failed")
		}
		if opts != nil && opts.Expand != nil && strings.EqualFold(*opts.Expand, "instanceView") {
			ext.Properties.InstanceView = &armcompute.VirtualMachineExtensionInstanceView{
				Name: to.Ptr(run.Extension), Type: to.Ptr(customScriptPublisher + "." + customScriptType), TypeHandlerVersion: to.Ptr("2.1.10"),
				Statuses: []*armcompute.InstanceViewStatus{{
					Code: to.Ptr("ProvisioningState/" + state), Level: to.Ptr(level), DisplayStatus: to.Ptr(display),
					Message: to.Ptr(fmt.Sprintf("%s: \n[stdout]\n%s\n[stderr]\n%s", verb, run.StdOut, run.StdErr)),
				}},
				Substatuses: []*armcompute.InstanceViewStatus{
					{Code: to.Ptr("ComponentStatus/StdOut/" + state), Level: to.Ptr(level), DisplayStatus: to.Ptr(display), Message: to.Ptr(run.StdOut)},
					{Code: to.Ptr("ComponentStatus/StdErr/" + state), Level: to.Ptr(level), DisplayStatus: to.Ptr(display), Message: to.Ptr(run.StdErr)},
				},
			}
		}
		resp.SetResponse(http.StatusOK, armcompute.VirtualMachineExtensionsClientGetResponse{VirtualMachineExtension: ext}, nil)
		return nil
	})
	if err != nil {
		errResp.SetError(err)
	}
	return resp, errResp
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
