package azure

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCatalogKeepsNoLoadAChangeOverlapped: a read of Azure begun before the
// portal changed what it reads (a usage read while a delete ends)
// may hold the value from before; it is answered but not kept, so the next
// read does not miss the change for the entry's whole lifetime.
func TestCatalogKeepsNoLoadAChangeOverlapped(t *testing.T) {
	for name, change := range map[string]func(c *catalog){
		"clear":  func(c *catalog) { c.clear() },
		"forget": func(c *catalog) { c.forget("eastus") },
	} {
		t.Run(name, func(t *testing.T) {
			c := &catalog{ttl: time.Minute}
			azure := 10
			stale, _ := cached(c, "eastus", func() (int, error) {
				v := azure
				azure += 4 // the change lands while the read is on its way back
				change(c)
				return v, nil
			})
			fresh, _ := cached(c, "eastus", func() (int, error) { return azure, nil })
			if stale != 10 || fresh != 14 {
				t.Fatalf("the overlapped read answered %d and then %d was read, want 10 and then 14 (the stale 10 not kept)", stale, fresh)
			}
		})
	}
}

// TestCatalogSharesALoadAmongCallersThatMissTogether: callers that find an
// entry missing at once share one read of Azure (at 100,000 instances the
// network list is 20 MB, and 8 creates read it at once); a caller after a
// change does not join a read begun before it; and a caller whose shared
// read failed (its first caller's request cancelled) reads for itself.
func TestCatalogSharesALoadAmongCallersThatMissTogether(t *testing.T) {
	c := &catalog{ttl: time.Minute}
	var loads atomic.Int32
	release := make(chan struct{})
	load := func() (int, error) {
		loads.Add(1)
		<-release
		return 7, nil
	}
	var wg sync.WaitGroup
	var arrived atomic.Int32
	got := make([]int, 8)
	for i := range got {
		wg.Go(func() {
			arrived.Add(1)
			got[i], _ = cached(c, "vnets", load)
		})
	}
	for loads.Load() == 0 || arrived.Load() < int32(len(got)) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the others join while the first reads
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 || slices.Contains(got, 0) {
		t.Errorf("8 callers at once read Azure %d times and got %v, want once and 7 each", n, got)
	}

	// A change while a read is on its way: a caller after it reads anew.
	c = &catalog{ttl: time.Minute}
	started, release := make(chan struct{}), make(chan struct{})
	before := make(chan int)
	go func() {
		v, _ := cached(c, "vnets", func() (int, error) { close(started); <-release; return 1, nil })
		before <- v
	}()
	<-started
	c.forget("vnets")
	after, _ := cached(c, "vnets", func() (int, error) { return 2, nil })
	close(release)
	if old := <-before; old != 1 || after != 2 {
		t.Errorf("read %d before the change and %d after it, want 1 and 2 (not the read begun before)", old, after)
	}

	// The shared read fails for its first caller: the others read.
	c = &catalog{ttl: time.Minute}
	started, release = make(chan struct{}), make(chan struct{})
	failed := make(chan error)
	go func() {
		_, err := cached(c, "vnets", func() (int, error) { close(started); <-release; return 0, context.Canceled })
		failed <- err
	}()
	<-started
	joined := make(chan int)
	go func() {
		v, err := cached(c, "vnets", func() (int, error) { return 3, nil })
		if err != nil {
			t.Errorf("the second caller got %v", err)
		}
		joined <- v
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-failed; !errors.Is(err, context.Canceled) {
		t.Errorf("the first caller got %v, want its own cancellation", err)
	}
	if v := <-joined; v != 3 {
		t.Errorf("the second caller got %d, want its own read (3)", v)
	}
}
