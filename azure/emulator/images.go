package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// The marketplace, enough to confirm an image SKU and pin its version.

type imageList = []*armcompute.VirtualMachineImageResource

func artifactNotFound() *armError {
	return armErr(http.StatusNotFound, "NotFound", "Artifact: VMImage was not found.")
}

// imageID is the ID compute gives marketplace artifacts (capitalised as it does).
func (e *Emulator) imageID(location string, parts ...string) string {
	id := fmt.Sprintf("/Subscriptions/%s/Providers/Microsoft.Compute/Locations/%s/Publishers/%s/ArtifactTypes/VMImage",
		e.opts.SubscriptionID, location, parts[0])
	for i, name := range []string{"Offers", "Skus", "Versions"} {
		if i+1 < len(parts) {
			id += "/" + name + "/" + parts[i+1]
		}
	}
	return id
}

// imagesMatching lists the catalog's images of a region matching the given
// publisher, offer and SKU ("" matches any).
func (e *Emulator) imagesMatching(location, publisher, offer, sku string) ([]Image, error) {
	if _, ok := findRegion(normalizeLocation(&location)); !ok {
		return nil, locationNotAvailable(location, "Microsoft.Compute/locations/publishers")
	}
	var out []Image
	for _, im := range e.images() {
		if strings.EqualFold(im.Publisher, publisher) && (offer == "" || strings.EqualFold(im.Offer, offer)) &&
			(sku == "" || strings.EqualFold(im.SKU, sku)) {
			out = append(out, im)
		}
	}
	if len(out) == 0 {
		return nil, artifactNotFound()
	}
	return out, nil
}

func (e *Emulator) listImageVersions(_ context.Context, location, publisher, offer, sku string, _ *armcompute.VirtualMachineImagesClientListOptions) (azfake.Responder[armcompute.VirtualMachineImagesClientListResponse], azfake.ErrorResponder) {
	var out imageList
	ims, err := e.imagesMatching(location, publisher, offer, sku)
	if err == nil {
		im := ims[0]
		for _, v := range im.Versions {
			out = append(out, &armcompute.VirtualMachineImageResource{Name: to.Ptr(v), Location: to.Ptr(location),
				ID: to.Ptr(e.imageID(location, im.Publisher, im.Offer, im.SKU, v))})
		}
	}
	return respond(armcompute.VirtualMachineImagesClientListResponse{VirtualMachineImageResourceArray: out}, err)
}

func (e *Emulator) listImageSKUs(_ context.Context, location, publisher, offer string, _ *armcompute.VirtualMachineImagesClientListSKUsOptions) (azfake.Responder[armcompute.VirtualMachineImagesClientListSKUsResponse], azfake.ErrorResponder) {
	var out imageList
	ims, err := e.imagesMatching(location, publisher, offer, "")
	for _, im := range ims {
		out = append(out, &armcompute.VirtualMachineImageResource{Name: to.Ptr(im.SKU), Location: to.Ptr(location),
			ID: to.Ptr(e.imageID(location, im.Publisher, im.Offer, im.SKU))})
	}
	return respond(armcompute.VirtualMachineImagesClientListSKUsResponse{VirtualMachineImageResourceArray: out}, err)
}

func (e *Emulator) listImageOffers(_ context.Context, location, publisher string, _ *armcompute.VirtualMachineImagesClientListOffersOptions) (azfake.Responder[armcompute.VirtualMachineImagesClientListOffersResponse], azfake.ErrorResponder) {
	var out imageList
	var offers []string
	ims, err := e.imagesMatching(location, publisher, "", "")
	for _, im := range ims {
		if !slices.Contains(offers, im.Offer) {
			offers = append(offers, im.Offer)
			out = append(out, &armcompute.VirtualMachineImageResource{Name: to.Ptr(im.Offer), Location: to.Ptr(location),
				ID: to.Ptr(e.imageID(location, im.Publisher, im.Offer))})
		}
	}
	return respond(armcompute.VirtualMachineImagesClientListOffersResponse{VirtualMachineImageResourceArray: out}, err)
}

func (e *Emulator) getImage(_ context.Context, location, publisher, offer, sku, version string, _ *armcompute.VirtualMachineImagesClientGetOptions) (azfake.Responder[armcompute.VirtualMachineImagesClientGetResponse], azfake.ErrorResponder) {
	var out armcompute.VirtualMachineImagesClientGetResponse
	ims, err := e.imagesMatching(location, publisher, offer, sku)
	if err == nil && !slices.Contains(ims[0].Versions, version) {
		err = artifactNotFound()
	}
	if err == nil {
		im := ims[0]
		out.VirtualMachineImage = armcompute.VirtualMachineImage{
			Name: to.Ptr(version), Location: to.Ptr(location),
			ID: to.Ptr(e.imageID(location, im.Publisher, im.Offer, im.SKU, version)),
			Properties: &armcompute.VirtualMachineImageProperties{
				HyperVGeneration: to.Ptr(armcompute.HyperVGenerationTypes(im.HyperVGeneration)),
				Architecture:     to.Ptr(armcompute.ArchitectureTypesX64),
				OSDiskImage:      &armcompute.OSDiskImage{OperatingSystem: to.Ptr(armcompute.OperatingSystemTypesLinux)},
			},
		}
	}
	return respond(out, err)
}

// PublishImageVersion adds a newer version of a catalog image, as a
// publisher does on Azure: from now on "latest" resolves to it and the
// image's version list ends with it, in every region. It is not kept with
// the cloud. It answers an error for an image the catalog lacks, or a
// version no newer than the image's latest.
func (e *Emulator) PublishImageVersion(publisher, offer, sku, version string) error {
	im, ok := findImage(e.images(), publisher, offer, sku)
	if !ok {
		return fmt.Errorf("the catalog has no image %s:%s:%s", publisher, offer, sku)
	}
	if latest := im.Versions[len(im.Versions)-1]; !newerVersion(version, latest) {
		return fmt.Errorf("version %q of %s:%s:%s is not newer than its latest, %s", version, publisher, offer, sku, latest)
	}
	e.imageMu.Lock()
	defer e.imageMu.Unlock()
	if e.published == nil {
		e.published = map[string][]string{}
	}
	key := strings.ToLower(publisher + ":" + offer + ":" + sku)
	e.published[key] = append(e.published[key], version)
	return nil
}

// images is the catalog's images with the versions published since the
// emulator started.
func (e *Emulator) images() []Image {
	e.imageMu.Lock()
	defer e.imageMu.Unlock()
	if len(e.published) == 0 {
		return images
	}
	out := slices.Clone(images)
	for i, im := range out {
		if extra := e.published[strings.ToLower(im.Publisher+":"+im.Offer+":"+im.SKU)]; len(extra) > 0 {
			out[i].Versions = append(slices.Clone(im.Versions), extra...)
		}
	}
	return out
}

// newerVersion says whether dotted version a comes after b, comparing
// their numbers (25.10.1 after 25.04.22).
func newerVersion(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			return false
		}
		if x != y {
			return x > y
		}
	}
	return len(as) > len(bs)
}
