package instancehub

import "context"

// DummyHash is the hash checked for unknown accounts, for the tests.
const DummyHash = dummyHash

// SyncNow runs one sync of e at once, not joining a recent one: for the
// benchmarks of a whole sync.
func (e *Engine) SyncNow(ctx context.Context) (SyncReport, error) { return e.sync(ctx) }
