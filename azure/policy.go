package azure

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// The retries of every request: ARM's 429 (honouring Retry-After), 5xx and
// timeouts are tried again up to four times, waiting 2 s doubling to 60 s.
// azcore does not retry at all when Retry-After asks for more than
// MaxRetryDelay (Compute asks for up to 20 minutes): a step waits those out
// itself (waitOut), and so it does a 429 still refused after four tries.
var retry = policy.RetryOptions{
	MaxRetries:    4,
	TryTimeout:    2 * time.Minute,
	RetryDelay:    2 * time.Second,
	MaxRetryDelay: 60 * time.Second,
}

// withPolicies copies opts, adding the retry defaults (unless the caller
// set its own) and the policy that watches ARM's budgets.
func withPolicies(opts *arm.ClientOptions, b *budgets) *arm.ClientOptions {
	o := arm.ClientOptions{}
	if opts != nil {
		o = *opts
	}
	o.ClientOptions = withRetries(o.ClientOptions)
	o.PerRetryPolicies = append(append([]policy.Policy(nil), o.PerRetryPolicies...), b)
	return &o
}

// withRetries copies opts with the retry defaults, unless the caller set
// its own.
func withRetries(o azcore.ClientOptions) azcore.ClientOptions {
	if o.Retry.MaxRetries == 0 && o.Retry.RetryDelay == 0 && o.Retry.TryTimeout == 0 {
		o.Retry = retry
	}
	return o
}

// budgets remembers what ARM says is left of the subscription's budgets:
// reads (x-ms-ratelimit-remaining-subscription-reads), so that the
// background sync can stand back before Azure starts refusing; writes and
// deletes (…-subscription-writes, …-subscription-deletes), so that a step
// waits for its bucket to refill rather than be refused; and compute's own
// (x-ms-ratelimit-remaining-resource).
type budgets struct {
	now     func() time.Time
	metrics Metrics // nil: nobody is told

	mu              sync.Mutex
	reads           bucket
	writes, deletes bucket
	// computeUntil is when compute's lowest budget will have refilled.
	computeUntil time.Time
}

// bucket is what ARM last said is left of one budget, and when.
type bucket struct {
	left int
	seen time.Time
}

// wait is how long the bucket takes to refill to low at perSecond, from
// what it held when last seen: 0 when it holds enough, or was never seen.
func (b bucket) wait(low, perSecond int, now time.Time) time.Duration {
	if b.seen.IsZero() || b.left >= low {
		return 0
	}
	refill := time.Duration(low-b.left) * time.Second / time.Duration(perSecond)
	return max(refill-now.Sub(b.seen), 0)
}

// ReadBudgetLow is the remaining read budget under which the sync waits.
const ReadBudgetLow = 100

// armRefillPerSecond is how fast ARM refills a subscription's reads: a
// token bucket of 250 refilled at 25 a second. Under the older hourly
// budget the header reports thousands; a low figure there only makes the
// sync stand back again on its next read, which is as it should be.
const armRefillPerSecond = 25

// WriteBudgetLow is the remaining write (or delete) budget under which a
// step waits before it writes. ARM refills writes and deletes as buckets of
// 200 at 10 a second, so the wait is two seconds at most.
const (
	WriteBudgetLow          = 20
	armWriteRefillPerSecond = 10
)

// ComputeBudgetLow is the remaining count of a compute throttling policy
// (HighCostGet3Min, HighCostGet30Min, …) under which the sync waits.
const ComputeBudgetLow = 20

// Do implements policy.Policy: it runs once per try of a request.
func (b *budgets) Do(req *policy.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := req.Next()
	if b.metrics != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		b.metrics.ARMRequest(operationOf(req.Raw()), status, time.Since(began))
	}
	if resp == nil {
		return resp, err
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for header, bk := range map[string]*bucket{
		"x-ms-ratelimit-remaining-subscription-reads":   &b.reads,
		"x-ms-ratelimit-remaining-subscription-writes":  &b.writes,
		"x-ms-ratelimit-remaining-subscription-deletes": &b.deletes,
	} {
		if n, perr := strconv.Atoi(resp.Header.Get(header)); perr == nil {
			*bk = bucket{left: n, seen: now}
			if b.metrics != nil {
				b.metrics.ARMBudget(strings.TrimPrefix(header, "x-ms-ratelimit-remaining-"), n)
			}
		}
	}
	remaining := resp.Header.Get("x-ms-ratelimit-remaining-resource")
	if until := computeHold(remaining, now); until.After(b.computeUntil) {
		b.computeUntil = until
	}
	if b.metrics != nil && remaining != "" {
		for name, n := range computeBudgets(remaining) {
			b.metrics.ARMBudget(name, n)
		}
	}
	return resp, err
}

// operationOf names a request to ARM without the names of what it is
// about: its method and the types along its path ("PUT
// Microsoft.Compute/virtualMachines", "POST
// Microsoft.Compute/virtualMachines/start", "GET
// Microsoft.Compute/locations/operations"), so that the figures of every
// VM's requests add up, and their labels stay a few dozen.
func operationOf(r *http.Request) string {
	segments := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	types := []string{}
	// After the last "providers": the namespace, then pairs of a type and
	// a name, and an action when one is left over; before it, or without
	// one, pairs from the start (subscriptions/{id}/resourceGroups/{name}).
	start := 0
	for i, s := range segments {
		if strings.EqualFold(s, "providers") && i+1 < len(segments) {
			start, types = i+2, []string{segments[i+1]}
		}
	}
	for i := start; i < len(segments); i += 2 {
		types = append(types, segments[i])
	}
	return r.Method + " " + strings.Join(types, "/")
}

// computeBudgets reads compute's budgets by policy, as in
// "Microsoft.Compute/HighCostGet3Min;107,Microsoft.Compute/HighCostGet30Min;527".
func computeBudgets(header string) map[string]int {
	left := map[string]int{}
	for _, policy := range strings.Split(header, ",") {
		name, count, ok := strings.Cut(strings.TrimSpace(policy), ";")
		if n, err := strconv.Atoi(count); ok && err == nil && name != "" {
			left[name] = n
		}
	}
	return left
}

// writeWait is how long a step should wait before it writes (or deletes):
// until ARM has refilled that budget above WriteBudgetLow.
func (b *budgets) writeWait(deletes bool) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.writes
	if deletes {
		bk = b.deletes
	}
	return bk.wait(WriteBudgetLow, armWriteRefillPerSecond, b.now())
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
	now := b.now()
	wait := b.reads.wait(ReadBudgetLow, armRefillPerSecond, now)
	return max(wait, b.computeUntil.Sub(now), 0)
}
