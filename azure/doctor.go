package azure

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
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
	for _, region := range c.cfg.Regions {
		checks = append(checks, c.checkRegionReadable(ctx, region), c.checkImage(ctx, region), c.checkNetwork(ctx, region))
		if !emulated {
			checks = append(checks, c.checkPortalPlacement(ctx, region))
		}
	}
	if emulated {
		return append(checks, Check{Name: "permissions", Status: "skip", Detail: "the emulator allows every action"})
	}
	subscription := runtime.JoinPaths("subscriptions", c.cfg.SubscriptionID)
	return append(checks,
		c.checkPermissions(ctx, "permissions on subscription", subscription, SubscriptionActions),
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
	gpus := 0
	for _, s := range sizes {
		if s.GPUs > 0 {
			gpus++
		}
	}
	for _, u := range usage {
		if u.Name == instancehub.TotalRegionalVCPUs {
			return ok(name, "%d VM sizes (%d with GPUs), %d of %d regional vCPUs in use", len(sizes), gpus, u.Current, u.Limit)
		}
	}
	return ok(name, "%d VM sizes (%d with GPUs)", len(sizes), gpus)
}

func (c *Cloud) checkImage(ctx context.Context, region string) Check {
	name := "image in " + region
	img, err := c.image(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "choose another --azure-image (az vm image list --publisher microsoft-dsvm --all -o table)")
	}
	_, err = c.images.Get(ctx, region, img.Publisher, img.Offer, img.SKU, img.Version, nil)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read image "+img.URN())),
			"choose an image version that exists in the region (az vm image list --all --location "+region+")")
	}
	return ok(name, "%s", img.URN())
}

func (c *Cloud) checkNetwork(ctx context.Context, region string) Check {
	name := "network in " + region
	networks, err := c.VirtualNetworks(ctx, region)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant Microsoft.Network/virtualNetworks/read on the resource group")
	}
	want := c.cfg.defaultNetwork(region)
	if len(networks) == 0 || !strings.EqualFold(networks[0].Name, want) {
		return fail(name, fmt.Sprintf("the virtual network %s does not exist in %s", want, c.cfg.ResourceGroup),
			"create it, or set --azure-vnet to an existing network (or leave it empty for the portal's own)")
	}
	n := networks[0]
	if n.Planned {
		return ok(name, "the portal will make %s (%s) with the first instance", n.Name, n.AddressSpace)
	}
	if c.cfg.Subnet != "" && (len(n.Subnets) == 0 || n.Subnets[0].Name != c.cfg.Subnet) {
		return fail(name, fmt.Sprintf("%s has no subnet %s", n.Name, c.cfg.Subnet), "set --azure-subnet to one of its subnets")
	}
	if private, err := c.privateSubnet(ctx, n.Name, n.Subnets[0].Name); err != nil {
		return fail(name, instancehub.ErrorMessage(err), "grant Microsoft.Network/virtualNetworks/read on the resource group")
	} else if private {
		return Check{Name: name, Status: "warn",
			Detail: fmt.Sprintf("%s/%s is private (no default outbound access) and has no NAT gateway: instances without a public IP cannot reach the Internet (packages, the RStudio image)", n.Name, n.Subnets[0].Name),
			Fix:    "attach a NAT gateway to the subnet (az network vnet subnet update --nat-gateway …), or route its traffic through a firewall"}
	}
	return ok(name, "instances join %s/%s (%s)", n.Name, n.Subnets[0].Name, n.Subnets[0].AddressPrefix)
}

// privateSubnet reports whether a subnet gives its VMs no way out: default
// outbound access turned off, and no NAT gateway. A subnet that does not
// say (made with an older API version) has default outbound access.
func (c *Cloud) privateSubnet(ctx context.Context, network, subnet string) (bool, error) {
	vnet, err := c.vnets.Get(ctx, c.cfg.ResourceGroup, network, nil)
	if err != nil {
		return false, cloudError(err, "read virtual network "+network)
	}
	if vnet.Properties == nil {
		return false, nil
	}
	for _, s := range vnet.Properties.Subnets {
		if s == nil || deref(s.Name) != subnet || s.Properties == nil {
			continue
		}
		p := s.Properties
		return p.DefaultOutboundAccess != nil && !*p.DefaultOutboundAccess && p.NatGateway == nil, nil
	}
	return false, nil
}

