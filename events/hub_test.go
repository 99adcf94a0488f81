package events_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/instancehub/instancehub"
	"github.com/instancehub/instancehub/events"
)

func change(id int64) instancehub.InstanceChange { return instancehub.InstanceChange{ID: id} }

// next reads the next change, failing if none is there: Publish delivers
// before it returns, so nothing needs waiting for.
func next(t *testing.T, w instancehub.Watch) instancehub.InstanceChange {
	t.Helper()
	select {
	case c, ok := <-w.Changes():
		if !ok {
			t.Fatal("the stream ended")
		}
		return c
	default:
		t.Fatal("no change delivered")
		return instancehub.InstanceChange{}
	}
}

func none(t *testing.T, w instancehub.Watch) {
	t.Helper()
	select {
	case c, ok := <-w.Changes():
		t.Fatalf("got %v (open %v), want nothing", c, ok)
	default:
	}
}

func TestHubFansOutInOrder(t *testing.T) {
	var hub events.Hub
	a, err := hub.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hub.Subscribe(nil)
	hub.Publish(change(1))
	hub.Publish(change(2))
	for _, w := range []instancehub.Watch{a, b} {
		if got := next(t, w).ID; got != 1 {
			t.Errorf("first = %d", got)
		}
		if got := next(t, w).ID; got != 2 {
			t.Errorf("second = %d", got)
		}
	}
	a.Close()
	a.Close() // twice is harmless
	hub.Publish(change(3))
	if _, ok := <-a.Changes(); ok {
		t.Error("a closed subscription still hears")
	}
	if got := next(t, b).ID; got != 3 {
		t.Errorf("b got %d", got)
	}
	if hub.Len() != 1 {
		t.Errorf("%d open, want 1", hub.Len())
	}
}

// TestHubAuthorizes: a subscriber hears only the changes its filter allows.
func TestHubAuthorizes(t *testing.T) {
	var hub events.Hub
	mine, _ := hub.Subscribe(func(c instancehub.InstanceChange) bool { return c.ID == 7 })
	all, _ := hub.Subscribe(nil)
	hub.Publish(change(8))
	hub.Publish(change(7))
	if got := next(t, mine).ID; got != 7 {
		t.Errorf("the filtered subscriber heard %d first", got)
	}
	none(t, mine)
	if next(t, all).ID != 8 || next(t, all).ID != 7 {
		t.Error("the unfiltered subscriber missed a change")
	}
}

// TestHubDropsSlowConsumers: a subscriber that stops reading is dropped when
// its buffer is full, and Publish never waits for it.
func TestHubDropsSlowConsumers(t *testing.T) {
	var open []int
	var mu sync.Mutex
	hub := events.Hub{Open: func(n int) { mu.Lock(); open = append(open, n); mu.Unlock() }}
	slow, _ := hub.Subscribe(nil)
	quick, _ := hub.Subscribe(nil)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range events.Buffer + 10 {
			hub.Publish(change(int64(i)))
			<-quick.Changes()
		}
	}()
	select {
	case <-published:
	case <-time.After(10 * time.Second): // a deadlock's guard, not a measure
		t.Fatal("Publish waited for a subscriber that does not read")
	}
	n := 0
	for range slow.Changes() { // it ends: the hub closed it
		n++
	}
	if n != events.Buffer {
		t.Errorf("the slow subscriber got %d before being dropped, want %d", n, events.Buffer)
	}
	if hub.Len() != 1 {
		t.Errorf("%d open, want 1 (the quick one)", hub.Len())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(open) == 0 || open[len(open)-1] != 1 {
		t.Errorf("the gauge was told %v, last want 1", open)
	}
}

// TestHubClose ends every stream and refuses new ones.
func TestHubClose(t *testing.T) {
	var last int = -1
	hub := events.Hub{Open: func(n int) { last = n }}
	a, _ := hub.Subscribe(nil)
	hub.Close()
	if _, ok := <-a.Changes(); ok {
		t.Error("a stream outlived the hub")
	}
	a.Close()
	if _, err := hub.Subscribe(nil); instancehub.ErrorCode(err) != instancehub.EUNAVAILABLE {
		t.Errorf("subscribing to a closed hub: %v", err)
	}
	hub.Publish(change(1)) // nobody to tell, no panic
	if last != 0 {
		t.Errorf("the gauge says %d open", last)
	}
}

// listener is a ChangeListener whose changes and resumptions the test sends.
type listener struct {
	changes chan int64
	resumes chan error
}

func (l listener) ListenInstanceChanges(ctx context.Context, changed func(instancehub.InstanceChange), resumed func(error)) error {
	resumed(nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-l.changes:
			changed(change(id))
		case err := <-l.resumes:
			resumed(err)
		}
	}
}

