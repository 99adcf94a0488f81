package azure

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// The retries of every request: ARM's 429 (honouring Retry-After), 5xx and
// timeouts are tried again up to four times, waiting 2 s doubling to 60 s,
// then surface as the failed step's error.
var retry = policy.RetryOptions{
	MaxRetries:    4,
	TryTimeout:    2 * time.Minute,
	RetryDelay:    2 * time.Second,
	MaxRetryDelay: 60 * time.Second,
}

// withPolicies copies opts, adding the retry defaults (unless the caller
// set its own) and the policy that watches the read budget.
func withPolicies(opts *arm.ClientOptions, budget *readBudget) *arm.ClientOptions {
	o := arm.ClientOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Retry.MaxRetries == 0 && o.Retry.RetryDelay == 0 && o.Retry.TryTimeout == 0 {
		o.Retry = retry
	}
	o.PerRetryPolicies = append(append([]policy.Policy(nil), o.PerRetryPolicies...), budget)
	return &o
}

// readBudget remembers what ARM says is left of the subscription's read
// budget (x-ms-ratelimit-remaining-subscription-reads) and of compute's own
// budgets (x-ms-ratelimit-remaining-resource), so that the background sync
// can stand back before Azure starts refusing.
type readBudget struct {
	mu        sync.Mutex
	remaining int
	seen      time.Time
	// computeUntil is when compute's lowest budget will have refilled.
	computeUntil time.Time
}

// ReadBudgetLow is the remaining read budget under which the sync waits.
const ReadBudgetLow = 100

// armRefillPerSecond is how fast ARM refills a subscription's reads: a
// token bucket of 250 refilled at 25 a second. Under the older hourly
// budget the header reports thousands; a low figure there only makes the
// sync stand back again on its next read, which is as it should be.
const armRefillPerSecond = 25

// ComputeBudgetLow is the remaining count of a compute throttling policy
// (HighCostGet3Min, HighCostGet30Min, …) under which the sync waits.
const ComputeBudgetLow = 20

// Do implements policy.Policy.
func (b *readBudget) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if resp == nil {
		return resp, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if v := resp.Header.Get("x-ms-ratelimit-remaining-subscription-reads"); v != "" {
		if n, perr := strconv.Atoi(v); perr == nil {
			b.remaining, b.seen = n, time.Now()
		}
	}
	if until := computeHold(resp.Header.Get("x-ms-ratelimit-remaining-resource"), time.Now()); until.After(b.computeUntil) {
		b.computeUntil = until
	}
	return resp, err
}

// computeHold reads compute's budgets, as in
// "Microsoft.Compute/HighCostGet3Min;107,Microsoft.Compute/HighCostGet30Min;527",
// and returns until when to hold off: a policy running low refills over its
// window, so the hold is a part of that window.
func computeHold(header string, now time.Time) time.Time {
	var until time.Time
	for _, policy := range strings.Split(header, ",") {
		name, count, ok := strings.Cut(strings.TrimSpace(policy), ";")
		n, err := strconv.Atoi(count)
		if !ok || err != nil || n >= ComputeBudgetLow {
			continue
		}
		hold := time.Minute
		if strings.HasSuffix(name, "30Min") {
			hold = 5 * time.Minute
		}
		if t := now.Add(hold); t.After(until) {
			until = t
		}
	}
	return until
}

// ReadBackoff says how long to hold off reads that can wait: until ARM has
// refilled the subscription's reads above ReadBudgetLow, and until
// compute's budgets running low have refilled.
func (c *Cloud) ReadBackoff() time.Duration {
	b := &c.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	var wait time.Duration
	if !b.seen.IsZero() && b.remaining < ReadBudgetLow {
		refill := time.Duration(ReadBudgetLow-b.remaining) * time.Second / armRefillPerSecond
		wait = refill - time.Since(b.seen)
	}
	if left := time.Until(b.computeUntil); left > wait {
		wait = left
	}
	return max(wait, 0)
}
