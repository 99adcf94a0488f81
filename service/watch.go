package service

import (
	"context"
	"time"

	"github.com/instancehub/instancehub"
)

// WatchInstances opens a stream of the changes to the instances the
// signed-in user may list, for a page to fetch again what it shows. Whoever
// may see compute instances lists them all (Only mine is a view), so the
// stream is decided here, once, and a page fetches each changed instance
// with its viewer's authorization. EFORBIDDEN without the right to see
// instances; EUNAVAILABLE when the portal has no feed or shuts down.
//
// A page asks for the changes within the last within too, those made since
// it was served (SubscribeRecent): recent, and complete false when they
// cannot all be told, and the page must fetch again all it shows.
func (s *Service) WatchInstances(ctx context.Context, within time.Duration) (w instancehub.Watch, recent []instancehub.InstanceChange, complete bool, err error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		s.recordDenial(ctx, "instance.watch", "", err)
		return nil, nil, false, err
	}
	if s.Changes == nil {
		return nil, nil, false, instancehub.Errorf(instancehub.EUNAVAILABLE, "This portal does not push changes.")
	}
	return s.Changes.SubscribeRecent(nil, within)
}
