package azure_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/azure"
	"github.com/instancehub/instancehub/internal/promtest"
	"github.com/instancehub/instancehub/metrics"
)

// TestThrottlingIsCounted: a create whose VM PUT Compute throttles (429,
// Retry-After 1200) and whose security group's answer says the write
// budget is low is counted as ARM answered it: each call by method and
// resource types with its status, the 429, what is left of each budget,
// and the steps' waits, throttled and for the budget.
func TestThrottlingIsCounted(t *testing.T) {
	clock := newTestClock()
	g := newGroup(t, clock)
	g.async = []string{"/virtualMachines/"}
	vmPuts := 0
	g.throttle = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/virtualMachines/busy-box"):
			if vmPuts++; vmPuts == 1 {
				computeThrottled(w)
				return true
			}
		case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "-nsg"):
			w.Header().Set("x-ms-ratelimit-remaining-subscription-writes", "7")
		}
		return false
	}
	m := metrics.New(metrics.Options{Replica: "a"})
	cfg := groupCloud(t, g, clock).Config()
	cfg.Metrics = m
	opts := loopbackOptions(&armServer{Server: g.Server})
	opts.Retry = policy.RetryOptions{MaxRetries: 4, RetryDelay: time.Millisecond, MaxRetryDelay: time.Minute}
	c, err := azure.New(cfg, &azfake.TokenCredential{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if op := runOperation(t, c, busyBox(), instancehub.OpCreate); op.Status != instancehub.StatusSucceeded {
		t.Fatalf("create %s: %s %s", op.Status, op.ErrorCode, op.ErrorMessage)
	}

	f := promtest.Scrape(t, m.Handler())
	vmPut := "PUT Microsoft.Compute/virtualMachines"
	for _, want := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"instancehub_arm_requests_total", map[string]string{"operation": vmPut, "code": "429"}, 1},
		{"instancehub_arm_requests_total", map[string]string{"operation": vmPut}, 2},
		{"instancehub_arm_requests_total", map[string]string{"operation": "PUT Microsoft.Network/networkSecurityGroups"}, 1},
		{"instancehub_arm_request_duration_seconds", map[string]string{"operation": vmPut}, 2},
		{"instancehub_arm_throttled_total", map[string]string{"operation": vmPut}, 1},
		{"instancehub_arm_throttled_total", nil, 1},
		{"instancehub_arm_ratelimit_remaining", map[string]string{"budget": "Microsoft.Compute/PutVM3Min"}, 0},
		{"instancehub_arm_ratelimit_remaining", map[string]string{"budget": "Microsoft.Compute/PutVM30Min"}, 3},
		{"instancehub_arm_ratelimit_remaining", map[string]string{"budget": "subscription-writes"}, 7},
		{"instancehub_arm_wait_seconds_total", map[string]string{"reason": "throttled"}, 1200},
		{"instancehub_arm_wait_seconds_total", map[string]string{"reason": "budget"}, 1.3},
	} {
		if got := f.Sum(want.name, want.labels); got != want.value {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.value)
		}
	}
	for _, op := range f.Values("instancehub_arm_requests_total", "operation") {
		if strings.Contains(op, "busy-box") || strings.Contains(op, "sub-1") || strings.Contains(op, "rg-1") {
			t.Errorf("an operation names a resource: %q", op)
		}
	}
}
