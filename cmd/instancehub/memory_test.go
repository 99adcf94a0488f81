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

// TestHeapFloor: while the live heap is small, the collector waits for the
// floor; once the live heap is half the floor or more, Go's default holds;
// small moves are not told to the runtime.
func TestHeapFloor(t *testing.T) {
	const mb = 1 << 20
	var live uint64
	var set []int
	h := &heapFloor{floor: 64 * mb, percent: 100, live: func() uint64 { return live }, set: func(p int) { set = append(set, p) }}
	for _, step := range []struct {
		live uint64
		want int // the percent in force after tune
		told int // how many times the runtime was told
	}{
		{16 * mb, 300, 1},  // collect at 64 MB: 16 live + 48 garbage
		{17 * mb, 300, 1},  // 276 % would do; within a tenth of 300
		{8 * mb, 700, 2},   // smaller: more room
		{32 * mb, 100, 3},  // half the floor: the default
		{200 * mb, 100, 3}, // large: the default, nothing to tell
		{0, 2000, 4},       // a live heap read as nothing: bounded
		{20 * mb, 220, 5},  // back to a small heap
	} {
		live = step.live
		h.tune()
		if h.percent != step.want || len(set) != step.told {
			t.Fatalf("live %d MB: percent %d told %d times, want %d told %d times", step.live/mb, h.percent, len(set), step.want, step.told)
		}
		if set[len(set)-1] != h.percent {
			t.Fatalf("live %d MB: runtime told %d, percent %d", step.live/mb, set[len(set)-1], h.percent)
		}
	}
}
