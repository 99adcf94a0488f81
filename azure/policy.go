package azure

import (
	"net/http"
	"strconv"
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
// budget (x-ms-ratelimit-remaining-subscription-reads), so that the
// background sync can stand back before ARM starts refusing.
type readBudget struct {
	mu        sync.Mutex
	remaining int
	seen      time.Time
}

// ReadBudgetLow is the remaining read budget under which the sync waits.
const ReadBudgetLow = 100

// readBudgetBackoff is how long the sync waits when the budget runs low: ARM
// refills it continuously, a few minutes restore plenty.
const readBudgetBackoff = 2 * time.Minute

// Do implements policy.Policy.
func (b *readBudget) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if resp == nil {
		return resp, err
	}
	if v := resp.Header.Get("x-ms-ratelimit-remaining-subscription-reads"); v != "" {
		if n, perr := strconv.Atoi(v); perr == nil {
			b.mu.Lock()
			b.remaining, b.seen = n, time.Now()
			b.mu.Unlock()
		}
	}
	return resp, err
}

// ReadBackoff says how long to hold off reads that can wait: non-zero
// while the last budget ARM reported is low.
func (c *Cloud) ReadBackoff() time.Duration {
	b := &c.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen.IsZero() || b.remaining >= ReadBudgetLow {
		return 0
	}
	if left := readBudgetBackoff - time.Since(b.seen); left > 0 {
		return left
	}
	return 0
}
