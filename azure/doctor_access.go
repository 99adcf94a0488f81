package azure

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/instancehub/instancehub"
)

// The doctor's checks of what the subscription must allow beyond the
// roles: the resource providers the portal calls, and the user-assigned
// identities it may give instances.

// Providers are the resource providers the portal calls, which must be
// registered in the subscription.
var Providers = []string{"Microsoft.Compute", "Microsoft.Network"}

// checkProviders checks every resource provider the portal calls is
// registered in the subscription: an unregistered one refuses every call
// (MissingSubscriptionRegistration).
func (c *Cloud) checkProviders(ctx context.Context) Check {
	const name = "resource providers"
	var unregistered []string
	for _, ns := range Providers {
		var p struct {
			RegistrationState string `json:"registrationState"`
		}
		err := c.getARM(ctx, runtime.JoinPaths("subscriptions", c.cfg.SubscriptionID, "providers", ns), "2021-04-01", &p)
		switch {
		case err != nil && denied(err):
			return Check{Name: name, Status: "warn", Detail: "the portal may not read the subscription's resource providers: " + instancehub.ErrorMessage(err),
				Fix: "grant it Microsoft.Resources/subscriptions/providers/read (in the reader role in the README), or check by hand: az provider show --namespace " + ns}
		case err != nil:
			return fail(name, instancehub.ErrorMessage(err), "check the subscription")
		case !strings.EqualFold(p.RegistrationState, "Registered"):
			unregistered = append(unregistered, fmt.Sprintf("%s (%s)", ns, strings.ToLower(p.RegistrationState)))
		}
	}
	if len(unregistered) > 0 {
		var fixes []string
		for _, u := range unregistered {
			fixes = append(fixes, "az provider register --namespace "+u[:strings.IndexByte(u, ' ')])
		}
		return fail(name, "not registered in the subscription: "+strings.Join(unregistered, ", "),
			strings.Join(fixes, "; ")+" (as someone who may register providers, such as the subscription's Contributor)")
	}
	return ok(name, "%s registered", strings.Join(Providers, " and "))
}

// identityAssignAction is what giving a user-assigned identity to a VM takes
// on the identity.
const identityAssignAction = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"

// checkIdentities checks each user-assigned identity instances may be
// given (--azure-identities), and the one every instance gets to pull
// RStudio's image (--azure-registry-identity), exists and that the portal
// may assign it; without the permission every create naming it fails
// (LinkedAuthorizationFailed), and with the registry's every create does.
func (c *Cloud) checkIdentities(ctx context.Context) Check {
	const name = "identities"
	ids := slices.Clone(c.cfg.Identities)
	if r := c.cfg.RegistryIdentity; r != "" && !slices.Contains(ids, r) {
		ids = append(ids, r)
	}
	var problems []string
	for _, id := range ids {
		label := lastSegment(id)
		if id == c.cfg.RegistryIdentity {
			label += " (the registry's, which every instance gets)"
		}
		var identity struct {
			Location string `json:"location"`
		}
		err := c.getARM(ctx, id, "2023-01-31", &identity)
		switch {
		case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
			problems = append(problems, label+" does not exist")
			continue
		case err != nil && !denied(err):
			problems = append(problems, label+": "+instancehub.ErrorMessage(err))
			continue
		}
		missing, conditional, err := c.missingActions(ctx, id, []string{identityAssignAction})
		switch {
		case err != nil:
			problems = append(problems, label+": "+instancehub.ErrorMessage(cloudError(err, "read permissions")))
		case len(missing) > 0:
			problems = append(problems, "the portal may not assign "+label)
		case len(conditional) > 0:
			problems = append(problems, "the portal may assign "+label+" only under a condition")
		}
	}
	if len(problems) > 0 {
		return fail(name, strings.Join(problems, "; "),
			"name only identities that exist (--azure-identities, --azure-registry-identity), and give the portal's identity "+identityAssignAction+
				" on each: the built-in role Managed Identity Operator, scoped to the identity")
	}
	if len(ids) == 1 {
		return ok(name, "the portal may assign the user-assigned identity named")
	}
	return ok(name, "the portal may assign all %d user-assigned identities named", len(ids))
}

// getARM reads what ARM answers at path (a resource ID, or a path under
// the subscription) into v: for reads no typed client of the portal makes.
func (c *Cloud) getARM(ctx context.Context, path, apiVersion string, v any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, runtime.JoinPaths(c.arm.Endpoint(), path)+"?api-version="+apiVersion)
	if err != nil {
		return err
	}
	resp, err := c.arm.Pipeline().Do(req)
	if err != nil {
		return cloudError(err, "read "+path)
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return cloudError(runtime.NewResponseError(resp), "read "+path)
	}
	if err := runtime.UnmarshalAsJSON(resp, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