// TestFollowResetsAfterAGap: what another replica commits reaches the
// subscribers; when the listener lost the changes for a while, every
// subscription ends (their pages reconnect and fetch what they show), and
// new ones are taken.
func TestFollowResetsAfterAGap(t *testing.T) {
	var hub events.Hub
	w, err := hub.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	l := listener{changes: make(chan int64), resumes: make(chan error)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	resumed := make(chan error, 2)
	go func() { done <- events.Follow(ctx, &hub, l, func(lost error) { resumed <- lost }) }()
	if lost := <-resumed; lost != nil {
		t.Fatalf("first told %v, want nil", lost)
	}
	l.changes <- 7
	l.changes <- 8 // received once 7 was published
	if c := next(t, w); c.ID != 7 {
		t.Errorf("heard %v, want 7", c)
	}
	l.resumes <- errors.New("connection lost")
	if lost := <-resumed; lost == nil {
		t.Error("resumed without why")
	}
	for range w.Changes() { // 8, then the end
	}
	if hub.Len() != 0 {
		t.Errorf("%d subscriptions after the gap, want 0", hub.Len())
	}
	again, err := hub.Subscribe(nil)
	if err != nil {
		t.Fatalf("after the gap: %v", err)
	}
	l.changes <- 9
	l.changes <- 10
	if c := next(t, again); c.ID != 9 {
		t.Errorf("heard %v, want 9", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestSubscribeRecent: a subscriber gets, with its subscription, the
// changes published within the time it asks for, and is told when the hub
// cannot vouch for all of them: asked beyond its first use, beyond a Reset,
// or beyond the latest Recent changes.
func TestSubscribeRecent(t *testing.T) {
	var now time.Time
	// fresh is a hub that heard 1, then 2 and 3 five seconds later; it is
	// now a second after.
	fresh := func() *events.Hub {
		now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		hub := &events.Hub{Now: func() time.Time { return now }}
		hub.Publish(change(1))
		now = now.Add(5 * time.Second)
		hub.Publish(change(2))
		hub.Publish(change(3))
		now = now.Add(time.Second)
		return hub
	}

	for _, tc := range []struct {
		within   time.Duration
		may      func(instancehub.InstanceChange) bool
		want     []int64
		complete bool
	}{
		{0, nil, nil, true},
		{2 * time.Second, nil, []int64{2, 3}, true},
		{6 * time.Second, nil, []int64{1, 2, 3}, true},
		{7 * time.Second, nil, []int64{1, 2, 3}, false}, // before the hub's first use
		{6 * time.Second, func(c instancehub.InstanceChange) bool { return c.ID != 2 }, []int64{1, 3}, true},
	} {
		hub := fresh()
		w, recent, complete, err := hub.SubscribeRecent(tc.may, tc.within)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, c := range recent {
			got = append(got, c.ID)
		}
		if !slicesEqual(got, tc.want) || complete != tc.complete {
			t.Errorf("within %s: %v complete %v, want %v complete %v", tc.within, got, complete, tc.want, tc.complete)
		}
		hub.Publish(change(9)) // and the subscription hears what follows
		if c := next(t, w); c.ID != 9 {
			t.Errorf("within %s: then heard %v", tc.within, c)
		}
		w.Close()
	}

	// A Reset: what came before it may not have been heard.
	hub := fresh()
	hub.Reset()
	now = now.Add(time.Second)
	hub.Publish(change(4))
	_, recent, complete, _ := hub.SubscribeRecent(nil, 3*time.Second)
	if complete || len(recent) != 3 || recent[2].ID != 4 {
		t.Errorf("across a Reset: %v complete %v, want [2 3 4] and not complete", recent, complete)
	}
	_, _, complete, _ = hub.SubscribeRecent(nil, time.Second)
	if !complete {
		t.Error("since the Reset: not complete")
	}

	// More than Recent: the oldest are let go.
	now = now.Add(time.Minute)
	for i := range events.Recent + 1 {
		hub.Publish(change(int64(100 + i)))
		now = now.Add(time.Millisecond)
	}
	_, recent, complete, _ = hub.SubscribeRecent(nil, time.Minute)
	if complete || len(recent) != events.Recent || recent[0].ID != 101 {
		t.Errorf("past Recent: %d changes from %v, complete %v", len(recent), recent[0], complete)
	}
	_, recent, complete, _ = hub.SubscribeRecent(nil, time.Duration(events.Recent)*time.Millisecond)
	if !complete || len(recent) != events.Recent {
		t.Errorf("within what is kept: %d changes, complete %v", len(recent), complete)
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
