package azure_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
)

// computeThrottled is Compute's answer to a subscription over one of its
// limits, as Azure's troubleshooting page for throttling shows it: 429,
// Retry-After 1200, and OperationNotAllowed with TooManyRequests in its
// details.
func computeThrottled(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1200")
	w.Header().Set("x-ms-ratelimit-remaining-resource", "Microsoft.Compute/PutVM3Min;0,Microsoft.Compute/PutVM30Min;3")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"code":"OperationNotAllowed","message":"The server rejected the request because too many requests have been received for this subscription.",`+
		`"details":[{"code":"TooManyRequests","target":"PutVM30Min","message":"{\"operationGroup\":\"PutVM30Min\",\"allowedRequestCount\":500,\"measuredRequestCount\":1238}"}],`+
		`"innererror":{"internalErrorCode":"TooManyRequestsReceived"}}`)
}

// networkLocked is Network's answer while another operation holds the
// resource: 429 RetryableErrorDueToAnotherOperation, with no Retry-After.
func networkLocked(w http.ResponseWriter) {
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"error":{"code":"RetryableErrorDueToAnotherOperation","message":"Operation PutNetworkInterfaceOperation on resource /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/networkInterfaces/busy-box-nic is waiting for operation PutNetworkSecurityGroupOperation to complete.","details":[]}}`)
}

