package azure

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/instancehub/instancehub"
	"golang.org/x/sync/singleflight"
)

// regionNames are the display names of the regions people pick most; others
// show their programmatic name.
var regionNames = map[string]string{
	"eastus": "East US", "eastus2": "East US 2", "westus2": "West US 2", "westus3": "West US 3",
	"centralus": "Central US", "southcentralus": "South Central US", "canadacentral": "Canada Central",
	"westeurope": "West Europe", "northeurope": "North Europe", "uksouth": "UK South",
	"francecentral": "France Central", "germanywestcentral": "Germany West Central",
	"swedencentral": "Sweden Central", "switzerlandnorth": "Switzerland North",
	"southeastasia": "Southeast Asia", "eastasia": "East Asia", "japaneast": "Japan East",
	"koreacentral": "Korea Central", "centralindia": "Central India", "australiaeast": "Australia East",
	"brazilsouth": "Brazil South", "southafricanorth": "South Africa North", "uaenorth": "UAE North",
}

// Regions lists the allowed regions where the subscription may create
// virtual machines, as the resource SKUs API tells, the default first. A
// region Azure offers no VM size in (mistyped, or not enabled for the
// subscription) is left out.
func (c *Cloud) Regions(ctx context.Context) ([]instancehub.Region, error) {
	regions := make([]instancehub.Region, 0, len(c.cfg.Regions))
	for _, name := range c.cfg.Regions {
		sizes, err := c.VMSizes(ctx, name)
		switch {
		case instancehub.ErrorCode(err) == instancehub.EINVALID:
			continue // Azure does not know the region: LocationNotAvailableForResourceType
		case err != nil:
			return nil, err
		case len(sizes) == 0:
			continue
		}
		display := regionNames[name]
		if display == "" {
			display = name
		}
		regions = append(regions, instancehub.Region{Name: name, DisplayName: display})
	}
	if len(regions) == 0 {
		return nil, instancehub.Errorf(instancehub.EUNAVAILABLE, "Azure offers no virtual machine size in the configured regions (%s).", strings.Join(c.cfg.Regions, ", "))
	}
	return regions, nil
}

func (c *Cloud) checkRegion(region string) error {
	if !slices.Contains(c.cfg.Regions, region) {
		return instancehub.Errorf(instancehub.EINVALID, "Region %q is not one the portal may use.", region)
	}
	return nil
}

// VMSizes lists the sizes offered in region that can run the portal's VM,
// as the resource SKUs API describes them.
func (c *Cloud) VMSizes(ctx context.Context, region string) ([]instancehub.VMSize, error) {
	if err := c.checkRegion(region); err != nil {
		return nil, err
	}
	return cached(&c.catalog, "sizes/"+region, func() ([]instancehub.VMSize, error) {
		return c.listSizes(ctx, region)
	})
}

// listSizes reads every virtual machine SKU of region, skipping those
// restricted for the subscription there and those that cannot run the VM
// the portal makes: the image is Generation 2 and x64, the OS disk is
// Premium SSD unless configured otherwise, a GPU must be one the image can
// drive (undrivenGPUs), and Trusted Launch and encryption at host must be
// supported when configured (secureSize). The SKUs alone carry the quota
// family, vCPUs, memory and GPUs (the virtual machine sizes API is
// deprecated and knows none of this).
func (c *Cloud) listSizes(ctx context.Context, region string) ([]instancehub.VMSize, error) {
	premium := strings.HasPrefix(strings.ToLower(c.cfg.OSDiskType), "premium")
	seen := map[string]bool{}
	var sizes []instancehub.VMSize
	filter := fmt.Sprintf("location eq '%s'", region)
	pager := c.skus.NewListPager(&armcompute.ResourceSKUsClientListOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, cloudError(err, "list resource SKUs in "+region)
		}
		for _, sku := range page.Value {
			name := deref(sku.Name)
			if !strings.EqualFold(deref(sku.ResourceType), "virtualMachines") || restricted(sku, region) || seen[strings.ToLower(name)] {
				continue
			}
			caps := capabilities(sku)
			if !slices.Contains(strings.Split(caps["HyperVGenerations"], ","), "V2") ||
				caps["CpuArchitectureType"] != "x64" || (premium && caps["PremiumIO"] != "True") || !c.cfg.secureSize(caps) {
				continue
			}
			seen[strings.ToLower(name)] = true
			size := instancehub.VMSize{Name: name, Family: deref(sku.Family)}
			size.VCPUs, _ = strconv.Atoi(caps["vCPUs"])
			size.GPUs, _ = strconv.Atoi(caps["GPUs"])
			size.MemoryGiB, _ = strconv.ParseFloat(caps["MemoryGB"], 64)
			if size.GPUs > 0 && c.undrivenGPU(name) != "" {
				continue
			}
			sizes = append(sizes, size)
		}
	}
	slices.SortFunc(sizes, func(a, b instancehub.VMSize) int {
		if a.Family != b.Family {
			return strings.Compare(a.Family, b.Family)
		}
		return a.VCPUs - b.VCPUs
	})
	return sizes, nil
}

