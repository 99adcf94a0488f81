package instancehub

import (
	"context"
	"time"
)

// InstanceChange says that an instance's record changed: its state, its
// operation's progress, what the sync found. Pages that show the instance
// fetch it again, with their viewer's authorization.
type InstanceChange struct {
	ID int64
}

// ChangeFeed tells listeners which instances change, as they change.
type ChangeFeed interface {
	// Subscribe opens a stream of the changes may allows (nil: all of
	// them), without waiting.
	// EUNAVAILABLE once the portal is shutting down.
	Subscribe(may func(InstanceChange) bool) (Watch, error)
	// SubscribeRecent opens a stream as Subscribe does and returns with it,
	// at once, the changes may allows that were published within the last
	// within: those a page served that long ago may not show. complete is
	// false when the feed cannot tell them all (it keeps only the latest,
	// it started since, or it stopped hearing meanwhile): the page then
	// fetches again all it shows.
	// EUNAVAILABLE once the portal is shutting down.
	SubscribeRecent(may func(InstanceChange) bool, within time.Duration) (w Watch, recent []InstanceChange, complete bool, err error)
}

// Watch is one listener's stream of changes.
type Watch interface {
	// Changes delivers the changes in order; it is closed when the stream
	// ends (the listener fell too far behind, or the portal shuts down).
	Changes() <-chan InstanceChange
	// Close ends the stream.
	Close()
}

// ChangeListener is a store that several replicas share, which tells of the
// changes of instances committed on any of them.
type ChangeListener interface {
	// ListenInstanceChanges tells changed of each change as it is
	// committed, until ctx ends. It tells resumed when it starts hearing:
	// with nil at first, and after it stopped hearing for a while (a lost
	// connection), with why.
	ListenInstanceChanges(ctx context.Context, changed func(InstanceChange), resumed func(lost error)) error
}
