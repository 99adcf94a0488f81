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

// TestHeapFloor: while the live heap is small and requests come, the
// collector waits for the floor; once the live heap is half the floor or
// more, or while no request comes (the portal's own work), Go's default
// holds; small moves are not told to the runtime.
func TestHeapFloor(t *testing.T) {
	const mb = 1 << 20
	var live uint64
	var set []int
	var requests uint64
	h := &heapFloor{floor: 64 * mb, percent: 100, live: func() uint64 { return live },
		requests: func() uint64 { return requests }, set: func(p int) { set = append(set, p) }}
	for _, step := range []struct {
		live  uint64
		quiet bool // no request came since the last tune
		want  int  // the percent in force after tune
		told  int  // how many times the runtime was told
	}{
		{16 * mb, false, 300, 1},  // collect at 64 MB: 16 live + 48 garbage
		{17 * mb, false, 300, 1},  // 276 % would do; within a tenth of 300
		{8 * mb, false, 700, 2},   // smaller: more room
		{32 * mb, false, 100, 3},  // half the floor: the default
		{200 * mb, false, 100, 3}, // large: the default, nothing to tell
		{0, false, 2000, 4},       // a live heap read as nothing: bounded
		{20 * mb, false, 220, 5},  // back to a small heap
		{20 * mb, true, 100, 6},   // no requests (the portal's own work): the default
		{8 * mb, true, 100, 6},    // still none
		{8 * mb, false, 700, 7},   // people again
	} {
		live = step.live
		if !step.quiet {
			requests++
		}
		h.tune()
		if h.percent != step.want || len(set) != step.told {
			t.Fatalf("live %d MB: percent %d told %d times, want %d told %d times", step.live/mb, h.percent, len(set), step.want, step.told)
		}
		if set[len(set)-1] != h.percent {
			t.Fatalf("live %d MB: runtime told %d, percent %d", step.live/mb, set[len(set)-1], h.percent)
		}
	}
}

// TestIdleReleaseAfterASync: the free heap goes back at once after the
// portal's own work (a sync) when no one asked for anything since the last
// period, and is left to the periods when someone did.
func TestIdleReleaseAfterASync(t *testing.T) {
	var allocs, requests uint64
	released := 0
	r := &idleRelease{period: time.Hour, quiet: 100, allocated: func() uint64 { return allocs },
		requests: func() uint64 { return requests }, release: func() { released++ }}
	last, asked := r.tick(0), requests
	allocs += 5000 // a sync of many instances, more than a quiet period's
	if last = r.kicked(last, asked); released != 1 || last != allocs {
		t.Fatalf("after a sync with no request: %d releases, counting from %d; want 1, from %d", released, last, allocs)
	}
	requests++ // someone opens a page
	allocs += 5000
	if last = r.kicked(last, asked); released != 1 {
		t.Fatalf("after a sync during use: %d releases, want none more", released)
	}
	if r.tick(last); released != 1 {
		t.Fatalf("the period after the busy sync: %d releases, want none more (not quiet)", released)
	}
}
