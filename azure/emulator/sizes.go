package emulator

import (
	"regexp"
	"strconv"
	"strings"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
)

// osDiskMaxMB is the largest OS disk every size takes, as compute reports it.
const osDiskMaxMB = 1047552

func (e *Emulator) listSizes(location string, _ *armcompute.VirtualMachineSizesClientListOptions) azfake.PagerResponder[armcompute.VirtualMachineSizesClientListResponse] {
	region := normalizeLocation(&location)
	var items []*armcompute.VirtualMachineSize
	var err error
	if _, ok := findRegion(region); !ok {
		err = locationNotAvailable(region, "Microsoft.Compute/locations/vmSizes")
	}
	for _, s := range sizesIn(region) {
		items = append(items, &armcompute.VirtualMachineSize{
			Name:                 to.Ptr(s.Name),
			NumberOfCores:        to.Ptr(int32(s.VCPUs)),
			MemoryInMB:           to.Ptr(int32(s.MemoryGiB * 1024)),
			MaxDataDiskCount:     to.Ptr(int32(s.MaxDataDisks)),
			OSDiskSizeInMB:       to.Ptr[int32](osDiskMaxMB),
			ResourceDiskSizeInMB: to.Ptr(int32(s.TempDiskGiB * 1024)),
		})
	}
	return pager(items, err, len(items)+1, func(v []*armcompute.VirtualMachineSize) armcompute.VirtualMachineSizesClientListResponse {
		return armcompute.VirtualMachineSizesClientListResponse{VirtualMachineSizeListResult: armcompute.VirtualMachineSizeListResult{Value: v}}
	})
}

var locationFilter = regexp.MustCompile(`(?i)location\s+eq\s+'([^']*)'`)

// listSKUs lists one SKU per size and region, as ARM does, or a region's
// only given a filter "location eq 'eastus'".
func (e *Emulator) listSKUs(opts *armcompute.ResourceSKUsClientListOptions) azfake.PagerResponder[armcompute.ResourceSKUsClientListResponse] {
	only := ""
	if opts != nil && opts.Filter != nil {
		if m := locationFilter.FindStringSubmatch(*opts.Filter); m != nil {
			only = normalizeLocation(&m[1])
		}
	}
	var items []*armcompute.ResourceSKU
	for _, r := range regions {
		if only != "" && r.Name != only {
			continue
		}
		for _, s := range sizesIn(r.Name) {
			items = append(items, skuOf(s, r.Name))
		}
	}
	return pager(items, nil, len(items)+1, func(v []*armcompute.ResourceSKU) armcompute.ResourceSKUsClientListResponse {
		return armcompute.ResourceSKUsClientListResponse{ResourceSKUsResult: armcompute.ResourceSKUsResult{Value: v}}
	})
}

func skuOf(s Size, region string) *armcompute.ResourceSKU {
	capabilities := [][2]string{
		{"vCPUs", strconv.Itoa(s.VCPUs)},
		{"MemoryGB", strconv.FormatFloat(s.MemoryGiB, 'f', -1, 64)},
		{"MaxDataDiskCount", strconv.Itoa(s.MaxDataDisks)},
		{"HyperVGenerations", "V1,V2"},
		{"PremiumIO", "True"},
		{"CpuArchitectureType", "x64"},
		// Every size of the catalog supports both, as Azure's Trusted
		// Launch page lists the series and the SKUs report encryption at
		// host for them (its page shows Standard_DS1_v2's).
		{"TrustedLaunchDisabled", "False"},
		{"EncryptionAtHostSupported", "True"},
	}
	if s.GPUs > 0 {
		capabilities = append(capabilities, [2]string{"GPUs", strconv.Itoa(s.GPUs)})
	}
	sku := &armcompute.ResourceSKU{
		ResourceType: to.Ptr("virtualMachines"),
		Name:         to.Ptr(s.Name),
		Tier:         to.Ptr("Standard"),
		Size:         to.Ptr(strings.TrimPrefix(s.Name, "Standard_")),
		Family:       to.Ptr(s.Family),
		Locations:    []*string{to.Ptr(region)},
		LocationInfo: []*armcompute.ResourceSKULocationInfo{{Location: to.Ptr(region), Zones: to.SliceOfPtrs("1", "2", "3")}},
		Restrictions: []*armcompute.ResourceSKURestrictions{},
	}
	for _, c := range capabilities {
		sku.Capabilities = append(sku.Capabilities, &armcompute.ResourceSKUCapabilities{Name: to.Ptr(c[0]), Value: to.Ptr(c[1])})
	}
	return sku
}
