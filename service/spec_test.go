package service_test

import (
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/internal/testportal"
)

// TestUserAssignedIdentitiesAreListed: an instance gets its own
// (system-assigned) identity on request, but a user-assigned one only when
// the operator listed it: whoever runs code on the VM acts with its rights.
func TestUserAssignedIdentitiesAreListed(t *testing.T) {
	p := testportal.Open(t, t.TempDir(), 0)
	listed := "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/team-reader"
	other := strings.Replace(listed, "team-reader", "automation-admin", 1)
	req := testportal.Request("with-identity")
	req.Identity = instancehub.ManagedIdentity{SystemAssigned: true, UserAssigned: []string{other}}
	_, err := p.Service.CreateInstance(p.Ctx, req)
	if msg := instancehub.ErrorFields(err)["identity"]; !strings.Contains(msg, "no user-assigned identity") {
		t.Errorf("none listed: %v", err)
	}
	p.Service.UserAssignedIdentities = []string{listed}
	_, err = p.Service.CreateInstance(p.Ctx, req)
	if msg := instancehub.ErrorFields(err)["identity"]; !strings.Contains(msg, "is not one of") || !strings.Contains(msg, "team-reader") {
		t.Errorf("an identity not listed: %v", err)
	}
	req.Identity.UserAssigned = []string{strings.ToUpper(listed[:14]) + listed[14:]}
	inst, err := p.Service.CreateInstance(p.Ctx, req)
	if err != nil || len(inst.Identity.UserAssigned) != 1 || !inst.Identity.SystemAssigned {
		t.Fatalf("a listed identity: %+v, %v", inst, err)
	}
	system := testportal.Request("system-only")
	system.Identity = instancehub.ManagedIdentity{SystemAssigned: true}
	if _, err := p.Service.CreateInstance(p.Ctx, system); err != nil {
		t.Errorf("the system-assigned identity: %v", err)
	}
}