// checkPortalPlacement checks that the portal can reach the applications
// of region's instances: the security groups admit only
// --azure-portal-source, and that range must be inside the instances'
// network or in a network peered with it.
func (c *Cloud) checkPortalPlacement(ctx context.Context, region string) Check {
	name := "portal reach " + region
	network := c.cfg.defaultNetwork(region)
	place := fmt.Sprintf("run the portal in a subnet of %s, or peer the portal's network with it (az network vnet peering create --vnet-name %s --remote-vnet <portal network> --allow-vnet-access, and back)", network, network)
	if c.cfg.AppSourceRange == "" {
		return fail(name, "--azure-portal-source is not set: the instances' applications admit no one", "set it to the portal's address range (CIDR); "+place)
	}
	portal, err := netip.ParsePrefix(c.cfg.AppSourceRange)
	if err != nil {
		return fail(name, fmt.Sprintf("--azure-portal-source %q is not a CIDR range", c.cfg.AppSourceRange), "set it to the portal's address range, such as 10.1.2.0/24")
	}
	vnet, err := c.vnets.Get(ctx, c.cfg.ResourceGroup, network, nil)
	switch {
	case notFound(err) && c.cfg.sharedNetwork(network, region):
		return Check{Name: name, Status: "warn", Detail: fmt.Sprintf("%s does not exist yet (the first instance makes it, %s)", network, sharedAddressSpace),
			Fix: "once it exists, " + place}
	case err != nil:
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read virtual network "+network)), "grant Microsoft.Network/virtualNetworks/read on the resource group")
	case vnet.Properties == nil:
		return fail(name, network+" says nothing of its address space", place)
	}
	if vnet.Properties.AddressSpace != nil && within(portal, vnet.Properties.AddressSpace.AddressPrefixes) {
		return ok(name, "the portal (%s) is in %s", portal, network)
	}
	for _, peering := range vnet.Properties.VirtualNetworkPeerings {
		p := peering.Properties
		if p == nil || p.RemoteAddressSpace == nil || deref(p.PeeringState) != armnetwork.VirtualNetworkPeeringStateConnected {
			continue
		}
		if within(portal, p.RemoteAddressSpace.AddressPrefixes) {
			return ok(name, "the portal (%s) reaches %s through the peering %s", portal, network, deref(peering.Name))
		}
	}
	return fail(name, fmt.Sprintf("the portal's range %s is neither in %s nor in a network connected to it by peering", portal, network), place)
}

// within reports whether prefix lies inside one of ranges.
func within(prefix netip.Prefix, ranges []*string) bool {
	for _, r := range ranges {
		if outer, err := netip.ParsePrefix(deref(r)); err == nil && outer.Bits() <= prefix.Bits() && outer.Contains(prefix.Addr()) {
			return true
		}
	}
	return false
}

// checkPermissions asks ARM what the portal's identity may do at scope and
// lists the required actions it may not. An action granted only under a
// condition may or may not be allowed when the portal acts: that is a
// warning, since the doctor cannot evaluate the condition.
func (c *Cloud) checkPermissions(ctx context.Context, name, scope string, actions []string) Check {
	perms, err := c.permissions(ctx, scope)
	if err != nil {
		return fail(name, instancehub.ErrorMessage(cloudError(err, "read permissions")),
			"grant Microsoft.Authorization/permissions/read (any built-in role has it)")
	}
	var unconditional []permission
	for _, p := range perms {
		if p.Condition == "" {
			unconditional = append(unconditional, p)
		}
	}
	var missing, conditional []string
	for _, action := range actions {
		switch {
		case allowed(action, unconditional):
		case allowed(action, perms):
			conditional = append(conditional, action)
		default:
			missing = append(missing, action)
		}
	}
	switch {
	case len(missing) > 0:
		return fail(name, "missing "+strings.Join(missing, ", "), "assign the custom roles in the README to the portal's identity")
	case len(conditional) > 0:
		return Check{Name: name, Status: "warn", Detail: "allowed only under a condition: " + strings.Join(conditional, ", "),
			Fix: "make sure the role assignment's condition holds for the portal's requests, or assign the roles in the README without one"}
	}
	return ok(name, "all %d required actions are allowed on /%s", len(actions), scope)
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
// run of characters, and case does not matter.
func matchesAny(action string, patterns []string) bool {
	for _, p := range patterns {
		if wildcard(strings.ToLower(p), strings.ToLower(action)) {
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
