package instancehub

import (
	"context"
	"strings"
)

// OSImage is the OS image an instance was made from, and the newest version
// of that image in the instance's region, as the reference's "Audit and
// observe compute instance version" shows them.
type OSImage struct {
	Publisher, Offer, SKU, Version string
	// Latest is the newest version of the image in the instance's region,
	// "" when the cloud could not say.
	Latest string
	// NewInstances is the version the portal makes new instances from:
	// "latest", or the version it is pinned to.
	NewInstances string
}

// ParseOSImage reads an image URN, "publisher:offer:sku:version", as Azure
// and the instances' records write it; ok is false for anything else.
func ParseOSImage(urn string) (img OSImage, ok bool) {
	// Cut, not Split: each list page parses its instances' images, and a
	// slice for each was garbage.
	var parts [4]string
	rest := urn
	for i := range parts[:3] {
		if parts[i], rest, ok = strings.Cut(rest, ":"); !ok || parts[i] == "" {
			return OSImage{}, false
		}
	}
	if rest == "" || strings.Contains(rest, ":") {
		return OSImage{}, false
	}
	return OSImage{Publisher: parts[0], Offer: parts[1], SKU: parts[2], Version: rest}, true
}

// URN is the image as "publisher:offer:sku:version", at the version the
// instance runs.
func (o OSImage) URN() string {
	return strings.Join([]string{o.Publisher, o.Offer, o.SKU, o.Version}, ":")
}

// IsLatest says whether the instance runs the newest version of its image,
// as far as is known: an unknown newest version counts as the latest.
func (o OSImage) IsLatest() bool { return o.Latest == "" || o.Latest == o.Version }

// NewInstancesGetLatest says whether a new instance would get the newest
// version, the portal making them from "latest".
func (o OSImage) NewInstancesGetLatest() bool { return strings.EqualFold(o.NewInstances, "latest") }

// ImageVersions is implemented by clouds that can say which versions of an
// OS image a region offers (on Azure, Virtual Machine Images' list of
// versions).
type ImageVersions interface {
	// LatestImageVersion returns the newest version in region of image, a
	// URN whose version is ignored. EUNAVAILABLE when Azure cannot be
	// reached, ECLOUD when the portal may not read the marketplace.
	LatestImageVersion(ctx context.Context, region, image string) (string, error)
	// NewInstanceVersion is the version new instances are made from:
	// "latest" or a pinned version.
	NewInstanceVersion() string
}
