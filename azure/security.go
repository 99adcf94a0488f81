package azure

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/instancehub/instancehub"
)

// Trusted Launch and encryption at host, as an operator turns them on for
// every instance (Config.TrustedLaunch, Config.EncryptionAtHost).

// secureSize reports whether a size, by its SKU's capabilities, can run
// the VM the configuration asks for: Trusted Launch on all but the sizes
// that say TrustedLaunchDisabled (and confidential ones, which have their
// own security type), encryption at host where EncryptionAtHostSupported.
func (c *Config) secureSize(caps map[string]string) bool {
	if c.TrustedLaunch && (strings.EqualFold(caps["TrustedLaunchDisabled"], "True") || caps["ConfidentialComputingType"] != "") {
		return false
	}
	return !c.EncryptionAtHost || strings.EqualFold(caps["EncryptionAtHostSupported"], "True")
}

// securityProfile is what a new VM asks for: nil when neither setting is
// on, so that Azure's own default (Standard) applies as before.
func (c *Config) securityProfile() *armcompute.SecurityProfile {
	if !c.TrustedLaunch && !c.EncryptionAtHost {
		return nil
	}
	p := &armcompute.SecurityProfile{}
	if c.TrustedLaunch {
		p.SecurityType = to.Ptr(armcompute.SecurityTypesTrustedLaunch)
		p.UefiSettings = &armcompute.UefiSettings{SecureBootEnabled: to.Ptr(!c.SecureBootOff), VTpmEnabled: to.Ptr(true)}
	}
	if c.EncryptionAtHost {
		p.EncryptionAtHost = to.Ptr(true)
	}
	return p
}

// securityLabel names what the configuration asks of every VM, "" for nothing.
func (c *Config) securityLabel() string {
	var on []string
	if c.TrustedLaunch {
		boot := "Secure Boot"
		if c.SecureBootOff {
			boot = "no Secure Boot"
		}
		on = append(on, "Trusted Launch (vTPM, "+boot+")")
	}
	if c.EncryptionAtHost {
		on = append(on, "encryption at host")
	}
	return strings.Join(on, " and ")
}

// imageSecurityType is what an image's SecurityType feature says of Trusted
// Launch: "supported", "required" or "unsupported"; "" when it says nothing.
func imageSecurityType(features []*armcompute.VirtualMachineImageFeature) string {
	for _, f := range features {
		if f == nil || !strings.EqualFold(deref(f.Name), "SecurityType") {
			continue
		}
		switch strings.ToLower(deref(f.Value)) {
		case "trustedlaunch":
			return "required"
		case "trustedlaunchsupported", "trustedlaunchandconfidentialvmsupported":
			return "supported"
		default: // Standard, ConfidentialVmSupported, ConfidentialVM
			return "unsupported"
		}
	}
	return ""
}

// checkImageSecurity judges an image's SecurityType against the setting: a
// Trusted Launch VM needs an image that supports it, and an image that
// requires it boots nothing else. nil when the image suits.
func (c *Cloud) checkImageSecurity(name string, img Image, features []*armcompute.VirtualMachineImageFeature) *Check {
	tl := imageSecurityType(features)
	switch {
	case c.cfg.TrustedLaunch && tl == "unsupported":
		return &Check{Name: name, Status: "fail", Detail: img.URN() + " does not support Trusted Launch (its SecurityType), which --azure-trusted-launch asks of every VM",
			Fix: "choose an image that supports it, or turn --azure-trusted-launch off"}
	case c.cfg.TrustedLaunch && tl == "":
		return &Check{Name: name, Status: "warn", Detail: img.URN() + " does not say whether it supports Trusted Launch (no SecurityType feature)",
			Fix: "make one instance to see that it boots, or choose an image whose SecurityType is TrustedLaunchSupported"}
	case !c.cfg.TrustedLaunch && tl == "required":
		return &Check{Name: name, Status: "fail", Detail: img.URN() + " boots only as a Trusted Launch VM (SecurityType TrustedLaunch)",
			Fix: "set --azure-trusted-launch, or choose another image"}
	}
	return nil
}

// checkEncryptionAtHost checks the subscription has the feature
// Microsoft.Compute/EncryptionAtHost, without which Azure refuses every VM
// that asks for it.
func (c *Cloud) checkEncryptionAtHost(ctx context.Context, emulated bool) Check {
	const name = "encryption at host"
	if emulated {
		return Check{Name: name, Status: "skip", Detail: "the emulator has every feature"}
	}
	var feature struct {
		Properties struct {
			State string `json:"state"`
		} `json:"properties"`
	}
	register := "az feature register --namespace Microsoft.Compute --name EncryptionAtHost, then az provider register --namespace Microsoft.Compute"
	err := c.getARM(ctx, runtime.JoinPaths("subscriptions", c.cfg.SubscriptionID, "providers/Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost"), "2021-07-01", &feature)
	switch {
	case err != nil && denied(err):
		return Check{Name: name, Status: "warn", Detail: "the portal may not read the subscription's features: " + instancehub.ErrorMessage(err),
			Fix: "grant it " + featuresReadAction + ", or check by hand: az feature show --namespace Microsoft.Compute --name EncryptionAtHost"}
	case err != nil:
		return fail(name, instancehub.ErrorMessage(err), register)
	case !strings.EqualFold(feature.Properties.State, "Registered"):
		return fail(name, fmt.Sprintf("the subscription's feature Microsoft.Compute/EncryptionAtHost is %s: Azure refuses every VM that asks for it", strings.ToLower(feature.Properties.State)), register)
	}
	return ok(name, "the subscription has the feature Microsoft.Compute/EncryptionAtHost")
}

// featuresReadAction reads a subscription's preview features, as the
// doctor does with encryption at host on.
const featuresReadAction = "Microsoft.Features/providers/features/read"

// subscriptionActions are the actions the configuration needs at the
// subscription.
func (c *Cloud) subscriptionActions() []string {
	if c.cfg.EncryptionAtHost {
		return append(append([]string(nil), SubscriptionActions...), featuresReadAction)
	}
	return SubscriptionActions
}
