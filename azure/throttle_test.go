package azure_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// TestBudgetsWatched: ARM refills a subscription's reads as a token bucket
// (250, 25 a second), so a low count means seconds of waiting, not minutes;
// compute throttles on its own (x-ms-ratelimit-remaining-resource), and a
// policy running low holds the sync off for a part of its window.
func TestBudgetsWatched(t *testing.T) {
	var reads, compute string
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-ms-ratelimit-remaining-subscription-reads", reads)
		if compute != "" {
			w.Header().Set("x-ms-ratelimit-remaining-resource", compute)
		}
		fmt.Fprint(w, `{"value":[]}`)
	}))
	defer server.Close()
	ctx := context.Background()

	reads = "0"
	c := loopbackCloud(t, &armServer{Server: server})
	if err := c.VMs(ctx, func(instancehub.VM) {}); err != nil {
		t.Fatal(err)
	}
	if d := c.ReadBackoff(); d <= 0 || d > 5*time.Second {
		t.Errorf("no reads left: backoff %v, want the 4 s the bucket takes to refill 100", d)
	}

	reads, compute = "240", "Microsoft.Compute/HighCostGet3Min;3,Microsoft.Compute/HighCostGet30Min;400"
	c = loopbackCloud(t, &armServer{Server: server})
	if err := c.VMs(ctx, func(instancehub.VM) {}); err != nil {
		t.Fatal(err)
	}
	if d := c.ReadBackoff(); d < 30*time.Second {
		t.Errorf("compute's 3-minute budget at 3: backoff %v, want the sync held off", d)
	}

	compute = "Microsoft.Compute/HighCostGet3Min;150,Microsoft.Compute/HighCostGet30Min;700"
	c = loopbackCloud(t, &armServer{Server: server})
	if err := c.VMs(ctx, func(instancehub.VM) {}); err != nil {
		t.Fatal(err)
	}
	if d := c.ReadBackoff(); d != 0 {
		t.Errorf("budgets ample: backoff %v, want none", d)
	}
}

// TestPollHonoursRetryAfter: an operation's status response says when to
// ask again; the cloud reports it for the engine, which waits that long
// instead of its own interval.
func TestPollHonoursRetryAfter(t *testing.T) {
	var status string
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/operations/op-7"):
			w.Header().Set("Retry-After", "17")
			fmt.Fprintf(w, `{"status":%q}`, status)
		case r.Method == http.MethodPut:
			w.Header().Set("Azure-AsyncOperation", "https://"+r.Host+"/subscriptions/sub-1/providers/Microsoft.Network/locations/eastus/operations/op-7?api-version=2024-05-01")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, nsgJSON("Updating"))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/networkSecurityGroups/lb-box-nsg") && status == "Succeeded":
			fmt.Fprint(w, nsgJSON("Succeeded"))
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"ResourceNotFound","message":"Not found."}}`)
		}
	}))
	defer server.Close()
	inst := &instancehub.Instance{Name: "lb-box", Region: "eastus", VMSize: "Standard_DS1_v2", SSHPort: 22,
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com"}
	c := loopbackCloud(t, &armServer{Server: server})
	ctx := context.Background()
	token, err := c.BeginStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst)
	if err != nil {
		t.Fatal(err)
	}
	status = "InProgress"
	if done, err := c.PollStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst, token); done || err != nil {
		t.Fatalf("poll: %v, %v", done, err)
	}
	if d := c.PollAfter(token); d != 17*time.Second {
		t.Errorf("PollAfter = %v, want the operation's Retry-After of 17 s", d)
	}
	status = "Succeeded"
	if done, err := c.PollStep(ctx, instancehub.OpCreate, azure.StepSecurityGroup, inst, token); !done || err != nil {
		t.Fatalf("poll: %v, %v", done, err)
	}
	if d := c.PollAfter(token); d != 0 {
		t.Errorf("PollAfter after the end = %v, want it forgotten", d)
	}
}
