// Package azure implements instancehub.Cloud with the Azure SDK for Go:
// armcompute for virtual machines, sizes and quota, armnetwork for the
// network pieces of a workstation. The same code runs against real Azure and
// against the offline emulator; only the credential and the transport differ.
package azure

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
)

// Image is a marketplace image reference.
type Image struct {
	Publisher, Offer, SKU, Version string
}

// DataScienceVM is the Data Science Virtual Machine for Ubuntu 22.04.
var DataScienceVM = Image{Publisher: "microsoft-dsvm", Offer: "ubuntu-2204", SKU: "2204-gen2", Version: "latest"}

// ParseImage reads an image URN, "publisher:offer:sku:version", as the
// Azure CLI writes it.
func ParseImage(urn string) (Image, error) {
	parts := strings.Split(urn, ":")
	if len(parts) != 4 || slices.Contains(parts, "") {
		return Image{}, fmt.Errorf("image %q is not publisher:offer:sku:version", urn)
	}
	return Image{Publisher: parts[0], Offer: parts[1], SKU: parts[2], Version: parts[3]}, nil
}

// URN is the image as "publisher:offer:sku:version".
func (i Image) URN() string {
	return strings.Join([]string{i.Publisher, i.Offer, i.SKU, i.Version}, ":")
}

// SharedNetwork is the virtual network the portal makes in each region when
// none is configured; "{region}" stands for the region.
const SharedNetwork = "instancehub-{region}"

// The address space of the shared network and its one subnet. Networks in
// different regions are not peered, so they may overlap.
const (
	sharedAddressSpace = "10.200.0.0/16"
	sharedSubnet       = "workstations"
	sharedSubnetPrefix = "10.200.0.0/20"
)

// Config says where and how the portal makes its virtual machines.
type Config struct {
	SubscriptionID string
	ResourceGroup  string
	// Regions are the regions instances may be created in; the first is
	// the default.
	Regions []string
	// PortalID tags every resource the portal makes, so that it never
	// touches anything else.
	PortalID string
	// PublicIP gives instances with SSH access a Standard static public IP.
	PublicIP bool
	// SSHSourceRange is the address range SSH is open to (CIDR or a service
	// tag, such as a Bastion subnet); empty, SSH is open to nobody and
	// instances get no public IP.
	SSHSourceRange string
	// AppSourceRange is the portal's address range (CIDR), the only source
	// the applications admit; empty, they admit none.
	AppSourceRange string
	// VirtualNetwork and Subnet name the network instances join when their
	// creator picks none: an existing network of the resource group, or
	// the resource ID of one in another group of the subscription (which
	// instances then record it by), "{region}" standing for the region.
	// When empty, the portal makes a network of its own per region
	// (SharedNetwork) on first use.
	VirtualNetwork string
	Subnet         string
	// Identities are the resource IDs of the user-assigned managed
	// identities instances may be given; the doctor checks the portal may
	// assign each.
	Identities []string
	// OutboundPool is the resource ID of a Standard load balancer's backend
	// pool that every instance's network interface joins, "{region}"
	// standing for the region, so that the balancer's outbound rules take
	// instances to the Internet; empty, they join none.
	OutboundPool string
	// TrustedLaunch makes every VM a Trusted Launch VM: a virtual TPM and,
	// unless SecureBootOff, Secure Boot, which boots only signed boot
	// loaders, kernels and kernel modules. Only sizes that support it are
	// offered, and the image must (the doctor checks).
	TrustedLaunch bool
	SecureBootOff bool
	// EncryptionAtHost encrypts every VM's disks and caches on its host.
	// Only sizes that support it are offered, and the subscription must
	// have the feature Microsoft.Compute/EncryptionAtHost (the doctor
	// checks).
	EncryptionAtHost bool
	// Image is what instances boot; the version "latest" is resolved to
	// the newest version once, and pinned in every VM made after.
	Image        Image
	OSDiskSizeGB int32
	OSDiskType   string
	// CacheTTL is how long the catalog (sizes, networks) is kept.
	CacheTTL time.Duration
	// RStudioImage is the container image RStudio runs from
	// (DefaultRStudioImage unless set): pinned by digest, or by a tag the
	// portal reads the digest of anonymously.
	RStudioImage string
	// RegistryIdentity is the resource ID of a user-assigned managed
	// identity every VM gets and signs in to RStudio's image registry with
	// (an Azure Container Registry, where it holds AcrPull); empty, the VMs
	// pull anonymously.
	RegistryIdentity string
	// DockerAddressPool is the IPv4 range Docker takes its bridge and
	// networks from on the VMs (DefaultDockerAddressPool unless set); it
	// must not overlap anything the VMs reach.
	DockerAddressPool string
	// Now and Sleep are the clock the cloud waits by when Azure asks it to
	// (throttling, a locked resource, a low write budget): time.Now and a
	// timer unless set. Tests pass a clock that moves when slept.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Metrics, if set, is told of every request to Azure Resource Manager
	// and of the budgets it answers with.
	Metrics Metrics
}

