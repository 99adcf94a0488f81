package azure

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/instancehub/instancehub"
)

// image is the image a new VM boots in region, with "latest" resolved to the
// newest version there, so that every VM records the version it got.
func (c *Cloud) image(ctx context.Context, region string) (Image, error) {
	img := c.cfg.Image
	if !strings.EqualFold(img.Version, "latest") {
		return img, nil
	}
	version, err := cached(&c.catalog, "image/"+region, func() (string, error) { return c.latestVersion(ctx, region) })
	if err != nil {
		return img, err
	}
	img.Version = version
	return img, nil
}

func (c *Cloud) latestVersion(ctx context.Context, region string) (string, error) {
	img := c.cfg.Image
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
