package azure

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/instancehub/instancehub"
)

// SubscriptionActions are the reads the portal's identity needs at
// subscription scope: quota, VM SKUs and image versions are
// subscription-level resources, and the status of every long-running
// operation is read under /providers/Microsoft.*/locations/{region},
// outside the resource group. VMs are read in the resource group only.
var SubscriptionActions = []string{
	"Microsoft.Compute/locations/usages/read",
	"Microsoft.Compute/skus/read",
	"Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read",
	"Microsoft.Compute/locations/operations/read",
	"Microsoft.Network/locations/operations/read",
	"Microsoft.Network/locations/operationResults/read",
	"Microsoft.Authorization/permissions/read",
	// The doctor reads whether Compute and Network are registered.
	"Microsoft.Resources/subscriptions/providers/read",
}

// ResourceGroupActions are what the portal's identity needs on its resource
// group, where everything it writes stays.
var ResourceGroupActions = []string{
	"Microsoft.Resources/subscriptions/resourceGroups/read",
	"Microsoft.Compute/virtualMachines/read",
	"Microsoft.Compute/virtualMachines/write",
	"Microsoft.Compute/virtualMachines/delete",
	"Microsoft.Compute/virtualMachines/start/action",
	"Microsoft.Compute/virtualMachines/deallocate/action",
	"Microsoft.Compute/virtualMachines/restart/action",
	"Microsoft.Compute/virtualMachines/instanceView/read",
	// The Owners' boot log page reads the serial console's log.
	"Microsoft.Compute/virtualMachines/retrieveBootDiagnosticsData/action",
	// The VM access extension adds the SSH key an owner sets up later.
	"Microsoft.Compute/virtualMachines/extensions/read",
	"Microsoft.Compute/virtualMachines/extensions/write",
	"Microsoft.Compute/disks/read",
	"Microsoft.Compute/disks/write",
	"Microsoft.Compute/disks/delete",
	"Microsoft.Network/virtualNetworks/read",
	"Microsoft.Network/virtualNetworks/write",
	"Microsoft.Network/virtualNetworks/subnets/read",
	"Microsoft.Network/virtualNetworks/subnets/join/action",
	// A subnet's route table says whether instances have a way out.
	"Microsoft.Network/routeTables/read",
	"Microsoft.Network/networkSecurityGroups/read",
	"Microsoft.Network/networkSecurityGroups/write",
	"Microsoft.Network/networkSecurityGroups/delete",
	"Microsoft.Network/networkSecurityGroups/join/action",
	"Microsoft.Network/publicIPAddresses/read",
	"Microsoft.Network/publicIPAddresses/write",
	"Microsoft.Network/publicIPAddresses/delete",
	"Microsoft.Network/publicIPAddresses/join/action",
	"Microsoft.Network/networkInterfaces/read",
	"Microsoft.Network/networkInterfaces/write",
	"Microsoft.Network/networkInterfaces/delete",
	"Microsoft.Network/networkInterfaces/join/action",
}

// Check is one line of the doctor's report.
type Check struct {
	Name   string
	Status string // "ok", "warn", "fail" or "skip"
	Detail string
	Fix    string // what to do, when it failed
}

// Doctor checks the configuration against Azure, one check at a time:
// credential, resource group, regions and sizes, quota, image, network and
// permissions. emulated skips what the emulator does not model.
func (c *Cloud) Doctor(ctx context.Context, emulated bool) []Check {
	checks := []Check{c.checkCredential(ctx)}
	if checks[0].Status == "fail" {
		return checks
	}
	rg := c.checkResourceGroup(ctx)
	checks = append(checks, rg)
	if rg.Status == "fail" {
		return checks
	}
	if c.cfg.EncryptionAtHost {
		checks = append(checks, c.checkEncryptionAtHost(ctx, emulated))
	}
	for _, region := range c.cfg.Regions {
		checks = append(checks, c.checkRegionReadable(ctx, region), c.checkImage(ctx, region, emulated), c.checkNetwork(ctx, region))
		if c.cfg.OutboundPool != "" {
			checks = append(checks, c.checkOutboundPool(ctx, region, emulated))
		}
		if !emulated && isResourceID(c.cfg.defaultNetwork(region)) {
			checks = append(checks, c.checkNetworkAccess(ctx, region))
		}
		if !emulated {
			checks = append(checks, c.checkPortalPlacement(ctx, region))
		}
	}
	if emulated {
		return append(checks, Check{Name: "permissions", Status: "skip", Detail: "the emulator allows every action"})
	}
	checks = append(checks, c.checkProviders(ctx))
	if len(c.cfg.Identities) > 0 || c.cfg.RegistryIdentity != "" {
		checks = append(checks, c.checkIdentities(ctx))
	}
	subscription := runtime.JoinPaths("subscriptions", c.cfg.SubscriptionID)
	return append(checks,
		c.checkPermissions(ctx, "permissions on subscription", subscription, c.subscriptionActions()),
		c.checkPermissions(ctx, "permissions on group", runtime.JoinPaths(subscription, "resourceGroups", c.cfg.ResourceGroup), ResourceGroupActions))
}

