package service

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/instancehub/instancehub"
)

// setOSImages sets each instance's OS image from the image its VM was made
// from and, where the cloud can say (ImageVersions), the newest version of
// that image in the instance's region. A marketplace that cannot be read
// leaves the newest version unknown: the page and the list still show.
func (s *Service) setOSImages(ctx context.Context, instances []*instancehub.Instance) {
	versions, _ := s.Cloud.(instancehub.ImageVersions)
	asked := map[string]string{} // region and image, without version -> newest; one question each per call
	for _, inst := range instances {
		img, ok := instancehub.ParseOSImage(inst.Image)
		if !ok {
			continue
		}
		if versions != nil {
			key := inst.Region + " " + img.Publisher + ":" + img.Offer + ":" + img.SKU
			latest, done := asked[key]
			if !done {
				var err error
				if latest, err = versions.LatestImageVersion(ctx, inst.Region, inst.Image); err != nil {
					s.logger().WarnContext(ctx, "read the newest version of an image", "image", inst.Image, "region", inst.Region, "err", err)
				}
				asked[key] = latest
				s.images.saw(key, latest)
			}
			img.Latest, img.NewInstances = latest, versions.NewInstanceVersion()
		}
		inst.OSImage = &img
	}
}

// imagesSeen remembers the newest version last read of each image in each
// region, and counts the times one changed: pages kept for a data version
// (DataVersion) are not kept past a newer image.
type imagesSeen struct {
	latest sync.Map // region and image -> version
	epoch  atomic.Int64
}

func (i *imagesSeen) saw(key, latest string) {
	if latest == "" {
		return
	}
	if prev, ok := i.latest.Swap(key, latest); ok && prev != latest {
		i.epoch.Add(1)
	}
}
