package azure_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// subscription is a loopback ARM whose answers are looked up by the end of
// the request's path ("METHOD suffix"); what it does not know is 404. An
// answer may start with its status ("201 …") and an Azure-AsyncOperation
// URL ending in "#"; "{server}" stands for the server's address.
func subscription(t *testing.T, answers map[string]string) *armServer {
	t.Helper()
	a := &armServer{bodies: map[string]string{}}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); len(body) > 0 {
			a.mu.Lock()
			a.bodies[r.Method+" "+r.URL.Path] = string(body)
			a.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		for key, body := range answers {
			method, suffix, _ := strings.Cut(key, " ")
			if r.Method == method && strings.HasSuffix(strings.ToLower(r.URL.Path), strings.ToLower(suffix)) {
				status := http.StatusOK
				if code, rest, ok := strings.Cut(body, " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '5' {
					fmt.Sscan(code, &status)
					body = rest
				}
				body = strings.ReplaceAll(body, "{server}", "https://"+r.Host)
				if url, rest, ok := strings.Cut(body, "#"); ok && strings.HasPrefix(url, "https://") {
					w.Header().Set("Azure-AsyncOperation", url)
					body = rest
				}
				w.WriteHeader(status)
				fmt.Fprint(w, body)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":"ResourceNotFound","message":"%s %s was not found."}}`, r.Method, r.URL.Path)
	}))
	a.StartTLS()
	t.Cleanup(a.Close)
	return a
}

// A subscription with nothing in it yet, enough for the doctor to reach its
// permission checks.
var emptySubscription = map[string]string{
	"GET /resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines":                                     `{"value":[]}`,
	"GET /providers/Microsoft.Compute/skus":                                                                    `{"value":[]}`,
	"GET /locations/eastus/usages":                                                                             `{"value":[]}`,
	"GET /publishers/microsoft-dsvm/artifacttypes/vmimage/offers/ubuntu-2204/skus/2204-gen2/versions":          `[{"name":"25.04.22","location":"eastus"}]`,
	"GET /publishers/microsoft-dsvm/artifacttypes/vmimage/offers/ubuntu-2204/skus/2204-gen2/versions/25.04.22": `{"name":"25.04.22","location":"eastus"}`,
	"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks":                                     `{"value":[]}`,
}

func with(base map[string]string, more map[string]string) map[string]string {
	all := map[string]string{}
	for k, v := range base {
		all[k] = v
	}
	for k, v := range more {
		all[k] = v
	}
	return all
}