// groupCloud is a Cloud on the group's loopback ARM that waits by clock.
// azcore's own retries wait a millisecond, so that a 429 it retries costs
// the test nothing; it still gives up on a Retry-After over a minute.
func groupCloud(t *testing.T, g *group, clock *testClock) *azure.Cloud {
	t.Helper()
	opts := loopbackOptions(&armServer{Server: g.Server})
	opts.Retry = policy.RetryOptions{MaxRetries: 4, RetryDelay: time.Millisecond, MaxRetryDelay: time.Minute}
	c, err := azure.New(azure.Config{
		SubscriptionID: "sub-1", ResourceGroup: "rg-1", Regions: []string{"eastus"}, PortalID: "instancehub",
		PublicIP: true, SSHSourceRange: "203.0.113.0/24", AppSourceRange: "10.9.0.0/24",
		Image:        azure.Image{Publisher: "microsoft-dsvm", Offer: "ubuntu-2204", SKU: "2204-gen2", Version: "25.04.22"},
		RStudioImage: pinnedRStudio,
		Now:          clock.Now, Sleep: clock.Sleep,
	}, &azfake.TokenCredential{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func busyBox() *instancehub.Instance {
	return &instancehub.Instance{ID: 1, Name: "busy-box", Region: "eastus", VMSize: "Standard_DS3_v2", SSHPort: 22,
		SSHEnabled: true, SSHPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8mN5o0H9GmWQ0jDmK5aS5cOl0pM3r3JQUgD0c0iYv ada@laptop",
		VirtualNetwork: "vnet-1", Subnet: "default", OwnerEmail: "ada@example.com", AppSecret: "s3cret-of-busy-box_0123456789abcdefghij"}
}

// TestThrottlingWaitedOut: Compute's 429 with Retry-After 1200 at the VM's
// PUT and at its operation's status, and Network's 429 while another
// operation holds the network interface, are waited out for as long as
// they ask; the create then finishes, on a clock that moved forty minutes
// while the test took none.
func TestThrottlingWaitedOut(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	g.async = []string{"/virtualMachines/"}
	var vmPuts, vmPolls int
	var locked time.Time
	g.throttle = func(w http.ResponseWriter, r *http.Request) bool {
		path := r.URL.Path
		switch {
		case r.Method == http.MethodPut && strings.HasSuffix(path, "/virtualMachines/busy-box"):
			if vmPuts++; vmPuts == 1 {
				computeThrottled(w)
				return true
			}
		case strings.Contains(path, "/operations/"):
			if vmPolls++; vmPolls == 1 {
				computeThrottled(w)
				return true
			}
		case r.Method == http.MethodPut && strings.HasSuffix(path, "/networkInterfaces/busy-box-nic"):
			if locked.IsZero() {
				locked = clock.Now()
			}
			if clock.Now().Sub(locked) < 40*time.Second {
				networkLocked(w)
				return true
			}
		}
		return false
	}
	op := runOperation(t, groupCloud(t, g, clock), busyBox(), instancehub.OpCreate)
	if op.Status != instancehub.StatusSucceeded {
		t.Fatalf("create %s: %s %s", op.Status, op.ErrorCode, op.ErrorMessage)
	}
	if left := g.left(); !slices.Equal(left, []string{"busy-box", "busy-box-ip", "busy-box-nic", "busy-box-nsg", "instancehub-secret"}) {
		t.Errorf("the group holds %v, want the whole workstation", left)
	}
	puts := g.requests("PUT /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/busy-box$")
	if len(puts) != 2 || puts[1].Sub(puts[0]) < 20*time.Minute {
		t.Errorf("VM PUTs at %v, want the throttled one sent again 20 minutes later", puts)
	}
	polls := g.requests("/operations/")
	if len(polls) < 2 || polls[1].Sub(polls[0]) < 20*time.Minute {
		t.Errorf("VM status polls at %v, want the throttled one asked again 20 minutes later", polls)
	}
	if nics := g.requests("PUT /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/networkInterfaces/"); len(nics) < 2 {
		t.Errorf("%d NIC PUTs, want the locked one sent again", len(nics))
	}
	if sleeps := clock.sleeps(); slices.Index(sleeps, 20*time.Minute) < 0 {
		t.Errorf("the cloud slept %v, want Retry-After's 20 minutes", sleeps)
	}
}

// TestThrottledToTheEnd: when Azure keeps throttling a step beyond the
// hour a step waits, the create fails saying so, and the clean-up removes
// what it made, whether the step was refused when it began or while it
// was polled.
func TestThrottledToTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		throttle func(r *http.Request) bool
	}{
		{"at begin", func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/virtualMachines/busy-box")
		}},
		{"at poll", func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/operations/") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			g := newGroup(t, clock)
			g.async = []string{"/virtualMachines/"}
			g.throttle = func(w http.ResponseWriter, r *http.Request) bool {
				if tc.throttle(r) {
					computeThrottled(w)
					return true
				}
				return false
			}
			start := clock.Now()
			op := runOperation(t, groupCloud(t, g, clock), busyBox(), instancehub.OpCreate)
			if op.Status != instancehub.StatusFailed || !strings.Contains(op.ErrorMessage, "throttl") {
				t.Fatalf("create %s: %s %s; want it failed for Azure's throttling", op.Status, op.ErrorCode, op.ErrorMessage)
			}
			if waited := clock.Now().Sub(start); waited < 40*time.Minute {
				t.Errorf("gave up after %v of Azure's 20-minute waits, want them honoured", waited)
			}
			if left := g.left(); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// TestUnavailableCreateCleansUp: a create that fails because Azure keeps
// failing (503 after every retry) still removes what its earlier steps
// made, as any other failed create does.
func TestUnavailableCreateCleansUp(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	g.throttle = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/virtualMachines/busy-box") {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"code":"ServerBusy","message":"The server is currently unable to handle the request."}}`)
			return true
		}
		return false
	}
	op := runOperation(t, groupCloud(t, g, clock), busyBox(), instancehub.OpCreate)
	if op.Status != instancehub.StatusFailed {
		t.Fatalf("create %s, want it failed", op.Status)
	}
	if left := g.left(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestWriteBudgetWaited: ARM says on every write what is left of the
// subscription's write budget (a bucket of 200 refilled at 10 a second);
// when it is nearly spent, the next step waits for it to refill rather
// than be refused.
func TestWriteBudgetWaited(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	g.throttle = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "-nsg") {
			w.Header().Set("x-ms-ratelimit-remaining-subscription-writes", "0")
		}
		return false
	}
	c, inst, ctx := groupCloud(t, g, clock), busyBox(), context.Background()
	for _, step := range []string{azure.StepSecurityGroup, azure.StepPublicIP} {
		if _, err := c.BeginStep(ctx, instancehub.OpCreate, step, inst); err != nil {
			t.Fatal(err)
		}
	}
	if sleeps := clock.sleeps(); !slices.Equal(sleeps, []time.Duration{2 * time.Second}) {
		t.Errorf("slept %v, want the 2 s ARM takes to refill 20 writes", sleeps)
	}
	ips := g.requests("PUT /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/publicIPAddresses/")
	nsgs := g.requests("PUT /subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Network/networkSecurityGroups/")
	if len(ips) != 1 || ips[0].Sub(nsgs[0]) < 2*time.Second {
		t.Errorf("the IP's PUT came %v after the write that spent the budget", ips[0].Sub(nsgs[0]))
	}
}
