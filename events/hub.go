// Package events tells the pages open in browsers which instances changed,
// as they change: the engine's writes go through a Store that publishes to a
// Hub, and each open page holds a Subscription the web server streams as
// Server-Sent Events.
package events

import (
	"sync"
	"time"

	"github.com/instancehub/instancehub"
)

// Buffer is how many changes a subscriber may fall behind before it is
// dropped: a page that does not read its stream (a stalled connection)
// must never hold up the engine, which publishes without waiting.
const Buffer = 64

// Recent is how many of the latest changes a hub keeps, for the pages that
// connect after they were served (SubscribeRecent): a page takes a moment
// between the two, and a change in that moment would otherwise be lost.
const Recent = 1024

// Hub fans out the changes of instances to its subscribers. The zero Hub is
// ready to use; it is safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
	// Open, if set, is told the number of open subscriptions whenever it
	// changes (the open streams gauge).
	Open func(n int)
	// Now is the hub's clock (time.Now when nil).
	Now func() time.Time

	recent []heard // a ring of the latest changes, next the oldest once full
	next   int
	// whole is from when the hub holds every change published: its first
	// use, its last Reset, or just after the latest change it let go.
	whole time.Time
}

// heard is a change kept, with when it was published.
type heard struct {
	at     time.Time
	change instancehub.InstanceChange
}

// Subscription is one listener's stream of changes.
type Subscription struct {
	hub *Hub
	may func(instancehub.InstanceChange) bool
	c   chan instancehub.InstanceChange
}

// Changes returns the changes the subscriber may see, in the order they
// were published. It is closed when the subscription ends: at Close, when
// the hub closes, or when the subscriber fell more than Buffer behind.
func (s *Subscription) Changes() <-chan instancehub.InstanceChange { return s.c }

// Close ends the subscription. It may be called more than once.
func (s *Subscription) Close() { s.hub.drop(s) }

// Subscribe opens a subscription to the changes may allows (nil: all of
// them): the viewer's authorization, decided by the service. may runs while the hub
// publishes, so it must be quick and must not block. EUNAVAILABLE once the
// hub is closed.
func (h *Hub) Subscribe(may func(instancehub.InstanceChange) bool) (instancehub.Watch, error) {
	w, _, _, err := h.SubscribeRecent(may, 0)
	return w, err
}

// SubscribeRecent opens a subscription as Subscribe does, and returns with
// it the changes may allows published within the last within, oldest
// first; complete is false when some may have been let go (more than
// Recent since, a Reset since, or the hub's first use since). Both are
// done at once: no change falls between them.
func (h *Hub) SubscribeRecent(may func(instancehub.InstanceChange) bool, within time.Duration) (instancehub.Watch, []instancehub.InstanceChange, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "The portal is shutting down.")
	}
	if h.subs == nil {
		h.subs = make(map[*Subscription]struct{})
	}
	s := &Subscription{hub: h, may: may, c: make(chan instancehub.InstanceChange, Buffer)}
	h.subs[s] = struct{}{}
	h.opened()
	now := h.now()
	if within <= 0 {
		return s, nil, true, nil
	}
	from := now.Add(-within)
	var recent []instancehub.InstanceChange
	for i := range h.recent {
		k := h.recent[(h.next+i)%len(h.recent)]
		if !k.at.Before(from) && (may == nil || may(k.change)) {
			recent = append(recent, k.change)
		}
	}
	return s, recent, !from.Before(h.whole), nil
}

// now reads the clock; the hub's first use starts what it holds. h.mu is held.
func (h *Hub) now() time.Time {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if h.whole.IsZero() {
		h.whole = now
	}
	return now
}

// keep adds change to the ring of the latest ones. h.mu is held.
func (h *Hub) keep(change instancehub.InstanceChange) {
	k := heard{at: h.now(), change: change}
	if len(h.recent) < Recent {
		h.recent = append(h.recent, k)
		return
	}
	if gone := h.recent[h.next].at.Add(time.Nanosecond); gone.After(h.whole) {
		h.whole = gone
	}
	h.recent[h.next] = k
	h.next = (h.next + 1) % Recent
}

// Publish tells every subscriber that may see it of change, without ever
// waiting: a subscriber whose buffer is full is dropped, and its page
// reconnects and reloads what it shows.
func (h *Hub) Publish(change instancehub.InstanceChange) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keep(change)
	dropped := false
	for s := range h.subs {
		if s.may != nil && !s.may(change) {
			continue
		}
		select {
		case s.c <- change:
		default:
			delete(h.subs, s)
			close(s.c)
			dropped = true
		}
	}
	if dropped {
		h.opened()
	}
}

// Close ends every subscription and refuses new ones: the streams end, so
// that the web server's shutdown need not wait for them.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
	h.opened()
}

// Reset ends every subscription, and takes new ones: the changes were not
// heard for a while, and the pages, reconnecting, fetch again what they
// show.
func (h *Hub) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.whole = h.now() // what was not heard is not kept either
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
	h.opened()
}

// Len returns the number of open subscriptions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *Hub) drop(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
		h.opened()
	}
}

// opened tells Open the count; h.mu is held.
func (h *Hub) opened() {
	if h.Open != nil {
		h.Open(len(h.subs))
	}
}
