package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/instancehub/instancehub"
)

// Azure answers 429 Too Many Requests for two reasons: the subscription is
// over a limit (Compute asks, in Retry-After, for up to 20 minutes), or
// Network holds the resource for another operation
// (RetryableErrorDueToAnotherOperation, often with no Retry-After). Both
// are worth waiting out: the request is right, only early. azcore gives up
// on a Retry-After over its minute, so a step waits itself, on the cloud's
// clock, and fails only once it has waited throttledFor in all.
const (
	// maxRetryAfter bounds one wait: a Retry-After beyond it is waited this
	// long before asking again, never dropped.
	maxRetryAfter = 30 * time.Minute
	// throttledFor is how long one begin or one poll of a step may wait in
	// all before the step fails (ETHROTTLED).
	throttledFor = time.Hour
	// lockedWait is the wait when a 429 says not how long.
	lockedWait = 15 * time.Second
)

// waitOut calls try until it is not throttled, waiting between tries what
// Azure asks, for at most throttledFor in all.
func (c *Cloud) waitOut(ctx context.Context, try func() error) error {
	start := c.cfg.Now()
	for {
		err := try()
		wait, ok := throttled(err, c.cfg.Now())
		if !ok {
			return err
		}
		waited := c.cfg.Now().Sub(start)
		if waited+wait > throttledFor {
			return throttledError(err, waited)
		}
		if c.cfg.Metrics != nil {
			c.cfg.Metrics.ARMWaited("throttled", wait)
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// holdWrites waits until ARM has refilled the subscription's write (or
// delete) budget above WriteBudgetLow, when its last answer said it was low.
func (c *Cloud) holdWrites(ctx context.Context, deletes bool) error {
	if d := c.budget.writeWait(deletes); d > 0 {
		if c.cfg.Metrics != nil {
			c.cfg.Metrics.ARMWaited("budget", d)
		}
		return c.cfg.Sleep(ctx, d)
	}
	return nil
}

// throttled reports whether err is Azure asking to be asked later, and how
// much later: Retry-After (bounded by maxRetryAfter), else lockedWait.
func throttled(err error, now time.Time) (time.Duration, bool) {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || (re.StatusCode != http.StatusTooManyRequests && re.ErrorCode != "RetryableErrorDueToAnotherOperation") {
		return 0, false
	}
	wait := lockedWait
	if re.RawResponse != nil {
		if d := retryAfterOf(re.RawResponse.Header, now); d > 0 {
			wait = d
		}
	}
	return min(wait, maxRetryAfter), true
}

// throttledError is the step's failure once it has waited long enough.
func throttledError(err error, waited time.Duration) error {
	var re *azcore.ResponseError
	errors.As(err, &re)
	code, message := armError(re)
	return &instancehub.Error{Code: instancehub.ETHROTTLED, CloudCode: code, Message: fmt.Sprintf(
		"Azure kept throttling the portal's requests (or kept the resource locked by another operation) for %s, so the portal gave up. Azure said: %s",
		waited.Round(time.Minute), message)}
}

// retryAfterOf reads how long a response asks to be left: retry-after-ms,
// x-ms-retry-after-ms, or Retry-After in seconds or as an HTTP date, as
// azcore reads them.
func retryAfterOf(h http.Header, now time.Time) time.Duration {
	for _, name := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if n, err := strconv.Atoi(h.Get(name)); err == nil && n > 0 {
			return time.Duration(n) * time.Millisecond
		}
	}
	v := h.Get("Retry-After")
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}