// Metrics counts what the cloud asks of Azure Resource Manager, for an
// operator's dashboards. Its methods return at once and may be called from
// many goroutines together.
type Metrics interface {
	// ARMRequest: one try of a request to operation, which names the
	// method and the types of resources (operationOf), never their names,
	// was answered with status (0: no answer) after took.
	ARMRequest(operation string, status int, took time.Duration)
	// ARMBudget: ARM said left remain of budget: "subscription-reads",
	// "subscription-writes", "subscription-deletes" or one of compute's
	// policies ("Microsoft.Compute/HighCostGet3Min").
	ARMBudget(budget string, left int)
	// ARMWaited: a step waited d before asking again, for reason
	// "throttled" (a 429, a locked resource) or "budget" (writes or
	// deletes ran low).
	ARMWaited(reason string, d time.Duration)
}

func (c *Config) setDefaults() {
	if c.PortalID == "" {
		c.PortalID = "instancehub"
	}
	if c.Image == (Image{}) {
		c.Image = DataScienceVM
	}
	if c.OSDiskSizeGB == 0 {
		c.OSDiskSizeGB = 128
	}
	if c.OSDiskType == "" {
		c.OSDiskType = string(armcompute.StorageAccountTypesPremiumLRS)
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 10 * time.Minute
	}
	if c.VirtualNetwork == "" {
		c.VirtualNetwork, c.Subnet = SharedNetwork, sharedSubnet
	}
	if c.RStudioImage == "" {
		c.RStudioImage = DefaultRStudioImage
	}
	if c.DockerAddressPool == "" {
		c.DockerAddressPool = DefaultDockerAddressPool
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// defaultNetwork is the network of region that instances join by default.
func (c *Config) defaultNetwork(region string) string {
	return strings.ReplaceAll(c.VirtualNetwork, "{region}", region)
}

// outboundPool is the load balancer backend pool instances of region join, "" for none.
func (c *Config) outboundPool(region string) string {
	return strings.ReplaceAll(c.OutboundPool, "{region}", region)
}

// sharedNetwork reports whether name is the portal's own network of region.
func (c *Config) sharedNetwork(name, region string) bool {
	return c.VirtualNetwork == SharedNetwork && name == c.defaultNetwork(region)
}

// Cloud is instancehub.Cloud over Azure Resource Manager.
type Cloud struct {
	cfg Config

	vms        *armcompute.VirtualMachinesClient
	extensions *armcompute.VirtualMachineExtensionsClient
	images     *armcompute.VirtualMachineImagesClient
	skus       *armcompute.ResourceSKUsClient
	usage      *armcompute.UsageClient
	vnets      *armnetwork.VirtualNetworksClient
	nics       *armnetwork.InterfacesClient
	publicIPs  *armnetwork.PublicIPAddressesClient
	nsgs       *armnetwork.SecurityGroupsClient
	// routeTables and loadBalancers are read to learn whether a subnet has
	// a way out to the Internet.
	routeTables   *armnetwork.RouteTablesClient
	loadBalancers *armnetwork.LoadBalancersClient

	catalog catalog
	// usageCache keeps each region's quota usage for a few seconds: the
	// quota page asks for it on every view, and Azure's usage list is slow.
	// The portal's own operations forget it (BeginStep, a step done), so
	// that admission counts what they changed at once.
	usageCache catalog
	// vmPuts is held (read) by each create's VM PUT until countVM has
	// counted it, and (write) by a read of the usage from Azure.
	vmPuts sync.RWMutex
	budget budgets
	// retryAfter holds, per operation in progress, how long it asked to be
	// left before the next poll.
	pollMu     sync.Mutex
	retryAfter map[string]time.Duration
	// networkMu makes the portal's writes of its shared networks one at a time.
	networkMu sync.Mutex
	// networksReady holds, by name, when a shared network was last found
	// ready; guarded by networkMu.
	networksReady map[string]time.Time

	// blobs reads what Azure hands out by signed address (the boot log)
	// and the registries (RStudio's image): the clients' transport and
	// retries, without their ARM token, budgets or figures.
	blobs runtime.Pipeline
	// dockerPool is Config.DockerAddressPool, parsed.
	dockerPool netip.Prefix
	// rstudio is Config.RStudioImage, parsed; pins the digests its tag had.
	rstudio imageRef
	pins    pinnedImages

	// cred and arm serve the doctor's checks, which use no typed client.
	cred azcore.TokenCredential
	arm  *arm.Client
}

var (
	_ instancehub.Cloud                   = (*Cloud)(nil)
	_ instancehub.PollAfter               = (*Cloud)(nil)
	_ instancehub.StoppedBilling          = (*Cloud)(nil)
	_ instancehub.ApplicationAvailability = (*Cloud)(nil)
	_ instancehub.SSHKeyAdder             = (*Cloud)(nil)
)

// New returns a Cloud that calls Azure with cred; opts carries the transport
// (the emulator's in offline mode) and the cloud configuration.
func New(cfg Config, cred azcore.TokenCredential, opts *arm.ClientOptions) (*Cloud, error) {
	cfg.setDefaults()
	if cfg.SubscriptionID == "" || cfg.ResourceGroup == "" {
		return nil, fmt.Errorf("azure: subscription ID and resource group are required")
	}
	if len(cfg.Regions) == 0 {
		return nil, fmt.Errorf("azure: at least one region is required")
	}
	if err := cfg.checkNetworkRef(); err != nil {
		return nil, err
	}
	pool, err := ParseDockerAddressPool(cfg.DockerAddressPool)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	rstudio, err := parseImageReference(cfg.RStudioImage)
	if err != nil {
		return nil, fmt.Errorf("azure: RStudio's %w", err)
	}
	if cfg.RegistryIdentity != "" {
		if err := instancehub.ValidateIdentity(instancehub.ManagedIdentity{UserAssigned: []string{cfg.RegistryIdentity}}); err != nil {
			return nil, fmt.Errorf("azure: the registry's identity: %s", instancehub.ErrorMessage(err))
		}
	}
	c := &Cloud{cfg: cfg, cred: cred, dockerPool: pool, rstudio: rstudio}
	c.catalog.ttl = cfg.CacheTTL
	c.usageCache.ttl = usageTTL
	c.budget.now, c.budget.metrics = cfg.Now, cfg.Metrics
	// What Azure hands out by address (the boot log) and the registries
	// are read with the clients' transport and retries, but neither their
	// ARM token nor ARM's budgets and figures.
	var plain azcore.ClientOptions
	if opts != nil {
		plain = opts.ClientOptions
	}
	plain = withRetries(plain)
	c.blobs = runtime.NewPipeline("instancehub", "v1.0.0", runtime.PipelineOptions{}, &plain)
	opts = withPolicies(opts, &c.budget)
	generic, err := arm.NewClient("instancehub", "v1.0.0", cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: client: %w", err)
	}
	c.arm = generic
	compute, err := armcompute.NewClientFactory(cfg.SubscriptionID, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: compute clients: %w", err)
	}
	network, err := armnetwork.NewClientFactory(cfg.SubscriptionID, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: network clients: %w", err)
	}
	c.vms, c.images = compute.NewVirtualMachinesClient(), compute.NewVirtualMachineImagesClient()
	c.extensions = compute.NewVirtualMachineExtensionsClient()
	c.skus, c.usage = compute.NewResourceSKUsClient(), compute.NewUsageClient()
	c.vnets, c.nics = network.NewVirtualNetworksClient(), network.NewInterfacesClient()
	c.publicIPs, c.nsgs = network.NewPublicIPAddressesClient(), network.NewSecurityGroupsClient()
	c.routeTables, c.loadBalancers = network.NewRouteTablesClient(), network.NewLoadBalancersClient()
	return c, nil
}

// Config returns the configuration the cloud runs with, defaults applied.
func (c *Cloud) Config() Config { return c.cfg }
