package engine

import (
	"context"

	"github.com/instancehub/instancehub"
)

// SyncNow runs one sync of e at once, not joining a recent one: for the
// benchmarks of a whole sync.
func (e *Engine) SyncNow(ctx context.Context) (instancehub.SyncReport, error) { return e.sync(ctx) }

// Crash stops e as a killed process would: its operations stop where they
// are, and their leases stay, to lapse.
func (e *Engine) Crash() {
	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	cancel()
	e.wg.Wait()
}