func ok(name, format string, args ...any) Check {
	return Check{Name: name, Status: "ok", Detail: fmt.Sprintf(format, args...)}
}

func fail(name, detail, fix string) Check {
	return Check{Name: name, Status: "fail", Detail: detail, Fix: fix}
}

func (c *Cloud) checkCredential(ctx context.Context) Check {
	_, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		return fail("credential", firstLine(err.Error()),
			"sign in with `az login`, or give the host a managed identity, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a workload identity)")
	}
	return ok("credential", "obtained a token for Azure Resource Manager")
}

func (c *Cloud) checkResourceGroup(ctx context.Context) Check {
	pager := c.vms.NewListPager(c.cfg.ResourceGroup, nil)
	page, err := pager.NextPage(ctx)
	if err == nil {
		return ok("resource group", "%s in subscription %s is reachable (%d VMs on the first page)", c.cfg.ResourceGroup, c.cfg.SubscriptionID, len(page.Value))
	}
	e := cloudError(err, "read resource group "+c.cfg.ResourceGroup)
	switch instancehub.CloudErrorCode(e) {
	case "ResourceGroupNotFound":
		return fail("resource group", fmt.Sprintf("%s does not exist in subscription %s", c.cfg.ResourceGroup, c.cfg.SubscriptionID),
			fmt.Sprintf("az group create --name %s --location %s", c.cfg.ResourceGroup, c.cfg.Regions[0]))
	case "SubscriptionNotFound", "InvalidSubscriptionId":
		return fail("resource group", "subscription "+c.cfg.SubscriptionID+" was not found", "check --azure-subscription-id (az account list)")
	case "AuthorizationFailed":
		return fail("resource group", instancehub.ErrorMessage(e), "assign the portal's identity the role in the README on the resource group")
	}
	return fail("resource group", instancehub.ErrorMessage(e), "check the network path to management.azure.com and the subscription")
}

func (c *Cloud) checkRegionReadable(ctx context.Context, region string) Check {
	name := "region " + region
	sizes, err := c.VMSizes(ctx, region)
	if err != nil {
		if denied(err) {
			return fail(name, instancehub.ErrorMessage(err), "assign the reader role in the README at the subscription (Microsoft.Compute/skus/read)")
		}
		return fail(name, instancehub.ErrorMessage(err), "check that the region exists and is enabled for the subscription")
	}
	usage, err := c.Usage(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant Microsoft.Compute/locations/usages/read at the subscription")
	}
	if security := c.cfg.securityLabel(); len(sizes) == 0 && security != "" {
		return fail(name, "no VM size in "+region+" supports "+security+", which every VM asks for",
			"turn the setting off, or use another region (az vm list-skus --location "+region+")")
	}
	gpus := 0
	for _, s := range sizes {
		if s.GPUs > 0 {
			gpus++
		}
	}
	offered := fmt.Sprintf("%d VM sizes (%d with GPUs)", len(sizes), gpus)
	if security := c.cfg.securityLabel(); security != "" {
		offered = fmt.Sprintf("%d VM sizes that support %s (%d with GPUs)", len(sizes), security, gpus)
	}
	for _, u := range usage {
		if u.Name == instancehub.TotalRegionalVCPUs {
			return ok(name, "%s, %d of %d regional vCPUs in use", offered, u.Current, u.Limit)
		}
	}
	return ok(name, "%s", offered)
}

