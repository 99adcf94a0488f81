package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestFileSubnetIDIsMatchedWhole: a compute-instance file may name its
// subnet by resource ID, with its subscription and resource group. The
// portal joins it only when it is a network the portal offers, matched by
// that whole ID: a subnet of a network in another group (a hub's) is
// refused with the reason, and never replaced by the network of the same
// name in the portal's own group, where the file's instance was placed
// before. A file naming the instance's network by its ID applies as the
// same, and one naming the other group's network of that name differs.
func TestFileSubnetIDIsMatchedWhole(t *testing.T) {
	s := newSite(t, 0.01)
	a := apiClient{s, newToken(t, s, "ada@example.com", instancehub.NewToken{})}
	sub, group := s.Emu.SubscriptionID(), s.Emu.ResourceGroup()
	subnetID := func(sub, group, subnet string) string {
		return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/Microsoft.Network/virtualNetworks/vnet-eastus/subnets/" + subnet
	}
	file := func(name, subnet string) string {
		return "name: " + name + "\ntype: computeinstance\nsize: Standard_DS1_v2\nlocation: eastus\nnetwork_settings:\n  subnet: " + subnet + "\n"
	}

	for _, elsewhere := range []string{subnetID(sub, "hub-network", "default"), subnetID("11111111-2222-3333-4444-555555555555", group, "default")} {
		r := a.call(t, "POST", "/api/v1/computes", "application/yaml", file("hub-box", elsewhere))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		e := apiErrorOf(t, r)
		if len(e.Error.Details) != 1 || e.Error.Details[0].Target != "network_settings.subnet" ||
			!strings.Contains(e.Error.Details[0].Message, "is not one instances may join") || !strings.Contains(e.Error.Details[0].Message, "line 6, column 3") {
			t.Errorf("a subnet of %s: %s, want it refused at network_settings.subnet with the reason", elsewhere, r.body)
		}
		wantStatus(t, a.get(t, "/api/v1/computes/hub-box"), http.StatusNotFound)
	}

	own := file("own-box", subnetID(sub, strings.ToUpper(group), "workstations"))
	r := a.call(t, "POST", "/api/v1/computes", "application/yaml", own)
	wantStatus(t, r, http.StatusAccepted)
	if done := pollOperation(t, a, r.Header.Get("Location")); done["status"] != "Succeeded" {
		t.Fatalf("create ended %v", done)
	}
	var compute struct {
		Properties struct {
			Properties struct {
				Subnet struct{ VirtualNetwork, Name string }
			}
		}
	}
	decodeJSON(t, a.get(t, "/api/v1/computes/own-box"), &compute)
	if got := compute.Properties.Properties.Subnet; got.VirtualNetwork != "vnet-eastus" || got.Name != "workstations" {
		t.Errorf("the portal's own subnet named by ID: the instance joined %+v", got)
	}
	wantStatus(t, a.call(t, "POST", "/api/v1/computes:apply", "application/yaml", own), http.StatusOK)
	r = a.call(t, "POST", "/api/v1/computes:apply", "application/yaml", file("own-box", subnetID(sub, "hub-network", "workstations")))
	wantStatus(t, r, http.StatusConflict)
	if !strings.Contains(r.body, "network_settings.vnet_name") {
		t.Errorf("another group's network of the same name: %s, want it named as a difference", r.body)
	}
}
