package azure

import "testing"

func TestAllowedActions(t *testing.T) {
	perms := []permission{
		{Actions: []string{"Microsoft.Compute/*", "Microsoft.Network/*/read"}, NotActions: []string{"Microsoft.Compute/disks/delete"}},
		{Actions: []string{"microsoft.network/networkinterfaces/*"}},
	}
	tests := []struct {
		action string
		want   bool
	}{
		{"Microsoft.Compute/virtualMachines/write", true},
		{"Microsoft.Compute/disks/delete", false},
		{"Microsoft.Network/virtualNetworks/read", true},
		{"Microsoft.Network/virtualNetworks/write", false},
		{"Microsoft.Network/networkInterfaces/delete", true},
		{"Microsoft.Authorization/permissions/read", false},
	}
	for _, tt := range tests {
		if got := allowed(tt.action, perms); got != tt.want {
			t.Errorf("allowed(%s) = %v, want %v", tt.action, got, tt.want)
		}
	}
	if !allowed("Microsoft.Compute/virtualMachines/start/action", []permission{{Actions: []string{"*"}}}) {
		t.Error("* does not allow everything")
	}
	// The built-in Managed Identity Operator, as the permissions API lists it.
	operator := []permission{{Actions: []string{"Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"}}}
	if !allowed("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", operator) || allowed("Microsoft.ManagedIdentity/userAssignedIdentities/write", operator) {
		t.Error("Managed Identity Operator does not allow assigning, or allows writing")
	}
}
