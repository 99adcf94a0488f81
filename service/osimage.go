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
	// A page's instances mostly share a region and an image: one parse and
	// one question for a run of them, and their images in one allocation
	// (a parse, a key and an image for each was a twelfth of a list
	// render's CPU).
	// The run before the first instance is of no region and no image,
	// which parses as none.
	images := make([]instancehub.OSImage, 0, len(instances))
	var last struct {
		region, urn string
		img         instancehub.OSImage
		ok          bool
	}
	for _, inst := range instances {
		if inst.Region != last.region || inst.Image != last.urn {
			last.region, last.urn = inst.Region, inst.Image
			last.img, last.ok = instancehub.ParseOSImage(inst.Image)
			if last.ok && versions != nil {
				key := inst.Region + " " + last.img.Publisher + ":" + last.img.Offer + ":" + last.img.SKU
				latest, done := asked[key]
				if !done {
					var err error
					if latest, err = versions.LatestImageVersion(ctx, inst.Region, inst.Image); err != nil {
						s.logger().WarnContext(ctx, "read the newest version of an image", "image", inst.Image, "region", inst.Region, "err", err)
					}
					asked[key] = latest
					s.images.saw(key, latest)
				}
				last.img.Latest, last.img.NewInstances = latest, versions.NewInstanceVersion()
			}
		}
		if !last.ok {
			continue
		}
		images = append(images, last.img)
		inst.OSImage = &images[len(images)-1]
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
	if prev, ok := i.latest.Load(key); ok && prev == latest {
		return // as every list asks: a read, not a write
	}
	if prev, ok := i.latest.Swap(key, latest); ok && prev != latest {
		i.epoch.Add(1)
	}
}
