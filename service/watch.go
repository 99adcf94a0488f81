package service

import (
	"context"

	"github.com/instancehub/instancehub"
)

// WatchInstances opens a stream of the changes to the instances the
// signed-in user may list, for a page to fetch again what it shows. Whoever
// may see compute instances lists them all (Only mine is a view), so the
// stream is decided here, once, and a page fetches each changed instance
// with its viewer's authorization. EFORBIDDEN without the right to see
// instances; EUNAVAILABLE when the portal has no feed or shuts down.
func (s *Service) WatchInstances(ctx context.Context) (instancehub.Watch, error) {
	if _, err := authorize(ctx, instancehub.PermReadInstances, "see compute instances"); err != nil {
		s.recordDenial(ctx, "instance.watch", "", err)
		return nil, err
	}
	if s.Changes == nil {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "This portal does not push changes.")
	}
	return s.Changes.Subscribe(nil)
}
