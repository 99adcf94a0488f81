package instancehub_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

func TestOperationRules(t *testing.T) {
	all := instancehub.ListedStates
	if len(all) != 13 {
		t.Fatalf("%d listed states, want the 13 an instance shows", len(all))
	}
	allowed := map[instancehub.OperationKind][]instancehub.State{
		instancehub.OpStart:   {instancehub.StateStopped},
		instancehub.OpStop:    {instancehub.StateRunning, instancehub.StateUserSetupFailed},
		instancehub.OpRestart: {instancehub.StateRunning, instancehub.StateUnusable, instancehub.StateUserSetupFailed},
		instancehub.OpDelete: {instancehub.StateRunning, instancehub.StateStopped, instancehub.StateCreateFailed,
			instancehub.StateUnusable, instancehub.StateUnknown, instancehub.StateMissing,
			instancehub.StateSetupFailed, instancehub.StateUserSetupFailed},
	}
	for kind, ok := range allowed {
		for _, s := range all {
			want := false
			for _, a := range ok {
				want = want || a == s
			}
			err := kind.Check(s)
			if (err == nil) != want {
				t.Errorf("%s from %s: err = %v, want allowed=%v", kind, s, err, want)
			}
			if err != nil && instancehub.ErrorCode(err) != instancehub.ECONFLICT {
				t.Errorf("%s from %s: code = %s, want conflict", kind, s, instancehub.ErrorCode(err))
			}
			if (kind.Reason(s) == "") != want {
				t.Errorf("%s from %s: reason = %q", kind, s, kind.Reason(s))
			}
			if r := kind.Reason(s); !want && !strings.HasPrefix(r, string(kind)+" is not available: the instance") {
				t.Errorf("%s from %s: reason %q does not say why in words", kind, s, r)
			}
			if s.Transitional() && err == nil {
				t.Errorf("%s allowed while %s", kind, s)
			}
		}
	}
	msg := instancehub.ErrorMessage(instancehub.OpStart.Check(instancehub.StateRunning))
	if !strings.Contains(msg, "only allowed when the instance is stopped; it is running") {
		t.Errorf("start message = %q", msg)
	}
}

func TestVMState(t *testing.T) {
	tests := []struct {
		provisioning, power string
		want                instancehub.State
	}{
		{"creating", "", instancehub.StateCreating},
		{"succeeded", "running", instancehub.StateRunning},
		{"succeeded", "deallocated", instancehub.StateStopped},
		{"succeeded", "stopped", instancehub.StateStopped},
		{"succeeded", "deallocating", instancehub.StateStopping},
		{"updating", "starting", instancehub.StateStarting},
		{"deleting", "running", instancehub.StateDeleting},
		{"failed", "", instancehub.StateCreateFailed},
		{"failed", "running", instancehub.StateUnusable},
		{"succeeded", "", instancehub.StateUnknown},
	}
	for _, tt := range tests {
		vm := instancehub.VM{ProvisioningState: tt.provisioning, PowerState: tt.power}
		if got := vm.State(); got != tt.want {
			t.Errorf("VM{%s, %s}.State() = %s, want %s", tt.provisioning, tt.power, got, tt.want)
		}
	}
}

func TestFitSizes(t *testing.T) {
	sizes := []instancehub.VMSize{
		{Name: "Standard_NC6s_v3", Family: "standardNCSv3Family", VCPUs: 6, GPUs: 1},
		{Name: "Standard_DS3_v2", Family: "standardDSv2Family", VCPUs: 4},
		{Name: "Standard_NC24s_v3", Family: "standardNCSv3Family", VCPUs: 24, GPUs: 4},
		{Name: "Standard_E32s_v3", Family: "standardESv3Family", VCPUs: 32},
		{Name: "Standard_F4s_v2", Family: "standardFSv2Family", VCPUs: 4},
		{Name: "Standard_DS5_v2", Family: "standardDSv2Family", VCPUs: 16},
	}
	usage := []instancehub.Usage{
		{Name: "standardNCSv3Family", Current: 12, Limit: 24},
		{Name: "standardDSv2Family", Current: 0, Limit: 100},
		{Name: "standardESv3Family", Current: 0, Limit: 100},
		{Name: "cores", Current: 80, Limit: 100},
	}
	ws := &instancehub.WorkspaceQuota{
		Limits: map[string]int{"standardDSv2Family": 16},
		Used:   map[string]int{"standardDSv2Family": 8},
	}
	got := instancehub.FitSizes("eastus", sizes, usage, ws)
	want := []struct {
		name   string
		fits   bool
		reason string
	}{
		{"Standard_NC6s_v3", true, ""},
		{"Standard_DS3_v2", true, ""},
		{"Standard_NC24s_v3", false, "Standard NCSv3 Family: 24 vCPUs requested, but 12 of the subscription's limit of 24 are in use in eastus."},
		{"Standard_E32s_v3", false, "Total regional vCPUs: 32 vCPUs requested, but 80 of the subscription's limit of 100 are in use in eastus."},
		{"Standard_F4s_v2", false, "No quota for Standard FSv2 Family vCPUs"},
		{"Standard_DS5_v2", false, "Standard DSv2 Family: 16 vCPUs requested, but 8 of the workspace's limit of 16 are in use in eastus."},
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Fits != w.fits || !strings.Contains(got[i].Reason, w.reason) {
			t.Errorf("option %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestWorkspaceQuotaStates(t *testing.T) {
	held := map[instancehub.State]bool{
		instancehub.StateCreating: true, instancehub.StateRunning: true, instancehub.StateStarting: true,
		instancehub.StateStopping: true, instancehub.StateRestarting: true, instancehub.StateUnusable: true,
		instancehub.StateUnknown: true,
		instancehub.StateStopped: false, instancehub.StateCreateFailed: false, instancehub.StateMissing: false,
		instancehub.StateDeleting: false, instancehub.StateDeleted: false,
	}
	for s, want := range held {
		if s.HoldsWorkspaceQuota() != want {
			t.Errorf("%s holds workspace quota: %v, want %v", s, !want, want)
		}
	}
}