// undrivenGPUs are the GPU sizes whose GPU the Data Science VM cannot
// drive, by their names' pattern, with why: the image ships NVIDIA's CUDA
// (datacenter) driver, which drives whole NVIDIA GPUs only. A VM of these
// sizes would boot, bill, and have no GPU for its owner's notebooks.
var undrivenGPUs = []struct {
	name   *regexp.Regexp
	reason string
}{
	// NVadsA10 v5: a partition of an NVIDIA A10, which needs the GRID driver.
	{regexp.MustCompile(`(?i)^Standard_NV\d+ads_A10_v5$`), "needs NVIDIA's GRID driver"},
	// NVv4: AMD Radeon Instinct MI25.
	{regexp.MustCompile(`(?i)^Standard_NV\d+as_v4$`), "has an AMD GPU"},
	// NGads V620: AMD Radeon PRO V620.
	{regexp.MustCompile(`(?i)^Standard_NG\d+ads_V620_v1$`), "has an AMD GPU"},
	// NVads V710 v5: AMD Radeon Pro V710.
	{regexp.MustCompile(`(?i)^Standard_NV\d+ads_V710_v5$`), "has an AMD GPU"},
}

// undrivenGPU says why the portal's image cannot drive the GPU of size, ""
// when it can or when the image is not the Data Science VM, whose drivers
// the portal does not know.
func (c *Cloud) undrivenGPU(size string) string {
	if !strings.EqualFold(c.cfg.Image.Publisher, DataScienceVM.Publisher) {
		return ""
	}
	for _, u := range undrivenGPUs {
		if u.name.MatchString(size) {
			return u.reason
		}
	}
	return ""
}

func capabilities(sku *armcompute.ResourceSKU) map[string]string {
	caps := map[string]string{}
	for _, c := range sku.Capabilities {
		caps[deref(c.Name)] = deref(c.Value)
	}
	return caps
}

func restricted(sku *armcompute.ResourceSKU, region string) bool {
	for _, r := range sku.Restrictions {
		if r.Type != nil && *r.Type == armcompute.ResourceSKURestrictionsTypeLocation {
			for _, v := range r.Values {
				if strings.EqualFold(deref(v), region) {
					return true
				}
			}
		}
	}
	return false
}

// Usage lists the region's vCPU quota, kept for usageTTL: the portal's
// operations read it again when they may have changed it, and a create
// counts its VM in it when Azure accepts it (countVM).
func (c *Cloud) Usage(ctx context.Context, region string) ([]instancehub.Usage, error) {
	if err := c.checkRegion(region); err != nil {
		return nil, err
	}
	usages, err := cached(&c.usageCache, region, func() ([]instancehub.Usage, error) {
		// No VM's PUT is on its way while Azure is asked: one accepted
		// meanwhile might be in the answer or not, and countVM would then
		// count it twice, or not at all.
		c.vmPuts.Lock()
		defer c.vmPuts.Unlock()
		return c.listUsage(ctx, region)
	})
	return append([]instancehub.Usage(nil), usages...), err
}

// usageTTL is how long a region's usage is kept between the portal's own
// operations; changes made outside the portal show within it, and Azure
// refuses what they leave no room for in any case.
const usageTTL = 10 * time.Second

func (c *Cloud) listUsage(ctx context.Context, region string) ([]instancehub.Usage, error) {
	var usages []instancehub.Usage
	pager := c.usage.NewListPager(region, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, cloudError(err, "list usage in "+region)
		}
		for _, u := range page.Value {
			// Azure lists other counts too (virtual machines, scale sets).
			if u.Name == nil || !isVCPUQuota(deref(u.Name.Value)) {
				continue
			}
			usages = append(usages, instancehub.Usage{
				Name:    deref(u.Name.Value),
				Label:   deref(u.Name.LocalizedValue),
				Current: int(deref(u.CurrentValue)),
				Limit:   int(deref(u.Limit)),
			})
		}
	}
	return usages, nil
}

func isVCPUQuota(name string) bool {
	return name == instancehub.TotalRegionalVCPUs || strings.HasSuffix(name, "Family")
}

// VirtualNetworks lists the networks of the portal's resource group in region.
func (c *Cloud) VirtualNetworks(ctx context.Context, region string) ([]instancehub.VirtualNetwork, error) {
	if err := c.checkRegion(region); err != nil {
		return nil, err
	}
	all, err := cached(&c.catalog, "vnets", func() ([]instancehub.VirtualNetwork, error) {
		return c.listVirtualNetworks(ctx)
	})
	if err != nil {
		return nil, err
	}
	var networks []instancehub.VirtualNetwork
	for _, n := range all {
		if strings.EqualFold(n.Region, region) {
			networks = append(networks, n)
		}
	}
	return c.defaultFirst(networks, region), nil
}

