package azure_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// subscription is a loopback ARM whose answers are looked up by the end of
// the request's path ("METHOD suffix"); what it does not know is 404.
func subscription(t *testing.T, answers map[string]string) *armServer {
	t.Helper()
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for key, body := range answers {
			method, suffix, _ := strings.Cut(key, " ")
			if r.Method == method && strings.HasSuffix(strings.ToLower(r.URL.Path), strings.ToLower(suffix)) {
				status := http.StatusOK
				if code, rest, ok := strings.Cut(body, " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '5' {
					fmt.Sscan(code, &status)
					body = rest
				}
				if strings.Contains(body, "{server}") {
					body = strings.ReplaceAll(body, "{server}", "https://"+r.Host)
					w.Header().Set("Azure-AsyncOperation", body[strings.Index(body, "https://"):strings.Index(body, "#")])
					body = body[strings.Index(body, "#")+1:]
				}
				w.WriteHeader(status)
				fmt.Fprint(w, body)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":"ResourceNotFound","message":"%s %s was not found."}}`, r.Method, r.URL.Path)
	}))
	t.Cleanup(server.Close)
	return &armServer{Server: server}
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
		"GET /subscriptions/sub-1/providers/Microsoft.Authorization/permissions":                     `{"value":[{"actions":["Microsoft.Compute/virtualMachines/read","Microsoft.Compute/locations/usages/read","Microsoft.Compute/skus/read","Microsoft.Compute/locations/publishers/*","Microsoft.Authorization/permissions/read"],"notActions":[]}]}`,
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