// checkPermissions asks ARM what the portal's identity may do at scope and
// lists the required actions it may not. An action granted only under a
// condition may or may not be allowed when the portal acts: that is a
// warning, since the doctor cannot evaluate the condition.
func (c *Cloud) checkPermissions(ctx context.Context, name, scope string, actions []string) Check {
	missing, conditional, err := c.missingActions(ctx, scope, actions)
	switch {
	case err != nil:
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read permissions")),
			"grant Microsoft.Authorization/permissions/read (any built-in role has it)")
	case len(missing) > 0:
		return fail(name, "missing "+strings.Join(missing, ", "), "assign the custom roles in the README to the portal's identity")
	case len(conditional) > 0:
		return Check{Name: name, Status: "warn", Detail: "allowed only under a condition: " + strings.Join(conditional, ", "),
			Fix: "make sure the role assignment's condition holds for the portal's requests, or assign the roles in the README without one"}
	}
	return ok(name, "all %d required actions are allowed on /%s", len(actions), strings.TrimPrefix(scope, "/"))
}

// missingActions lists the actions the portal's identity may not do at
// scope, and those it may do only under a condition.
func (c *Cloud) missingActions(ctx context.Context, scope string, actions []string) (missing, conditional []string, err error) {
	perms, err := c.permissions(ctx, scope)
	if err != nil {
		return nil, nil, err
	}
	var unconditional []permission
	for _, p := range perms {
		if p.Condition == "" {
			unconditional = append(unconditional, p)
		}
	}
	for _, action := range actions {
		switch {
		case allowed(action, unconditional):
		case allowed(action, perms):
			conditional = append(conditional, action)
		default:
			missing = append(missing, action)
		}
	}
	return missing, conditional, nil
}

// permissions reads the identity's permissions at scope, every page of them.
func (c *Cloud) permissions(ctx context.Context, scope string) ([]permission, error) {
	next := runtime.JoinPaths(c.arm.Endpoint(), scope, "providers/Microsoft.Authorization/permissions") + "?api-version=2022-04-01"
	var perms []permission
	for next != "" {
		req, err := runtime.NewRequest(ctx, http.MethodGet, next)
		if err != nil {
			return nil, err
		}
		resp, err := c.arm.Pipeline().Do(req)
		if err != nil {
			return nil, err
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return nil, runtime.NewResponseError(resp)
		}
		var page struct {
			Value    []permission `json:"value"`
			NextLink string       `json:"nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return nil, err
		}
		perms, next = append(perms, page.Value...), page.NextLink
	}
	return perms, nil
}

type permission struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
	// Condition restricts the permission (attribute-based access control).
	Condition string `json:"condition"`
}

// allowed reports whether some permission grants action without excluding it.
func allowed(action string, perms []permission) bool {
	for _, p := range perms {
		if matchesAny(action, p.Actions) && !matchesAny(action, p.NotActions) {
			return true
		}
	}
	return false
}

// matchesAny reports whether action matches a pattern; "*" stands for any
// run of characters, and case does not matter. A "*" between slashes
// stands for no segment too, as Azure reads it: the built-in Managed
// Identity Operator's ".../userAssignedIdentities/*/assign/action" grants
// ".../userAssignedIdentities/assign/action".
func matchesAny(action string, patterns []string) bool {
	action = strings.ToLower(action)
	for _, p := range patterns {
		p = strings.ToLower(p)
		if wildcard(p, action) || (strings.Contains(p, "/*/") && wildcard(strings.ReplaceAll(p, "/*/", "/"), action)) {
			return true
		}
	}
	return false
}

func wildcard(pattern, s string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:star]) {
		return false
	}
	rest := pattern[star+1:]
	for i := star; i <= len(s); i++ {
		if wildcard(rest, s[i:]) {
			return true
		}
	}
	return false
}

// denied reports whether err is Azure refusing the portal's identity.
func denied(err error) bool {
	switch instancehub.CloudErrorCode(err) {
	case "AuthorizationFailed", "LinkedAuthorizationFailed", "InvalidAuthenticationToken", "AuthenticationFailed":
		return true
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
