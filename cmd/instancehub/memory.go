package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// idleRelease gives the heap's garbage back to the system whenever the
// portal is quiet. A sync of thousands of instances, a burst of pages or a
// sign-in (argon2id takes 19 MiB) leaves the heap large, and Go keeps the
// pages it grew into until its next collections need them, which an idle
// portal never makes: its resident memory would stay at its peak. So each
// period in which the portal allocated something, but less than quiet, it
// collects and returns what is free (a few milliseconds for its small live
// heap); under load it leaves the collector alone.
//
// The portal's own work is told apart (kick): after a sync or a tick of
// the scheduler, each of which at 100,000 instances leaves 20 to 30 MB of
// garbage until the next period, the free heap is returned at once unless
// people asked for something since the last period (then the periods
// decide, as under load).
type idleRelease struct {
	period time.Duration
	quiet  uint64
	// allocated is the bytes allocated so far; release returns the free
	// heap to the system; requests counts the requests begun.
	allocated func() uint64
	release   func()
	requests  func() uint64
	kicks     chan struct{}
}

// newIdleRelease is a release whose requests the caller sets before run.
func newIdleRelease(period time.Duration, quiet uint64) *idleRelease {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	return &idleRelease{period: period, quiet: quiet, release: debug.FreeOSMemory,
		kicks: make(chan struct{}, 1),
		allocated: func() uint64 {
			metrics.Read(sample)
			return sample[0].Value.Uint64()
		}}
}

// kick tells that the portal's own work (a sync, a scheduler tick) just
// ended.
func (r *idleRelease) kick() {
	select {
	case r.kicks <- struct{}{}:
	default: // one is waiting already
	}
}

func (r *idleRelease) run(ctx context.Context) {
	t := time.NewTicker(r.period)
	defer t.Stop()
	last, asked := r.allocated(), r.requests()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			last, asked = r.tick(last), r.requests()
		case <-r.kicks:
			last = r.kicked(last, asked)
		}
	}
}

// kicked releases the free heap after the portal's own work if no request
// began since the last period (asked), and returns the count to measure
// the next period from.
func (r *idleRelease) kicked(last, asked uint64) uint64 {
	if r.requests() != asked {
		return last
	}
	r.release()
	return r.allocated()
}

// tick releases the free heap if the period since last was quiet but not
// idle, and returns the count to measure the next period from.
func (r *idleRelease) tick(last uint64) uint64 {
	if now := r.allocated(); now != last && now-last < r.quiet {
		r.release()
	}
	return r.allocated()
}

// heapFloor lets the heap grow to floor bytes of garbage and live data
// before the collector runs, where Go's default (GOGC=100) collects each
// time the heap doubles. The portal's live heap is small (13 MB at 1,000
// instances), so by default it collected every 13 MB allocated, about a
// hundred list pages, and its marking took a sixth of a page's CPU under
// load. Above floor/2 of live data the default holds: the floor costs at
// most floor bytes, and only while people use the portal (requests came
// since the last tune): its own work (a sync of 100,000 instances every
// 30 s) keeps the default, so that an idle portal's heap stays near its
// live data, and idleRelease returns the garbage once the portal is
// quiet. GOGC, when set, is the operator's choice and is left alone.
type heapFloor struct {
	floor    uint64
	live     func() uint64 // the live heap after the last collection
	requests func() uint64 // how many requests the portal has begun
	set      func(percent int)
	percent  int    // as last set; 100 is Go's default
	served   uint64 // requests at the last tune
}

func newHeapFloor(floor uint64, requests func() uint64) *heapFloor {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	return &heapFloor{floor: floor, percent: 100, requests: requests,
		set: func(p int) { debug.SetGCPercent(p) },
		live: func() uint64 {
			metrics.Read(sample)
			return sample[0].Value.Uint64()
		}}
}

func (h *heapFloor) run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		h.tune()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tune sets the collector's percent so that the next collection comes at
// floor bytes of heap, or when the live heap doubles, whichever is later,
// while requests come; a change of less than a tenth is not worth telling
// the runtime.
func (h *heapFloor) tune() {
	live := max(h.live(), 1<<20)
	served := h.requests()
	busy := served != h.served
	h.served = served
	p := 100
	if busy && live < h.floor/2 {
		p = int((h.floor - live) * 100 / live)
	}
	p = min(p, 2000)
	if p*10 < h.percent*9 || p*10 > h.percent*11 {
		h.percent = p
		h.set(p)
	}
}
