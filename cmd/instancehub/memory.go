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
type idleRelease struct {
	period time.Duration
	quiet  uint64
	// allocated is the bytes allocated so far; release returns the free
	// heap to the system.
	allocated func() uint64
	release   func()
}

func newIdleRelease(period time.Duration, quiet uint64) *idleRelease {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	return &idleRelease{period: period, quiet: quiet, release: debug.FreeOSMemory,
		allocated: func() uint64 {
			metrics.Read(sample)
			return sample[0].Value.Uint64()
		}}
}

func (r *idleRelease) run(ctx context.Context) {
	t := time.NewTicker(r.period)
	defer t.Stop()
	last := r.allocated()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last = r.tick(last)
	}
}

// tick releases the free heap if the period since last was quiet but not
// idle, and returns the count to measure the next period from.
func (r *idleRelease) tick(last uint64) uint64 {
	if now := r.allocated(); now != last && now-last < r.quiet {
		r.release()
	}
	return r.allocated()
}
