package azure

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// checkImage checks the image instances boot in region: that the version
// exists there, is Generation 2 and x64 as the sizes offered are, suits
// the Trusted Launch setting, is not deprecated, and, when it is sold with
// a marketplace plan, that the plan's terms are accepted in the
// subscription (the VM carries the plan).
func (c *Cloud) checkImage(ctx context.Context, region string, emulated bool) Check {
	name := "image in " + region
	img, err := c.image(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "choose another --azure-image (az vm image list --publisher microsoft-dsvm --all -o table)")
	}
	r, err := c.images.Get(ctx, region, img.Publisher, img.Offer, img.SKU, img.Version, nil)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read image "+img.URN())),
			"choose an image version that exists in the region (az vm image list --all --location "+region+")")
	}
	p := r.Properties
	if p == nil {
		p = &armcompute.VirtualMachineImageProperties{}
	}
	choose := "choose another --azure-image (az vm image list --publisher " + img.Publisher + " --all -o table)"
	if gen := deref(p.HyperVGeneration); gen != "" && gen != armcompute.HyperVGenerationTypesV2 {
		return fail(name, fmt.Sprintf("%s is a Generation %s image: the portal offers Generation 2 sizes only", img.URN(), strings.TrimPrefix(string(gen), "V")),
			"choose the Generation 2 image of the offer (its SKU usually ends in -gen2); "+choose)
	}
	if arch := deref(p.Architecture); arch != "" && arch != armcompute.ArchitectureTypesX64 {
		return fail(name, fmt.Sprintf("%s is built for %s: the portal offers x64 sizes only", img.URN(), arch), choose)
	}
	if check := c.checkImageSecurity(name, img, p.Features); check != nil {
		return *check
	}
	var notes []string
	if security := c.cfg.securityLabel(); security != "" {
		notes = append(notes, "for "+security)
	}
	if dep := p.ImageDeprecationStatus; dep != nil {
		switch deref(dep.ImageState) {
		case armcompute.ImageStateDeprecated:
			return fail(name, fmt.Sprintf("%s is deprecated: Azure makes no new VM from it%s", img.URN(), alternative(dep)), choose)
		case armcompute.ImageStateScheduledForDeprecation:
			when := "soon"
			if dep.ScheduledDeprecationTime != nil {
				when = "on " + dep.ScheduledDeprecationTime.Format("2006-01-02")
			}
			return Check{Name: name, Status: "warn", Detail: fmt.Sprintf("%s is scheduled for deprecation %s: no VM can be made from it after that%s", img.URN(), when, alternative(dep)),
				Fix: choose}
		}
	}
	if plan := p.Plan; plan != nil {
		check, note := c.checkTerms(ctx, name, img, plan, emulated)
		if check != nil {
			return *check
		}
		notes = append(notes, note)
	}
	return ok(name, "%s", strings.Join(append([]string{img.URN()}, notes...), ", "))
}

// alternative is what the publisher proposes instead of a deprecated image.
func alternative(dep *armcompute.ImageDeprecationStatus) string {
	if dep.AlternativeOption == nil || deref(dep.AlternativeOption.Value) == "" {
		return ""
	}
	return fmt.Sprintf(" (its publisher proposes the %s %s)", strings.ToLower(string(deref(dep.AlternativeOption.Type))), deref(dep.AlternativeOption.Value))
}

// checkTerms checks the terms of an image's marketplace plan are accepted
// in the subscription: Azure refuses a VM of an unaccepted plan. It returns
// a check when that is the image's verdict, else a note for its line.
func (c *Cloud) checkTerms(ctx context.Context, name string, img Image, plan *armcompute.PurchasePlan, emulated bool) (*Check, string) {
	label := fmt.Sprintf("marketplace plan %s/%s/%s", deref(plan.Publisher), deref(plan.Product), deref(plan.Name))
	accept := "az vm image terms accept --urn " + img.URN()
	if emulated {
		return nil, label
	}
	var agreement struct {
		Properties struct {
			Accepted bool `json:"accepted"`
		} `json:"properties"`
	}
	path := runtime.JoinPaths("subscriptions", c.cfg.SubscriptionID, "providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine",
		"publishers", deref(plan.Publisher), "offers", deref(plan.Product), "plans", deref(plan.Name), "agreements/current")
	err := c.getARM(ctx, path, "2021-01-01", &agreement)
	switch {
	case err != nil && denied(err):
		return &Check{Name: name, Status: "warn", Detail: fmt.Sprintf("%s is sold with the %s, whose terms the portal may not read: %s", img.URN(), label, instancehub.ErrorMessage(err)),
			Fix: "check they are accepted in the subscription (az vm image terms show --urn " + img.URN() + "), or " + accept}, ""
	case err != nil:
		return &Check{Name: name, Status: "fail", Detail: instancehub.ErrorMessage(err), Fix: "check the terms by hand: az vm image terms show --urn " + img.URN()}, ""
	case !agreement.Properties.Accepted:
		return &Check{Name: name, Status: "fail", Detail: fmt.Sprintf("%s is sold with the %s, whose terms are not accepted in the subscription: Azure refuses its VMs", img.URN(), label),
			Fix: accept}, ""
	}
	return nil, label + ", terms accepted"
}
