package main

import (
	"testing"
	"time"
)

// TestIdleRelease: the free heap goes back to the system after a quiet
// period that allocated something (a sync, a few pages), not during load,
// and not again while nothing at all happens.
func TestIdleRelease(t *testing.T) {
	var allocs uint64
	released := 0
	r := &idleRelease{period: time.Second, quiet: 100, allocated: func() uint64 { return allocs }, release: func() { released++ }}
	last := r.tick(0)
	for _, step := range []struct {
		alloc uint64
		want  int
	}{
		{0, 0},    // idle since the start: nothing to give back
		{40, 1},   // a sync's garbage, then quiet
		{0, 1},    // nothing new: no collection for nothing
		{5000, 1}, // under load: the collector is left alone
		{10, 2},   // quiet again after the load
	} {
		allocs += step.alloc
		last = r.tick(last)
		if released != step.want {
			t.Fatalf("after allocating %d: %d releases, want %d", step.alloc, released, step.want)
		}
	}
}
