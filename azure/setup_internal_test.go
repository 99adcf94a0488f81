package azure

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// TestSetupResultOfLinuxStatus reads a run from the status message of
// Linux's Custom Script 2.x, which carries stdout and stderr when the view
// has no substatuses; a view without the wrapper's last word is a failure
// that says so.
func TestSetupResultOfLinuxStatus(t *testing.T) {
	view := func(message string) *armcompute.VirtualMachineExtensionProperties {
		return &armcompute.VirtualMachineExtensionProperties{InstanceView: &armcompute.VirtualMachineExtensionInstanceView{
			Statuses: []*armcompute.InstanceViewStatus{{Code: to.Ptr("ProvisioningState/succeeded"), Message: to.Ptr(message)}},
		}}
	}
	got := setupResultOf(instancehub.SetupStartup, view("Enable succeeded: \n[stdout]\ninstalled\n\n[stderr]\ninstancehub-setup exit=3\n"))
	if got.ExitCode != 3 || got.TimedOut || got.Log != "installed\n" {
		t.Errorf("from the status message: %+v", got)
	}
	got = setupResultOf(instancehub.SetupStartup, view("Enable succeeded: \n[stdout]\ninstalled\n\n[stderr]\ninstancehub-setup exit=-1 timeout\n"))
	if got.ExitCode != -1 || !got.TimedOut {
		t.Errorf("a timeout: %+v", got)
	}
	got = setupResultOf(instancehub.SetupCreation, view("Enable failed: the script could not be downloaded"))
	if got.ExitCode != -1 || got.TimedOut || got.Log != "\n[instancehub: the VM did not report how the script ended: Enable failed: the script could not be downloaded]\n" {
		t.Errorf("no last word: %+v", got)
	}
	if got := setupResultOf(instancehub.SetupCreation, nil); !got.Failed() {
		t.Errorf("no view: %+v", got)
	}
}
