package instancehub

import (
	"context"
	"sync"
)

// VersionMemo holds the database's data version (what tells the kept pages
// and reads from stale ones) as a request that reads first read it, so
// that its later reads (the session, the page cache, the list) do not ask
// the database again: asking is a read transaction, and a page view asked
// two or three times. It holds the version only while the request runs
// and until the request writes, since its own write moves the version.
type VersionMemo struct {
	mu      sync.Mutex
	version int64
	set     bool
	ended   bool
}

const versionMemoContextKey contextKey = 100

// NewContextWithVersionMemo returns a copy of ctx carrying a memo for the
// request it serves; End it when the request is answered, since work the
// request started may outlive it.
func NewContextWithVersionMemo(ctx context.Context) (context.Context, *VersionMemo) {
	m := &VersionMemo{}
	return context.WithValue(ctx, versionMemoContextKey, m), m
}

// VersionMemoFromContext returns the request's memo, or nil.
func VersionMemoFromContext(ctx context.Context) *VersionMemo {
	m, _ := ctx.Value(versionMemoContextKey).(*VersionMemo)
	return m
}

// Version returns the version kept, if any.
func (m *VersionMemo) Version() (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, m.set && !m.ended
}

// Keep keeps a version read while the request runs.
func (m *VersionMemo) Keep(version int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version, m.set = version, true
}

// Forget drops the version kept: the request wrote.
func (m *VersionMemo) Forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set = false
}

// End ends the memo with its request: whatever outlives it reads anew.
func (m *VersionMemo) End() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = true
}
