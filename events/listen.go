package events

import (
	"context"

	"github.com/instancehub/instancehub"
)

// Follow publishes to h the changes l hears, those every replica commits,
// until ctx ends: on PostgreSQL, the pages open on one replica hear of what
// another changed. resumed, if set, is told when l starts hearing (nil at
// first). When l stopped hearing for a while, every subscription ends
// (Reset), so that the pages reconnect and fetch again what they show.
func Follow(ctx context.Context, h *Hub, l instancehub.ChangeListener, resumed func(lost error)) error {
	return l.ListenInstanceChanges(ctx, h.Publish, func(lost error) {
		if lost != nil {
			h.Reset()
		}
		if resumed != nil {
			resumed(lost)
		}
	})
}
