package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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
func imagesMatching(location, publisher, offer, sku string) ([]Image, error) {
	if _, ok := findRegion(normalizeLocation(&location)); !ok {
		return nil, locationNotAvailable(location, "Microsoft.Compute/locations/publishers")
	}
	var out []Image
	for _, im := range images {
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
	ims, err := imagesMatching(location, publisher, offer, sku)
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
	ims, err := imagesMatching(location, publisher, offer, "")
	for _, im := range ims {
		out = append(out, &armcompute.VirtualMachineImageResource{Name: to.Ptr(im.SKU), Location: to.Ptr(location),
			ID: to.Ptr(e.imageID(location, im.Publisher, im.Offer, im.SKU))})
	}
	return respond(armcompute.VirtualMachineImagesClientListSKUsResponse{VirtualMachineImageResourceArray: out}, err)
}

func (e *Emulator) listImageOffers(_ context.Context, location, publisher string, _ *armcompute.VirtualMachineImagesClientListOffersOptions) (azfake.Responder[armcompute.VirtualMachineImagesClientListOffersResponse], azfake.ErrorResponder) {
	var out imageList
	var offers []string
	ims, err := imagesMatching(location, publisher, "", "")
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
	ims, err := imagesMatching(location, publisher, offer, sku)
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