// defaultFirst puts the network instances join by default first, with the
// configured subnet first; the portal's own network, before it exists, is
// listed as planned.
func (c *Cloud) defaultFirst(networks []instancehub.VirtualNetwork, region string) []instancehub.VirtualNetwork {
	name := c.cfg.defaultNetwork(region)
	i := slices.IndexFunc(networks, func(n instancehub.VirtualNetwork) bool { return strings.EqualFold(n.Name, name) })
	switch {
	case i >= 0:
		def := networks[i]
		networks = append([]instancehub.VirtualNetwork{def}, slices.Delete(slices.Clone(networks), i, i+1)...)
		if j := slices.IndexFunc(def.Subnets, func(s instancehub.Subnet) bool { return s.Name == c.cfg.Subnet }); j > 0 {
			subnets := slices.Clone(def.Subnets)
			subnets[0], subnets[j] = subnets[j], subnets[0]
			networks[0].Subnets = subnets
		}
	case c.cfg.sharedNetwork(name, region):
		planned := instancehub.VirtualNetwork{Name: name, ID: c.networkID(name), Region: region, AddressSpace: sharedAddressSpace, Planned: true,
			Subnets: []instancehub.Subnet{{Name: sharedSubnet, AddressPrefix: sharedSubnetPrefix}}}
		networks = append([]instancehub.VirtualNetwork{planned}, networks...)
	}
	return networks
}

func (c *Cloud) listVirtualNetworks(ctx context.Context) ([]instancehub.VirtualNetwork, error) {
	var networks []instancehub.VirtualNetwork
	pager := c.vnets.NewListPager(c.cfg.ResourceGroup, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, cloudError(err, "list virtual networks")
		}
		for _, v := range page.Value {
			networks = append(networks, networkOf(v, deref(v.Name)))
		}
	}
	// A network configured in another resource group is offered as well,
	// by its resource ID; it is read, never listed, so that the portal
	// needs no more than reading it there.
	seen := map[string]bool{}
	for _, region := range c.cfg.Regions {
		ref := c.cfg.defaultNetwork(region)
		if !isResourceID(ref) || seen[strings.ToLower(ref)] {
			continue
		}
		seen[strings.ToLower(ref)] = true
		vnet, err := c.readNetwork(ctx, ref)
		switch {
		case instancehub.ErrorCode(err) == instancehub.ENOTFOUND:
			continue
		case err != nil:
			return nil, err
		}
		networks = append(networks, networkOf(&vnet, ref))
	}
	return networks, nil
}

// networkOf is v as instances see it, recorded by ref.
func networkOf(v *armnetwork.VirtualNetwork, ref string) instancehub.VirtualNetwork {
	n := instancehub.VirtualNetwork{Name: ref, ID: deref(v.ID), Region: deref(v.Location)}
	if v.Properties == nil {
		return n
	}
	if v.Properties.AddressSpace != nil && len(v.Properties.AddressSpace.AddressPrefixes) > 0 {
		n.AddressSpace = deref(v.Properties.AddressSpace.AddressPrefixes[0])
	}
	for _, s := range v.Properties.Subnets {
		subnet := instancehub.Subnet{Name: deref(s.Name)}
		if s.Properties != nil {
			subnet.AddressPrefix = deref(s.Properties.AddressPrefix)
		}
		n.Subnets = append(n.Subnets, subnet)
	}
	return n
}

// catalog keeps what changes rarely (sizes, networks) for a while, so that
// the create form does not wait on Azure each time it opens.
type catalog struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]catalogEntry
	// changes counts clear and forget: a load begun before one of them
	// may have read Azure before the change, and is not kept.
	changes uint64
	// loads shares a load among the callers that miss the same entry at
	// once: at 100,000 instances the network list is 20 MB (each subnet
	// names every IP configuration in it), and the creates that found it
	// expired together each read it, 8 at a time in the benchmark.
	loads singleflight.Group
}

type catalogEntry struct {
	value   any
	expires time.Time
}

func cached[T any](c *catalog, key string, load func() (T, error)) (T, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	changes := c.changes
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.value.(T), nil
	}
	// Shared only with loads begun since the last change: one begun
	// before it may have read Azure before it.
	led := false
	shared, err, _ := c.loads.Do(key+"\x00"+strconv.FormatUint(changes, 10), func() (any, error) {
		led = true
		return load()
	})
	if err != nil && !led {
		// Another caller's load failed, perhaps because its own request
		// was cancelled: this caller asks for itself.
		shared, err = load()
	}
	v, _ := shared.(T)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changes != changes {
		return v, nil
	}
	if c.entries == nil {
		c.entries = map[string]catalogEntry{}
	}
	c.entries[key] = catalogEntry{value: v, expires: time.Now().Add(c.ttl)}
	return v, nil
}

// clear drops every entry.
func (c *catalog) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	c.changes++
}

// forget drops an entry, so that the next read goes to Azure.
func (c *catalog) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	c.changes++
}

// adjust changes a kept entry in place (change returns the new value; it
// must not modify the old, which callers may hold), keeping its expiry.
// Loads on their way are kept: the caller makes sure none overlaps the
// change it adjusts for (Cloud.vmPuts).
func (c *catalog) adjust(key string, change func(any) any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.entries[key] = catalogEntry{value: change(e.value), expires: e.expires}
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
