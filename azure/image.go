package azure

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// image is the image a new VM boots in region, with "latest" resolved to the
// newest version there, so that every VM records the version it got.
func (c *Cloud) image(ctx context.Context, region string) (Image, error) {
	img := c.cfg.Image
	if !strings.EqualFold(img.Version, "latest") {
		return img, nil
	}
	// The same entry as the details page's newest version: what it says a
	// new instance gets is what a create now resolves "latest" to.
	version, err := c.LatestImageVersion(ctx, region, img.URN())
	if err != nil {
		return img, err
	}
	img.Version = version
	return img, nil
}

// imagePlan is the marketplace plan img is sold with in region, nil for
// none: a VM made from such an image must carry it, or Azure refuses it.
func (c *Cloud) imagePlan(ctx context.Context, region string, img Image) (*armcompute.Plan, error) {
	return cached(&c.catalog, "plan/"+region+"/"+img.URN(), func() (*armcompute.Plan, error) {
		r, err := c.images.Get(ctx, region, img.Publisher, img.Offer, img.SKU, img.Version, nil)
		if err != nil {
			return nil, cloudError(err, "read image "+img.URN())
		}
		if r.Properties == nil || r.Properties.Plan == nil {
			return nil, nil
		}
		p := r.Properties.Plan
		return &armcompute.Plan{Name: p.Name, Product: p.Product, Publisher: p.Publisher}, nil
	})
}

// newestVersion lists img's versions in region and answers the newest.
func (c *Cloud) newestVersion(ctx context.Context, region string, img Image) (string, error) {
	resp, err := c.images.List(ctx, region, img.Publisher, img.Offer, img.SKU, nil)
	if err != nil {
		return "", cloudError(err, "list the versions of image "+img.URN())
	}
	var versions []string
	for _, v := range resp.VirtualMachineImageResourceArray {
		versions = append(versions, deref(v.Name))
	}
	if len(versions) == 0 {
		return "", instancehub.Errorf(instancehub.EINVALID, "The image %s has no version in %s.", img.URN(), region)
	}
	return slices.MaxFunc(versions, compareVersions), nil
}

// compareVersions orders dotted versions by their numbers: 25.04.22 after 24.10.18.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
			continue
		}
		if x != y {
			return x - y
		}
	}
	return len(as) - len(bs)
}

// LatestImageVersion is the newest version in region of image (a URN, its
// version ignored), kept as long as the catalog's other entries.
func (c *Cloud) LatestImageVersion(ctx context.Context, region, image string) (string, error) {
	img, err := ParseImage(image)
	if err != nil {
		return "", instancehub.Errorf(instancehub.EINVALID, "%v", err)
	}
	img.Version = ""
	return cached(&c.catalog, "versions/"+region+"/"+img.URN(), func() (string, error) { return c.newestVersion(ctx, region, img) })
}

// NewInstanceVersion is the version of the configured image new instances
// get: "latest", resolved at each create, or the one pinned.
func (c *Cloud) NewInstanceVersion() string { return c.cfg.Image.Version }