// TestPollRefusedIsFinal: the status of a long-running operation lives under
// /providers/Microsoft.Network/locations/{region}/operations, outside the
// resource group. A role without the right to read it gets 403 on every
// poll: that is an answer naming the missing permission, not Azure being
// unreachable (which the engine would wait out for ten minutes).
func TestPollRefusedIsFinal(t *testing.T) {
	a := subscription(t, map[string]string{
		"PUT /networkSecurityGroups/lb-box-nsg":                             `201 {server}/subscriptions/sub-1/providers/Microsoft.Network/locations/eastus/operations/op-1?api-version=2024-05-01#` + nsgJSON("Updating"),
		"GET /providers/Microsoft.Network/locations/eastus/operations/op-1": `403 {"error":{"code":"AuthorizationFailed","message":"The client 'portal' does not have authorization to perform action 'Microsoft.Network/locations/operations/read' over scope '/subscriptions/sub-1'."}}`,
	})
	inst := &instancehub.Instance{Name: "lb-box", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com"}
	c := loopbackCloud(t, a)
	ctx := context.Background()
	token, err := c.BeginStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst)
	if err != nil || token == "" {
		t.Fatalf("begin: token %q, err %v", token, err)
	}
	_, err = c.PollStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst, token)
	if code := instancehub.ErrorCode(err); code == instancehub.EUNAVAILABLE || code == "" {
		t.Fatalf("poll refused: code %q (%v), want a final error", code, err)
	}
	if msg := instancehub.ErrorMessage(err); !strings.Contains(msg, "lacks the permission Microsoft.Network/locations/operations/read") {
		t.Errorf("message %q does not name the missing permission", msg)
	}
	for _, action := range []string{"Microsoft.Compute/locations/operations/read", "Microsoft.Network/locations/operations/read", "Microsoft.Network/locations/operationResults/read"} {
		if !contains(azure.SubscriptionActions, action) {
			t.Errorf("the role lacks %s", action)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestDoctorPermissionScopes: the doctor reads the permissions at the
// subscription as well as on the group, and a role assigned on the group
// only (which cannot read operation status) fails at the subscription.
func TestDoctorPermissionScopes(t *testing.T) {
	a := subscription(t, with(emptySubscription, map[string]string{
		"GET /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Authorization/permissions": `{"value":[{"actions":["Microsoft.Compute/*","Microsoft.Network/*","Microsoft.Resources/subscriptions/resourceGroups/read"],"notActions":[]}]}`,
		"GET /subscriptions/sub-1/providers/Microsoft.Authorization/permissions":                     `{"value":[{"actions":["Microsoft.Compute/locations/usages/read","Microsoft.Compute/skus/read","Microsoft.Compute/locations/publishers/*","Microsoft.Authorization/permissions/read"],"notActions":[]}]}`,
	}))
	checks := loopbackCloud(t, a).Doctor(context.Background(), false)
	byName := map[string]azure.Check{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	sub, group := byName["permissions on subscription"], byName["permissions on group"]
	if group.Status != "ok" {
		t.Errorf("group check = %+v, want ok", group)
	}
	if sub.Status != "fail" || !strings.Contains(sub.Detail, "Microsoft.Network/locations/operations/read") ||
		!strings.Contains(sub.Detail, "Microsoft.Compute/locations/operations/read") || strings.Contains(sub.Detail, "skus") {
		t.Errorf("subscription check = %+v, want the operation reads missing", sub)
	}
}

// TestDoctorPermissionsComplete: the permission list is read to its last
// page, an action granted only under a condition is a warning rather than
// a pass, and a region check Azure refuses for lack of permission says so
// instead of suggesting the region does not exist.
func TestDoctorPermissionsComplete(t *testing.T) {
	answers := with(emptySubscription, map[string]string{
		"GET /subscriptions/sub-1/providers/Microsoft.Authorization/permissions": `{"value":[{"actions":["Microsoft.Compute/*/read","Microsoft.Authorization/permissions/read"]}],` +
			`"nextLink":"{server}/subscriptions/sub-1/providers/Microsoft.Authorization/permissions/page-2?api-version=2022-04-01"}`,
		"GET /subscriptions/sub-1/providers/Microsoft.Authorization/permissions/page-2": `{"value":[{"actions":["Microsoft.Network/locations/*/read","Microsoft.Resources/subscriptions/providers/read"]}]}`,
		"GET /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Authorization/permissions": `{"value":[` +
			`{"actions":["Microsoft.Compute/*","Microsoft.Resources/subscriptions/resourceGroups/read","Microsoft.Network/*/read","Microsoft.Network/*/join/action","Microsoft.Network/*/delete"]},` +
			`{"actions":["Microsoft.Network/*/write"],"condition":"@Resource[Microsoft.Network/virtualNetworks:name] StringEquals 'vnet-1'","conditionVersion":"2.0"}]}`,
	})
	checks := loopbackCloud(t, subscription(t, answers)).Doctor(context.Background(), false)
	byName := map[string]azure.Check{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	if sub := byName["permissions on subscription"]; sub.Status != "ok" {
		t.Errorf("subscription check = %+v, want ok with the second page read", sub)
	}
	if group := byName["permissions on group"]; group.Status != "warn" || !strings.Contains(group.Detail, "Microsoft.Network/networkSecurityGroups/write") {
		t.Errorf("group check = %+v, want a warning naming the conditional writes", group)
	}

	answers["GET /providers/Microsoft.Compute/skus"] = `403 {"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action 'Microsoft.Compute/skus/read'."}}`
	checks = loopbackCloud(t, subscription(t, answers)).Doctor(context.Background(), false)
	found := false
	for _, c := range checks {
		found = found || c.Name == "region eastus"
		if c.Name == "region eastus" && (c.Status != "fail" || strings.Contains(c.Fix, "region exists") || !strings.Contains(c.Fix, "Microsoft.Compute/skus/read")) {
			t.Errorf("region check refused = %+v, want the missing permission, not a missing region", c)
		}
	}
	if !found {
		t.Errorf("no region check in %+v", checks)
	}
}

// TestDoctorPortalPlacement: the applications admit only the portal's
// range, so the doctor checks that range is inside the instances' network
// or in a network peered with it, and says how to place the portal if not.
func TestDoctorPortalPlacement(t *testing.T) {
	vnet := `{"name":"vnet-1","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},` +
		`"subnets":[{"name":"default","properties":{"addressPrefix":"10.1.0.0/24"}}],` +
		`"virtualNetworkPeerings":[{"name":"to-portal","properties":{"peeringState":"Connected","remoteAddressSpace":{"addressPrefixes":["172.16.0.0/20"]}}},` +
		`{"name":"half-made","properties":{"peeringState":"Initiated","remoteAddressSpace":{"addressPrefixes":["192.168.0.0/16"]}}}]}}`
	a := subscription(t, with(emptySubscription, map[string]string{
		"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks":        `{"value":[` + vnet + `]}`,
		"GET /resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1": vnet,
		"GET /providers/Microsoft.Authorization/permissions":                          `{"value":[{"actions":["*"]}]}`,
	}))
	for _, tt := range []struct{ source, want, fix string }{
		{"", "fail", "--azure-portal-source"},
		{"10.1.7.0/24", "ok", ""},
		{"172.16.3.0/24", "ok", ""},
		{"192.168.1.0/24", "fail", "peering create"},
		{"10.9.0.0/24", "fail", "peering create"},
	} {
		c, err := azure.New(azure.Config{SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"},
			VirtualNetwork: "vnet-1", Subnet: "default", AppSourceRange: tt.source}, &azfake.TokenCredential{}, loopbackOptions(a))
		if err != nil {
			t.Fatal(err)
		}
		var got azure.Check
		for _, check := range c.Doctor(context.Background(), false) {
			if check.Name == "portal reach eastus" {
				got = check
			}
		}
		if got.Status != tt.want || !strings.Contains(got.Fix+got.Detail, tt.fix) {
			t.Errorf("portal at %q: %+v, want %s mentioning %q", tt.source, got, tt.want, tt.fix)
		}
	}
}
